"""Duration trend of the selected job: its schedule in words, a sparkline of the last runs, median, p95,
failures, gaps. Figures that do not fit are left out whole, never cut mid-word."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from panda_tui.readmodel.snapshot import Trend
from panda_tui.text import safe, short_duration
from panda_tui.tui.header_line import Part, fit
from panda_tui.tui.marks import Marks
from panda_tui.tui.widgets.row_table import cell_key
from panda_tui.tui.widgets.sparkline_text import sparkline

SPARK_MAX = 60


class TrendBar(Static):
    def __init__(self, marks: Marks | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.marks = marks or Marks()
        self._shown: tuple | None = None

    def show(self, job: str, explain: str, trend: Trend | None) -> None:
        width = self.size.width - 2 if self.size.width else 78
        title = fit([Part(safe(job), safe(job)), Part(explain, explain.split(" (")[0], drop=1)], width)
        text = Text(no_wrap=True, overflow="crop")
        text.append(title[0][0], style="bold")
        if len(title) > 1:
            text.append(f"  {title[1][0]}")  # the human reading of the schedule
        text.append("\n")
        if trend is None or not trend.durations:
            self._put(text.append("no finished runs yet"))
            return
        figures = self._figures(trend)
        room = width - sum(len(p.long) + 3 for p in figures)
        spark_width = max(10, min(SPARK_MAX, room, len(trend.durations)))
        slow = {i for i, run_id in enumerate(trend.ids) if run_id in set(trend.slow)}
        text.append_text(sparkline(list(zip(trend.durations, trend.failed)), spark_width, slow, marks=self.marks))
        for words, style in fit(figures, width - spark_width):
            text.append(self.marks.sep, style="dim")
            text.append(words, style=style)
        self._put(text)

    def _put(self, text: Text) -> None:
        """Repaint only when the words or their styles changed (every read of the store comes here)."""
        key = cell_key(text)
        if key != self._shown:
            self._shown = key
            self.update(text, layout=False)  # two lines, always: no layout pass (it repaints every scrollbar)

    def _figures(self, trend: Trend) -> list[Part]:
        m = self.marks
        rate = m.none if trend.failure_rate is None else f"{trend.failure_rate * 100:.0f}%"
        parts = [Part(f"median {short_duration(trend.median)}", f"med {short_duration(trend.median)}"),
                 Part(f"p95 {short_duration(trend.p95)}", f"p95 {short_duration(trend.p95)}", drop=1),
                 Part(f"failed {rate}", f"fail {rate}", m.style("failed") if trend.failure_rate else ""),
                 Part(f"missed/24h {trend.missed}", f"miss {trend.missed}", m.style("missed") if trend.missed else "")]
        if trend.expected_every and trend.actual_every:
            gap = trend.actual_every - trend.expected_every
            off = f", off {short_duration(abs(gap))}" if abs(gap) > 1 else ""
            parts.append(Part(f"every {short_duration(trend.expected_every)} (actual "
                              f"{short_duration(trend.actual_every)}{off})",
                              f"every {short_duration(trend.expected_every)}", drop=2))
        if trend.slow:
            runs = ", ".join(map(str, trend.slow[-3:]))
            parts.append(Part(f"slow (>2{'x' if m.ascii else '×'}p95): run {runs}", f"slow: {runs}", m.style("slow")))
        return parts
