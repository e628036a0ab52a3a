"""Duration trend of the selected job: sparkline of the last 100 runs, median, p95, failures, gaps."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from panda_tui.text import short_duration
from panda_tui.readmodel.snapshot import Trend
from panda_tui.tui.widgets.sparkline_text import sparkline


class TrendBar(Static):
    def show(self, job: str, explain: str, trend: Trend | None) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{job}", style="bold")
        text.append(f"  {explain}\n", style="dim")  # the human reading of the schedule
        if trend is None or not trend.durations:
            text.append("no finished runs yet", style="dim")
            self.update(text)
            return
        width = max(10, min(100, self.size.width - 60)) if self.size.width else 40
        slow = {i for i, run_id in enumerate(trend.ids) if run_id in set(trend.slow)}
        text.append_text(sparkline(list(zip(trend.durations, trend.failed)), width, slow))
        text.append(f"  median {short_duration(trend.median)} · p95 {short_duration(trend.p95)}")
        rate = "–" if trend.failure_rate is None else f"{trend.failure_rate * 100:.0f}%"
        text.append(f" · failed {rate}", style="bold red" if trend.failure_rate else "")
        text.append(f" · missed/24h {trend.missed}", style="bold yellow" if trend.missed else "")
        if trend.expected_every and trend.actual_every:
            gap = trend.actual_every - trend.expected_every
            text.append(f" · every {short_duration(trend.expected_every)} (actual {short_duration(trend.actual_every)}"
                        f"{', off ' + short_duration(abs(gap)) if abs(gap) > 1 else ''})")
        if trend.slow:
            text.append(f" · slow (>2×p95): run {', '.join(map(str, trend.slow[-3:]))}", style="bold yellow")
        self.update(text)
