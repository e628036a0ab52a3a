"""A log line's own level, read from the formats people actually write, before the stream it came on.

Python's logging writes every record to stderr, so "stderr means error" made all 10,000 lines of such a job
errors. A line's level comes first from what it says of itself: JSON (`level`, `severity`, pino's numbers),
logfmt (`level=error`), syslog's `<3>` prefix, glog/klog's `E1202 …`, a level word or a bracketed one near
the start (Python logging, log4j, Rust, nginx, Postgres, Ruby, npm), a compiler's or git's `error:`, and the
first lines of a Python traceback, a Go panic or a Java exception, whose following lines belong to them.
Only a line that carries no level at all takes one from its stream: stderr is an error, stdout is none.

Pure and cheap: it runs once per line as the line is stored (one anchored regex or two for most lines)."""

from __future__ import annotations

import re
from enum import IntEnum


class Level(IntEnum):
    NONE = 0  # the line says nothing of its level, and came on stdout
    DEBUG = 10
    INFO = 20
    WARNING = 30
    ERROR = 40
    CRITICAL = 50


_WORDS: dict[str, Level] = {
    "trace": Level.DEBUG, "debug": Level.DEBUG, "dbug": Level.DEBUG, "dbg": Level.DEBUG, "verbose": Level.DEBUG,
    "info": Level.INFO, "inf": Level.INFO, "information": Level.INFO, "notice": Level.INFO, "log": Level.INFO,
    "note": Level.INFO,
    "warn": Level.WARNING, "warning": Level.WARNING, "wrn": Level.WARNING, "deprecated": Level.WARNING,
    "error": Level.ERROR, "err": Level.ERROR, "eror": Level.ERROR, "fail": Level.ERROR,
    "critical": Level.CRITICAL, "crit": Level.CRITICAL, "fatal": Level.CRITICAL, "panic": Level.CRITICAL,
    "alert": Level.CRITICAL, "emerg": Level.CRITICAL, "emergency": Level.CRITICAL, "severe": Level.CRITICAL,
}
# syslog severities 0..7 (RFC 5424): emerg alert crit err warning notice info debug
_SYSLOG = (Level.CRITICAL, Level.CRITICAL, Level.CRITICAL, Level.ERROR, Level.WARNING, Level.INFO, Level.INFO,
           Level.DEBUG)
_GLOG = {"I": Level.INFO, "W": Level.WARNING, "E": Level.ERROR, "F": Level.CRITICAL}
_RUBY = {"D": Level.DEBUG, "I": Level.INFO, "W": Level.WARNING, "E": Level.ERROR, "F": Level.CRITICAL}

_JSON = re.compile(r'"(?:level|severity|lvl|levelname|log\.level|loglevel)"\s*:\s*(?:"([A-Za-z]+)"|(\d+))')
_LOGFMT = re.compile(r'(?:^|\s)(?:level|lvl|severity)="?([A-Za-z]+)')
_SYSLOG_PREFIX = re.compile(r"<(\d{1,3})>")
_GLOG_PREFIX = re.compile(r"([IWEF])\d{4} \d\d:\d\d:\d\d")
_RUBY_PREFIX = re.compile(r"([DIWEF]), \[")
# A level word as the format writes it: upper case as a word (Python logging, log4j, Postgres, npm `ERR!`),
# or any case inside brackets ([error], [core:warn], <E>). Only near the start, where formats put it: a
# message that mentions "ERROR" late in a line does not make the line an error by itself.
_UPPER = re.compile(r"(TRACE|DEBUG|INFO|NOTICE|LOG|WARNING|WARN|ERROR|ERR|FATAL|CRITICAL|CRIT|PANIC|ALERT|EMERG|"
                    r"SEVERE)(?![A-Za-z0-9_])")  # the word's start is checked by hand: a lookbehind is 3x slower
_BRACKETED = re.compile(r"[\[<(](?:[\w.-]+:)?(trace|debug|info|notice|note|warn|warning|error|err|fatal|critical|"
                        r"crit|panic|alert|emerg)[\]>)]", re.IGNORECASE)
HEAD = 80  # characters in which a level word or bracket counts
# `error: …` at a line's start or after a location (git, rustc `error[E0308]:`, gcc `a.c:3:5: error:`, PHP)
_TOOL = re.compile(r"(?:^|: )(?:PHP )?(fatal error|fatal|parse error|error|warning|panic)(?:\[\w+\])?:",
                   re.IGNORECASE)
_ANY_WORD = re.compile(r"(FATAL|CRITICAL|ERROR|ERR)(?![A-Za-z0-9_])")

# The first line of a multi-line error, and what continues it.
_STARTS = (
    ("Traceback (most recent call last)", "python"),
    ("panic: ", "go"),
    ("fatal error: ", "go"),
    ("Exception in thread ", "java"),
)
_PY_BETWEEN = ("During handling of the above exception", "The above exception was the direct cause")
_GO_FRAME = re.compile(r"(?:goroutine \d+ |created by |exit status |\[signal |[\w./*()\[\]-]+\(.*\)$)")
_PY_END = re.compile(r"[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Failure)\b")
# An exception's own line (Python's last traceback line, Java's first, Node's `Error: …`) is an error.
_EXCEPTION = re.compile(r"[A-Za-z_][\w.$]*(?:Exception|Error)(?::|$)")
# Lines that belong to the record before them (Postgres' DETAIL / HINT / STATEMENT after an ERROR).
_INHERIT = re.compile(r"(?<![A-Za-z0-9_])(?:DETAIL|HINT|STATEMENT|CONTEXT|QUERY|LOCATION):")


