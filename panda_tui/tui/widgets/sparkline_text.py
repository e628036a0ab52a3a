"""A one-line duration sparkline as text, where failed runs stand out by glyph and colour."""

from __future__ import annotations

from rich.text import Text

BARS = "▁▂▃▄▅▆▇█"
FAILED = "×"


def sparkline(durations: list[tuple[float, bool]], width: int = 30, marked: set[int] | None = None) -> Text:
    """durations: (seconds, failed) oldest first; the newest `width` are drawn.
    `marked`: indices into `durations` to draw as slow."""
    points = durations[-width:]
    offset = len(durations) - len(points)
    text = Text(no_wrap=True)
    if not points:
        return text.append("–", style="dim")
    top = max(d for d, _ in points) or 1.0
    for index, (seconds, failed) in enumerate(points):
        if failed:
            text.append(FAILED, style="bold red")
        else:
            level = min(len(BARS) - 1, int(seconds / top * (len(BARS) - 1) + 0.5))
            slow = marked is not None and index + offset in marked
            text.append(BARS[level], style="bold yellow" if slow else "green")
    return text
