"""Text shown to a person: control characters made visible, never interpreted by a terminal."""

from __future__ import annotations

import re
from datetime import datetime, timezone

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe(text: object) -> str:
    """Control characters (ESC included) shown as escapes like \\x1b; tabs become spaces."""
    value = str(text).replace("\t", "    ")
    if not _CONTROL.search(value):
        return value
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), value)


def ago(seconds: float) -> str:
    """12 -> "12s", 4000 -> "1h"."""
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def short_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    return ago(seconds) + (f"{int(seconds % 60)}s" if seconds < 3600 and seconds % 60 >= 1 else "")


def late(seconds: float | None, none: str = "") -> str:
    """How late a run started, as the console's LATE and `executions`' LATE both write it: `5ms`, `1.2s`,
    `3m` (a start a clock step put before its due time is not early: `0ms`)."""
    return none if seconds is None else short_duration(max(0.0, seconds))


def iso(ts: float, ms: bool = False) -> str:
    """An instant as ISO 8601 UTC to the second (`ms`: to the millisecond): 2026-06-01T12:00:00Z."""
    spec = "milliseconds" if ms else "seconds"
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec=spec).replace("+00:00", "Z")


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def when(ts: float, now: float) -> str:
    """An instant as a person reads it beside others, in local time, the one rule of the console's history
    and `executions`' table: today `16:45:40`, another day of this year `Dec 01 16:45`, another year
    `Dec 01 2025`. Month names are English whatever the locale, so a table's width never changes."""
    moment, today = datetime.fromtimestamp(ts).astimezone(), datetime.fromtimestamp(now).astimezone()
    day = f"{_MONTHS[moment.month - 1]} {moment.day:02d}"
    if moment.date() == today.date():
        return moment.strftime("%H:%M:%S")
    if moment.year == today.year:
        return f"{day} {moment:%H:%M}"
    return f"{day} {moment.year}"


def span(start: float, end: float, now: float, known: float | None = None) -> str:
    """A stretch of time as a table reads it, by when()'s rule but to the minute and with its day said once:
    `01:10–03:00` today (or on the day of `known`, which its row already says), `Dec 01 22:10–23:40` another
    day, `Dec 01 23:10–Dec 02 03:00` across midnight (today too, then). A stretch under a minute: to the second,
    as when() says today's times (`03:59:10–03:59:25`, not `03:59–03:59`; `03:59:50–04:00:00`, not `03:59–04:00`)."""
    first, last = datetime.fromtimestamp(start).astimezone(), datetime.fromtimestamp(end).astimezone()
    today = datetime.fromtimestamp(now).astimezone().date()
    said = datetime.fromtimestamp(now if known is None else known).astimezone().date()
    one_day = first.date() == last.date()

    def day(moment: datetime) -> str:
        year = "" if moment.year == today.year else f" {moment.year}"
        return "" if one_day and moment.date() == said else f"{_MONTHS[moment.month - 1]} {moment.day:02d}{year} "
    clock = "%H:%M:%S" if end - start < 60 else "%H:%M"
    return f"{day(first)}{first:{clock}}–{'' if one_day else day(last)}{last:{clock}}"


_ISO_SPAN = re.compile(r"from (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) to (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)")


def short_spans(reason: str, now: float, known: float | None = None) -> str:
    """A stored reason as a table reads it (the console's history, `executions`): its ISO 8601 stretch
    (`scheduler down from 2026-12-02T01:10:00Z to 2026-12-02T03:00:00Z; …`) short, so the reason and its time
    come before a narrow column's edge: `scheduler down 01:10–03:00; …`. `known`: the row's own time, whose
    day the row says already (its SCHEDULED)."""
    def short(match: re.Match) -> str:
        start, end = (datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() for t in match.groups())
        return span(start, end, now, known)
    return _ISO_SPAN.sub(short, reason)


def reason_head(reason: str) -> str:
    """A stored reason's gist, its time left out (the line around it says when): `scheduler down from … to …;
    catchup = none` reads `scheduler down`."""
    return " ".join(_ISO_SPAN.sub("", reason).split(";")[0].split())


# How a run's status reads wherever a person reads it (console, `status`, `executions`, alert texts): one
# word each. The stored values, and so every JSON output, stay as the ledger has them (README).
STATUS_WORDS = {"timed_out": "timeout"}
SHORT_WORDS = {"succeeded": "ok"}  # where a column is narrow (the console's history and LAST), as a job's state


def status_word(status: object, short: bool = False) -> str:
    """`timed_out` -> `timeout` (`short`: also `succeeded` -> `ok`); every other status as it is."""
    word = str(status)
    return (short and SHORT_WORDS.get(word)) or STATUS_WORDS.get(word, word)


# One mark per word, for run statuses, job states and alert events alike: status is always a glyph and a
# word, never colour alone. The ASCII marks stand in where the terminal cannot show the others.
GLYPHS = {
    "succeeded": "✓", "ok": "✓", "recovered": "✓", "failed": "✗", "failing": "✗", "timed_out": "⏱",
    "killed": "⊘", "lost": "?", "missed": "!", "skipped": "↷", "running": "▶", "started": "▶", "queued": "…",
    "paused": "‖", "disabled": "–", "new": "·", "flapping": "≈", "retrying": "↻", "external": "⇄", "slow": "🐢", "fast": "⚡", "test": "🔔",
}
ASCII_GLYPHS = {
    "succeeded": "+", "ok": "+", "recovered": "+", "failed": "X", "failing": "X", "timed_out": "T",
    "killed": "K", "lost": "?", "missed": "!", "skipped": ">", "running": "*", "started": "*", "queued": ".",
    "paused": "=", "disabled": "-", "new": ".", "flapping": "~", "retrying": "R", "external": "e", "slow": "S", "fast": "F", "test": "#",
}


def said_once(word: str, reason: str | None) -> tuple[str, str | None]:
    """A run's status word and its reason, the word left out where the reason begins with it: `killed on
    request`, not `killed: killed on request`. Returns (word, reason), or (reason, None)."""
    if reason and reason.split(" ", 1)[0] == word:
        return reason, None
    return word, reason or None


def glyph(word: str, ascii_only: bool = False) -> str:
    return (ASCII_GLYPHS if ascii_only else GLYPHS).get(str(word), "*" if ascii_only else "•")


def char_boundary(data: bytes, cut: int) -> int:
    """`cut` moved back to the start of the UTF-8 character it falls in, so no character is split."""
    while 0 < cut < len(data) and (data[cut] & 0xC0) == 0x80:
        cut -= 1
    return cut


def coarse_ago(seconds: float) -> str:
    """Like ago(), but under a minute it says "<1m": a table of ages then changes once a minute, not every
    second (what a slow SSH link carries)."""
    return "<1m" if seconds < 60 else ago(seconds)
