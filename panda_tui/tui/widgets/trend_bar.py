"""The detail of the selected job: its name, when it last succeeded and its schedule in words; the first
error line of its last failed run when it is in trouble; a sparkline of the last runs with median, p95,
failures, gaps. Figures that do not fit are left out whole, never cut mid-word."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from panda_tui.readmodel.acks import Ack
from panda_tui.readmodel.health import HealthState, JobHealth, missed_words, missing_image_words
from panda_tui.readmodel.snapshot import Trend
from panda_tui.store import log_queries
from panda_tui.store.acking import holds_words
from panda_tui.text import ago, iso, safe, short_duration, when
from panda_tui.tui.header_line import Part, fit
from panda_tui.tui.marks import Marks
from panda_tui.tui.widgets.row_table import cell_key
from panda_tui.tui.widgets.sparkline_text import sparkline

SPARK_MAX = 60
TROUBLE = (HealthState.FAILING, HealthState.FLAPPING, HealthState.RETRYING)  # states that show the error line


class TrendBar(Static):
    def __init__(self, marks: Marks | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.marks = marks or Marks()
        self._shown: tuple | None = None
        self._asked: tuple | None = None  # the last show()'s arguments, drawn again at the new width
        self.lines = 2

    def on_resize(self) -> None:
        """What fits depends on the width: a show() before the layout settled measured another one."""
        if self._asked is not None:
            self.show(*self._asked)

    def show(self, job: str, explain: str, trend: Trend | None, health: JobHealth | None = None,
             now: float | None = None, ack: Ack | None = None) -> None:
        """`ack`: the job's ack, if someone acknowledged it (who, until when, their note)."""
        self._asked = (job, explain, trend, health, now, ack)
        width = self.size.width - 2 if self.size.width else 78
        text = self._head(job, explain, health, now, width, ack)
        error = self.error_line(health)
        if error:
            error.truncate(width, overflow="ellipsis")  # one line: the whole of it is one key away (enter)
            text.append("\n")
            text.append_text(error)
        if self.lines != (3 if error else 2):
            self.lines = 3 if error else 2
            self.styles.height = self.lines  # a layout pass, only when the error line comes or goes
        text.append("\n")
        if trend is None or not trend.durations:
            self._put(text.append("no finished runs yet"))
            return
        figures = self._figures(trend, health)
        room = width - sum(len(p.long) + 3 for p in figures)
        spark_width = max(10, min(SPARK_MAX, room, len(trend.durations)))
        slow = {i for i, run_id in enumerate(trend.ids) if run_id in set(trend.slow)}
        text.append_text(sparkline(list(zip(trend.durations, trend.statuses)), spark_width, slow, marks=self.marks))
        for words, style in fit(figures, width - spark_width):
            text.append(self.marks.sep, style="dim")
            text.append(words, style=style)
        self._put(text)

    def _head(self, job: str, explain: str, health: JobHealth | None, now: float | None, width: int,
              ack: Ack | None = None) -> Text:
        """`db-backup · last ok 3h ago · Every 15 minutes (UTC)`: the schedule gives way
        first. Each separator ends the part before it, so no part starts with a blank (an SVG of the screen
        drew `db-backupEvery`)."""
        parts = [Part(safe(job), safe(job), "bold")]
        if health is not None and now is not None:
            ok = health.last_success_at
            words = f"last ok {ago(now - ok)} ago" if ok is not None else "never succeeded"
            style = "" if ok is not None and health.state not in TROUBLE else self.marks.style("failing")
            parts.append(Part(words, words, style))  # one phrasing at every width: `last ok 15s ago`
            if health.state is HealthState.FLAPPING:  # the row says only `flapping`: how much, here (unless
                # an ack needs the room: the row, the sparkline and `fail` still say it flaps)
                parts.append(Part(health.words, health.words, self.marks.style("flapping"), drop=1))
        if health is not None and health.image_missing:  # before its first run fails: `validate` warned
            image = safe(health.image_missing)
            parts.append(Part(safe(missing_image_words(health.image_missing)), f"image {image} missing",
                              self.marks.style("failing")))
        if ack:  # shown before the schedule: someone is on it, until when, and what they said
            parts.append(acked(ack, now, health.missed_acked if health is not None else 0))
        parts.append(Part(explain, explain.split(" (")[0], drop=2))
        text = Text(no_wrap=True, overflow="ellipsis")
        fitted = fit(parts, width)
        for i, (words, style) in enumerate(fitted):
            text.append(words + (self.marks.sep if i < len(fitted) - 1 else ""), style=style)
        text.truncate(width, overflow="ellipsis")
        return text

    def error_line(self, health: JobHealth | None) -> Text | None:
        """The first error line of the last failed run, for a job in trouble: the answer to "why", without
        a key (enter opens that run at its errors)."""
        failure = health.last_failure if health is not None else None
        if failure is None or health is None or not (health.failing or health.state in TROUBLE):
            return None
        m = self.marks
        text = Text(no_wrap=True, overflow="ellipsis")
        where = f"run {failure.run_id}" + (f" line {failure.seq:,}" if failure.seq else "")
        text.append(f"{m.glyph('failed')} {where}: ", style=m.style("failed"))
        text.append(safe(log_queries.readable(failure.line)), style=m.style("stderr") if failure.from_log else "")
        return text

    @property
    def words(self) -> str:
        """What the detail says now, as plain text (for tests and probes)."""
        return self._shown[0] if self._shown else ""

    def _put(self, text: Text) -> None:
        """Repaint only when the words or their styles changed (every read of the store comes here)."""
        key = cell_key(text)
        if key != self._shown:
            self._shown = key
            self.update(text, layout=False)  # two lines, always: no layout pass (it repaints every scrollbar)

    def _figures(self, trend: Trend, health: JobHealth | None = None) -> list[Part]:
        m = self.marks
        rate = m.none if trend.failure_rate is None else f"{trend.failure_rate * 100:.0f}%"
        counted = missed_words(health) if health is not None else str(trend.missed)  # `status`'s MISSED/24H
        median, missed = f"median {short_duration(trend.median)}", f"missed/24h {counted}"  # the job list's words
        open_ = health.missed_open if health is not None else trend.missed
        parts = [Part(median, median),
                 Part(f"p95 {short_duration(trend.p95)}", f"p95 {short_duration(trend.p95)}", drop=1),
                 Part(f"fail {rate}", f"fail {rate}", m.style("failed") if trend.failure_rate else ""),
                 Part(missed, missed, m.style("missed") if open_ else "")]
        if trend.expected_every and trend.actual_every:
            gap = trend.actual_every - trend.expected_every
            off = f", off {short_duration(abs(gap))}" if abs(gap) > 1 else ""
            parts.append(Part(f"every {short_duration(trend.expected_every)} (actual "
                              f"{short_duration(trend.actual_every)}{off})",
                              f"every {short_duration(trend.expected_every)}", drop=2))
        if trend.slow:
            runs = ", ".join(map(str, trend.slow[-3:]))
            parts.append(Part(f"slow (>2{'x' if m.ascii else '×'}p95): run {runs}", f"slow: run {runs}", m.style("slow")))
        return parts


def acked(ack: Ack, now: float | None, missed: int = 0) -> Part:
    """`acked by ann@db1 for 2h (until 04:10:23): disk replaced` (its end as the history writes times; `until its
    next success` without a time: store.acking.holds_words). A note too long for the line ends in `…`."""
    moment = (lambda ts: when(ts, now)) if now is not None else iso
    words = safe(f"acked by {ack.by} {holds_words(ack, missed, moment)}" + (f": {ack.note}" if ack.note else ""))
    return Part(words, words, "bold")
