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


def iso(ts: float) -> str:
    """An instant as ISO 8601 UTC to the second: 2026-06-01T12:00:00Z."""
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# One mark per word, for run statuses, job states and alert events alike: status is always a glyph and a
# word, never colour alone. The ASCII marks stand in where the terminal cannot show the others.
GLYPHS = {
    "succeeded": "✓", "ok": "✓", "recovered": "✓", "failed": "✗", "failing": "✗", "timed_out": "⏱",
    "killed": "☠", "lost": "?", "missed": "!", "skipped": "↷", "running": "▶", "started": "▶", "queued": "…",
    "paused": "‖", "disabled": "–", "new": "·", "flapping": "≈", "retrying": "↻", "external": "⇄", "slow": "🐢", "fast": "⚡", "test": "🔔",
}
ASCII_GLYPHS = {
    "succeeded": "+", "ok": "+", "recovered": "+", "failed": "X", "failing": "X", "timed_out": "T",
    "killed": "K", "lost": "?", "missed": "!", "skipped": ">", "running": "*", "started": "*", "queued": ".",
    "paused": "=", "disabled": "-", "new": ".", "flapping": "~", "retrying": "R", "external": "e", "slow": "S", "fast": "F", "test": "#",
}


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
