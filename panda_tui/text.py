"""Text shown to a person: control characters made visible, never interpreted by a terminal."""

from __future__ import annotations

import re

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
