"""The ledger of the selected job, newest first: holes in the schedule show as missed/skipped rows."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import DataTable

from panda_tui.store.ledger import Run
from panda_tui.text import glyph, safe, short_duration

STATUS_STYLE = {"succeeded": "green", "failed": "bold red", "timed_out": "bold red", "killed": "red",
                "lost": "bold red", "missed": "bold yellow", "skipped": "yellow", "running": "bold cyan",
                "queued": "cyan"}
# What a half-awake reader needs first comes first; the rest scrolls into view at 80 columns.
COLUMNS = ("RUN", "SCHEDULED", "STATUS", "EXIT", "DURATION", "REASON", "LATE", "TRY", "TRIGGER", "STARTED")
WIDTHS = (5, 11, 11, 4, 8, 21, 5, 3, 8, 8)


def clock(ts: float | None, with_date: bool = False) -> str:
    if ts is None:
        return "–"
    moment = datetime.fromtimestamp(ts).astimezone()
    return moment.strftime("%m-%d %H:%M" if with_date else "%H:%M:%S")


class HistoryTable(DataTable):
    def on_mount(self) -> None:
        self.cursor_type = "row"
        for column, width in zip(COLUMNS, WIDTHS):
            self.add_column(column, key=column, width=width)
        self._ids: list[int] = []
        self._slow: set[int] = set()

    @property
    def selected(self) -> int | None:
        if not self._ids or not 0 <= self.cursor_row < len(self._ids):
            return None
        return self._ids[self.cursor_row]

    def show(self, rows: list[Run], slow: set[int] | None = None) -> None:
        current = self.selected
        self._slow = slow or set()
        ids = [r.id for r in rows]
        if ids != self._ids:
            self.clear()
            for run in rows:
                self.add_row(*self._cells(run), key=str(run.id))
            self._ids = ids
            if current in ids:
                self.move_cursor(row=ids.index(current), animate=False)
        else:
            for run in rows:
                for column, cell in zip(COLUMNS, self._cells(run)):
                    self.update_cell(str(run.id), column, cell)

    def _cells(self, r: Run) -> tuple:
        late = "–" if r.lateness is None else short_duration(max(0.0, r.lateness))
        status = Text(f"{glyph(r.status)} {r.status}", style=STATUS_STYLE.get(r.status, ""))
        duration = short_duration(r.duration_s)
        if r.id in self._slow:
            duration = Text(f"{duration} slow", style="bold yellow")
        return (str(r.id), clock(r.scheduled_at, True), status, "–" if r.exit_code is None else str(r.exit_code),
                duration, Text(safe(r.reason or ""), no_wrap=True, overflow="ellipsis"), late, str(r.attempt),
                r.trigger, clock(r.started_at))
