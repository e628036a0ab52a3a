"""A one-line duration sparkline as text, where failed runs stand out by glyph as well as colour."""

from __future__ import annotations

from rich.text import Text

from panda_tui.tui.marks import Marks


def sparkline(durations: list[tuple[float, bool]], width: int = 30, marked: set[int] | None = None,
              marks: Marks | None = None) -> Text:
    """durations: (seconds, failed) oldest first; the newest `width` are drawn.
    `marked`: indices into `durations` to draw as slow."""
    m = marks or Marks()
    points = durations[-width:]
    offset = len(durations) - len(points)
    text = Text(no_wrap=True)
    if not points:
        return text.append(m.none)
    bars = m.bars
    top = max(d for d, _ in points) or 1.0
    for index, (seconds, failed) in enumerate(points):
        if failed:
            text.append(m.failed_bar, style=m.style("spark_failed"))
        else:
            level = min(len(bars) - 1, int(seconds / top * (len(bars) - 1) + 0.5))
            slow = marked is not None and index + offset in marked
            text.append(bars[level], style=m.style("slow") if slow else m.style("spark_ok"))
    return text
