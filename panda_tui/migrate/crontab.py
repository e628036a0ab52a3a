"""Read a crontab the way Debian's cron reads it: comments, environment settings, and entries.

Environment lines follow cron's own test (`sscanf("%[^ =] = %[^\\n#]")`): a name without blanks or "=",
then "=", then a value that stops at "#" and loses trailing blanks, and one pair of matching quotes.
An entry is five time fields or an @keyword, a user name in the system format, and the command. In the
command, "\\%" is a literal "%", "\\\\" a backslash, and the first unescaped "%" ends it: the rest, with
"%" as newlines, is the command's standard input (with a final newline), as crontab(5) says.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from panda_tui.migrate.cronfields import Field, FieldError, parse_fields

KEYWORDS = {"yearly": "@yearly", "annually": "@annually", "monthly": "@monthly", "weekly": "@weekly",
            "daily": "@daily", "midnight": "@midnight", "hourly": "@hourly"}
_ENV = re.compile(r"([^ =]+)\s*=\s*([^\n#]+)")
_BLANKS = " \t"
_SEARCHED = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Setting:
    number: int
    text: str
    name: str
    value: str


@dataclass(frozen=True)
class Entry:
    number: int
    text: str
    schedule: str  # the 5 fields or the @keyword, as cron reads them, for cronsim
    fields: list[Field] | None  # None for an @keyword
    user: str | None  # the system format's user field
    command: str  # after cron's escapes, up to the first unescaped "%"
    stdin: str | None  # what cron feeds the command, or None when the line has no "%"


@dataclass(frozen=True)
class Refused:
    """A line cron refuses (or, for @reboot, one with no panda-tui equivalent), and why."""
    number: int
    text: str
    reason: str


Item = Setting | Entry | Refused


def parse(text: str, system: bool = False) -> list[Item]:
    items: list[Item] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.lstrip(_BLANKS)
        if not line or line.startswith("#") or not line.strip():
            continue
        items.append(parse_line(number, raw, system))
    return items


def parse_line(number: int, raw: str, system: bool = False) -> Item:
    line = raw.lstrip(_BLANKS)
    if "\x00" in line:
        return Refused(number, raw, "the line holds a NUL byte, which cron cuts it at and no command or "
                                    "environment can hold: remove it")
    env = _ENV.match(line)
    if env and "\t" in env.group(1):
        return Refused(number, raw, "cron reads this line as an environment setting, because it has no space "
                                    "before its first \"=\" (only tabs): separate the fields with spaces")
    if env:
        value = env.group(2).rstrip()
        if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
            value = value[1:-1]
        return Setting(number, raw, env.group(1), value)
    try:
        return _entry(number, raw, line, system)
    except FieldError as exc:
        return Refused(number, raw, str(exc))


def _entry(number: int, raw: str, line: str, system: bool) -> Entry | Refused:
    fields: list[Field] | None = None
    if line.startswith("@"):
        word, rest = _word(line)
        keyword = word[1:]
        if keyword == "reboot":
            return Refused(number, raw, "@reboot has no equivalent in panda-tui (it runs jobs on a schedule, "
                                        "not at boot): use a systemd unit, or keep this line in cron")
        if keyword not in KEYWORDS:
            return Refused(number, raw, f"unknown {word!r} (cron knows @reboot, @yearly, @annually, @monthly, "
                                        "@weekly, @daily, @midnight and @hourly, in lower case)")
        schedule = KEYWORDS[keyword]
    else:
        texts, rest = [], line
        for _ in range(5):
            word, rest = _word(rest)
            texts.append(word)
        if not rest.strip(_BLANKS):
            return Refused(number, raw, "expected five time fields" + (", a user" if system else "")
                           + " and a command")
        fields = parse_fields(texts)
        schedule = " ".join(f.expression() for f in fields)
    user = None
    if system:
        user, rest = _word(rest)
        if not user or not rest.strip(_BLANKS):
            return Refused(number, raw, "expected a user and a command after the schedule (system crontab format)")
    command_part = rest.lstrip(_BLANKS)
    if not command_part.strip():
        return Refused(number, raw, "expected a command after " + ("the user" if system else "the schedule"))
    command, stdin = split_percent(command_part)
    if not command.strip():
        return Refused(number, raw, "no command before the first % (cron would run an empty command)")
    return Entry(number, raw, schedule, fields, user, command, stdin)


def system_path(path: str) -> bool:
    """/etc/crontab and /etc/cron.d/* are in the system format, always."""
    path = os.path.abspath(path)
    return path == "/etc/crontab" or os.path.dirname(path) == "/etc/cron.d"


def user_fields(entries: list[Entry], is_account: Callable[[str], bool]) -> list[Entry]:
    """The entries of a user crontab that read like system ones: the command starts with an account name
    (`root cd / && run-parts …`) that is no program, and goes on. Said when they are most of the file."""
    found = []
    for entry in entries:
        word, rest = _word(entry.command)
        if rest.strip() and "/" not in word and is_account(word) and not shutil.which(word, path=_SEARCHED):
            found.append(entry)
    return found if 2 * len(found) > len(entries) else []


def _word(text: str) -> tuple[str, str]:
    text = text.lstrip(_BLANKS)
    end = 0
    while end < len(text) and text[end] not in _BLANKS:
        end += 1
    return text[:end], text[end:]


def split_percent(command: str) -> tuple[str, str | None]:
    """(command, stdin) as cron's child process makes them (do_command.c)."""
    if "%" not in command and "\\" not in command:
        return command, None
    out: list[str] = []
    escaped = False
    for i, ch in enumerate(command):
        if escaped:
            if ch in "%\\":
                out[-1] = ch  # the backslash goes
            else:
                out.append(ch)
            escaped = False
        elif ch == "\\":
            out.append(ch)
            escaped = True
        elif ch == "%":
            return "".join(out), _input(command[i + 1:])
        else:
            out.append(ch)
    return "".join(out), None


def open_at_end(command: str) -> str | None:
    """What a command cut at a "%" is still inside at its end ("double quotes", "$( )"), or None.

    `echo "50% done"` is cut to `echo "50` by cron: a shell syntax error, not what was meant."""
    stack: list[str] = []
    i = 0
    while i < len(command):
        ch, top = command[i], (stack[-1] if stack else "")
        if top == "'":
            if ch == "'":
                stack.pop()
        elif ch == "\\":
            i += 1
        elif ch == "$" and command[i + 1:i + 2] == "(":
            stack.append("$(")
            i += 1
        elif top == '"' and ch == '"':
            stack.pop()
        elif top == '"':
            if ch == "`":
                stack.append(ch)
        elif ch == "`" and top == "`" or ch == ")" and top == "$(":
            stack.pop()
        elif ch == "(" and top == "$(":
            stack.append("$(")
        elif ch in "'\"`":
            stack.append(ch)
        i += 1
    names = {"'": "single quotes", '"': "double quotes", "`": "backquotes", "$(": "$( )"}
    return names[stack[-1]] if stack else None


def _input(data: str) -> str:
    """After the first "%": "%" becomes a newline, "\\%" a "%", and a final newline is added if missing."""
    out: list[str] = []
    escaped = False
    for ch in data:
        if escaped:
            if ch != "%":
                out.append("\\")
        elif ch == "%":
            ch = "\n"
        escaped = ch == "\\"
        if not escaped:
            out.append(ch)
    if escaped:
        out.append("\\")
    text = "".join(out)
    return text + "\n" if text and not text.endswith("\n") else text
