"""Values written into a systemd unit as systemd reads them (systemd.syntax(7), systemd.service(5)).

A word with a blank, a quote or a backslash is double-quoted, its backslashes and double quotes escaped (C-style
escapes apply in and out of quotes); "%" starts a specifier everywhere, so it is written "%%"; in a command line
"$" starts a variable, so it is written "$$", and a lone ";" separates commands. No value may carry a line break
or another control character: a line break would end the setting and start another, so it is refused."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NEEDS_QUOTES = re.compile(r"[\s\"'\\]")


class UnitValueError(ValueError):
    """A value no unit can hold; the message names it, one line."""


def _checked(value: str, what: str) -> str:
    found = _CONTROL.search(value)
    if found:
        kind = "a line break" if found.group() in "\n\r" else f"a control character ({found.group()!r})"
        raise UnitValueError(f"{what}: {value!r} holds {kind}, which no systemd unit setting can carry")
    return value


def _quoted(value: str) -> str:
    if value and not _NEEDS_QUOTES.search(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def command_word(value: str, what: str) -> str:
    """One word of ExecStart= (the program or an argument)."""
    word = _quoted(_checked(value, what)).replace("%", "%%").replace("$", "$$")
    return "\\;" if word == ";" else word


def command_line(words: list[str], what: str) -> str:
    return " ".join(command_word(word, what) for word in words)


def path_word(value: str, what: str) -> str:
    """One path of a list such as ReadWritePaths= (quoted as a word; "$" is no variable there)."""
    return _quoted(_checked(value, what)).replace("%", "%%")


def plain(value: str, what: str) -> str:
    """A single-word value such as User=, which systemd does not unquote: blanks and quotes are refused."""
    if _NEEDS_QUOTES.search(_checked(value, what)) or not value:
        raise UnitValueError(f"{what}: {value!r} is not a name systemd accepts (no blanks or quotes)")
    return value.replace("%", "%%")


def comment(value: str, what: str) -> str:
    """A value shown in a comment: only checked (a line break would let it out of the comment)."""
    return _checked(value, what)
