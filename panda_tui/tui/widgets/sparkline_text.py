"""A one-line duration sparkline as text, where failed and killed runs stand out by their glyphs (the
history's: ✗ a failure, ⊘ a kill on purpose) as well as colour."""

from __future__ import annotations

from rich.text import Text

from panda_tui.store.ledger import RunStatus
from panda_tui.store.verdicts import FAILURES
from panda_tui.tui.marks import Marks


def sparkline(durations: list[tuple[float, str]], width: int = 30, marked: set[int] | None = None,
              marks: Marks | None = None) -> Text:
    """durations: (seconds, run status) oldest first; the newest `width` are drawn.
    `marked`: indices into `durations` to draw as slow."""
    m = marks or Marks()
    points = durations[-width:]
    offset = len(durations) - len(points)
    text = Text(no_wrap=True)
    if not points:
        return text.append(m.none)
    bars = m.bars
    top = max(d for d, _ in points) or 1.0
    for index, (seconds, status) in enumerate(points):
        if status in FAILURES:
            text.append(m.glyph("failed"), style=m.style("spark_failed"))
        elif status == RunStatus.KILLED:
            text.append(m.glyph("killed"), style=m.style("killed"))
        else:
            level = min(len(bars) - 1, int(seconds / top * (len(bars) - 1) + 0.5))
            slow = marked is not None and index + offset in marked
            text.append(bars[level], style=m.style("slow") if slow else m.style("spark_ok"))
    return text
