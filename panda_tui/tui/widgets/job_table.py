"""The job list: health at a glance, most urgent first."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from panda_tui.readmodel.health import JobHealth
from panda_tui.text import ago, safe, short_duration
from panda_tui.tui.widgets.sparkline_text import sparkline

STATE_STYLE = {"failing": "bold red", "running": "bold cyan", "missed": "bold yellow", "paused": "magenta",
               "disabled": "dim", "ok": "green", "new": "dim"}
ALL_COLUMNS = {"STATUS": 10, "JOB": 16, "SCHEDULE": 14, "NEXT": 7, "LAST": 12, "OK%": 4, "MEDIAN": 6, "TREND": None}
NARROW = 100  # below this width the schedule moves to the detail line


class JobTable(DataTable):
    """Rows keyed by job name; the cursor stays on its job across refreshes."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False
        self.columns_for: int | None = None
        self.filter_text = ""
        self._rows: list[JobHealth] = []
        self._shown: list[str] = []

    @property
    def selected(self) -> str | None:
        if not self._shown or self.cursor_row < 0 or self.cursor_row >= len(self._shown):
            return None
        return self._shown[self.cursor_row]

    def show(self, healths: list[JobHealth], now: float, schedules: dict[str, str]) -> None:
        self._rows = healths
        current = self.selected
        visible = [h for h in healths if self.filter_text.lower() in h.name.lower()]
        names = [h.name for h in visible]
        if names != self._shown or self.size.width != self.columns_for:
            self._layout()
            for h in visible:
                self.add_row(*self._cells(h, now, schedules), key=h.name)
            self._shown = names
            self.styles.height = min(len(names), 12) + 2
            if current in names:
                self.move_cursor(row=names.index(current), animate=False)
        else:
            for h in visible:
                for column, cell in zip(self.shown_columns, self._cells(h, now, schedules)):
                    self.update_cell(h.name, column, cell)

    def refilter(self, text: str, now: float, schedules: dict[str, str]) -> None:
        self.filter_text = text
        self._shown = []
        self.show(self._rows, now, schedules)

    def health(self, name: str | None) -> JobHealth | None:
        return next((h for h in self._rows if h.name == name), None)

    @property
    def shown_columns(self) -> list[str]:
        narrow = (self.size.width or 80) < NARROW
        return [c for c in ALL_COLUMNS if not (narrow and c == "SCHEDULE")]

    @property
    def spark_width(self) -> int:
        used = sum(ALL_COLUMNS[c] or 0 for c in self.shown_columns) + 2 * len(self.shown_columns) + 2
        return max(5, min(30, (self.size.width or 80) - used))

    def _layout(self) -> None:
        """(Re)build the columns for the current width."""
        self.clear(columns=True)
        for column in self.shown_columns:
            self.add_column(column, key=column, width=ALL_COLUMNS[column] or self.spark_width)
        self.columns_for = self.size.width

    def _cells(self, h: JobHealth, now: float, schedules: dict[str, str]) -> tuple:
        status = Text(f"{h.glyph} {h.state}", style=STATE_STYLE[h.state])
        if h.next_at is None:
            nxt = "–"
        elif h.paused:
            nxt = "paused"
        else:
            nxt = "now" if h.next_at - now < 1 else f"in {ago(h.next_at - now)}"
        if h.last is None:
            last = Text("never", style="dim")
        else:
            age = ago(now - (h.last.finished_at or h.last.started_at or h.last.queued_at or now))
            word = {"succeeded": "ok", "timed_out": "timeout"}.get(h.last.status, h.last.status)
            last = Text(f"{word} {age}", style=STATE_STYLE.get(
                {"succeeded": "ok", "running": "running", "queued": "running", "skipped": "paused",
                 "missed": "missed"}.get(h.last.status, "failing"), ""))
        rate = "–" if h.success_rate is None else f"{h.success_rate * 100:.0f}%"
        cells = {"STATUS": status, "JOB": Text(safe(h.name), no_wrap=True, overflow="ellipsis"),
                 "SCHEDULE": Text(safe(schedules.get(h.name, "")), no_wrap=True, overflow="ellipsis"),
                 "NEXT": nxt, "LAST": last, "OK%": rate, "MEDIAN": short_duration(h.median_s),
                 "TREND": sparkline(h.durations, self.spark_width)}
        return tuple(cells[c] for c in self.shown_columns)