def _word(name: str) -> Level | None:
    return _WORDS.get(name.lower())


def _whole_word(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first match of `pattern` that starts a word (not the ERR of XERROR or INFO_2)."""
    at = 0
    while (m := pattern.search(text, at)) is not None:
        start = m.start()
        if start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_"):
            return m
        at = start + 1
    return None


def _may_state(text: str, head: str) -> bool:
    """A cheap test that lets most plain lines skip the regular expressions: could the line state a level?"""
    low = head.lower()
    return ("err" in low or "warn" in low or "info" in low or "debug" in low or "trace" in low or "fatal" in low
            or "crit" in low or "panic" in low or "not" in low or "log" in low or "alert" in low or "emerg" in low
            or "sever" in low or "dbg" in low or "wrn" in low or "inf" in low or "lvl=" in text
            or "ERR" in text or "FATAL" in text or "CRITICAL" in text)


def declared(text: str) -> Level | None:
    """The level a line states itself, or None when it states none."""
    if not text:
        return None
    first = text[0]
    if first == "{":
        if m := _JSON.search(text):
            if m.group(2) is not None:  # pino / bunyan: 10 trace … 60 fatal
                number = int(m.group(2))
                return (Level.CRITICAL if number >= 60 else Level.ERROR if number >= 50 else Level.WARNING
                        if number >= 40 else Level.INFO if number >= 30 else Level.DEBUG)
            return _word(m.group(1))
    elif first == "<":
        if m := _SYSLOG_PREFIX.match(text):
            return _SYSLOG[int(m.group(1)) % 8]
    elif first in "IWEF" and (m := _GLOG_PREFIX.match(text)):
        return _GLOG[m.group(1)]
    if first in "DIWEF" and (m := _RUBY_PREFIX.match(text)):
        return _RUBY[m.group(1)]
    head = text[:HEAD]
    if not _may_state(text, head):
        return None
    if ("level=" in text or "lvl=" in text or "severity=" in text) and (m := _LOGFMT.search(text)):
        if (level := _word(m.group(1))) is not None:
            return level
    upper = _whole_word(_UPPER, head)
    bracket = _BRACKETED.search(head) if ("[" in head or "<" in head or "(" in head) else None
    if upper is not None and (bracket is None or upper.start() < bracket.start()):
        return _word(upper.group(1))
    if bracket is not None:
        return _word(bracket.group(1))
    if m := _TOOL.search(head):
        return Level.CRITICAL if m.group(1).lower().startswith(("fatal", "panic")) else _word(m.group(1).split()[-1])
    if m := _whole_word(_ANY_WORD, text):
        return _word(m.group(1))
    return None


class LevelReader:
    """Reads the levels of one run's lines in order. Keeps, per stream, the multi-line error under way
    (a traceback's frames and final line, a panic's goroutines, a Java trace's `at` and `Caused by:` lines)
    and the level of the last line, which an indented continuation line inherits."""

    def __init__(self) -> None:
        self._last: dict[str, Level] = {}
        self._block: dict[str, tuple[str, Level]] = {}  # stream → the multi-line error it is in, its level

    def read(self, stream: str, text: str) -> Level:
        level = self._level(stream, text)
        self._last[stream] = level
        return level

    def _level(self, stream: str, text: str) -> Level:
        if stream == "sys":
            return _system(text)
        continued = text[:1] in (" ", "\t")
        if (block := self._block.get(stream)) is not None:
            kind, level = block
            if continued or text == "" or _continues(kind, text):
                return level
            del self._block[stream]
            if kind == "python" and _PY_END.match(text):
                return level  # ValueError: … ends the traceback
        if text[:1] in "TpfE":
            for start, kind in _STARTS:
                if text.startswith(start):
                    level = Level.CRITICAL if kind == "go" else Level.ERROR
                    self._block[stream] = (kind, level)
                    return level
        last = self._last.get(stream, Level.NONE)
        if last >= Level.WARNING and (continued or (":" in text and _INHERIT.search(text[:HEAD]))):
            return last  # a multi-line record goes on
        if ("Error" in text or "Exception" in text) and _EXCEPTION.match(text):
            return Level.ERROR
        found = declared(text)
        if found is not None:
            return found
        return Level.ERROR if stream == "err" else Level.NONE


_SYS_ERROR = ("[panda] failed", "[panda] timed out", "[panda] timed_out", "[panda] lost")
_SYS_WARNING = ("[panda] killed", "[panda] log cap", "[panda] the log stream", "[panda] scheduler restarted")


def _system(text: str) -> Level:
    """panda-tui's own notes: why a run ended badly is an error; lines that may be missing, a warning."""
    if text.startswith(_SYS_ERROR):
        return Level.ERROR
    if text.startswith(_SYS_WARNING) or "lines were not stored" in text or "dropped" in text:
        return Level.WARNING
    return Level.INFO


def _continues(block: str, text: str) -> bool:
    if block == "java":
        return text.startswith(("Caused by:", "Suppressed:", "..."))
    if block == "go":
        return bool(_GO_FRAME.match(text))
    return text.startswith(_PY_BETWEEN) or text.startswith("Traceback (most recent call last)")


def level_of(stream: str, text: str) -> Level:
    """One line alone (no multi-line context): its stated level, else its stream's."""
    return LevelReader().read(stream, text)
