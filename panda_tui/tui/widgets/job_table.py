"""The job list: health at a glance, most urgent first. The cursor stays on its job whatever the order."""

from __future__ import annotations

from rich.text import Text

from panda_tui.readmodel.health import REMOVED, HealthState, JobHealth, next_word, row_words
from panda_tui.store.ledger import RunStatus
from panda_tui.text import coarse_ago, safe, short_duration, status_word
from panda_tui.tui.marks import Marks
from panda_tui.tui.widgets.row_table import RowTable
from panda_tui.tui.widgets.sparkline_text import sparkline

ALL_COLUMNS = {"STATUS": 10, "JOB": 16, "SCHEDULE": 14, "NEXT": 7, "LAST": 12, "FAIL": 4, "MEDIAN": 6, "TREND": None}
OTHERS_NEED = 14  # rows the rest of the main screen needs: header 1, detail 3, history 4, log 1 + 3, footer 1, notices 1
STATUS_MIN = 10  # ALL_COLUMNS["STATUS"]: the column's width when every state is one word
STATUS_MAX = 26  # the longest state's words: `running · timed out 10/10`
NARROW = 100  # below this width the schedule moves to the detail line
GIVE_WAY = ("TREND", "MEDIAN", "FAIL", "NEXT")  # what narrower screens drop, first to last
LAST_STATE = {RunStatus.SUCCEEDED: HealthState.OK, RunStatus.RUNNING: HealthState.RUNNING,  # the style of LAST
              RunStatus.QUEUED: HealthState.RUNNING, RunStatus.SKIPPED: HealthState.PAUSED,
              RunStatus.MISSED: HealthState.MISSED, RunStatus.KILLED: HealthState.KILLED}  # a kill: no failure


class JobTable(RowTable):
    """Rows keyed by position; `rows_shown` names the job on each."""

    def __init__(self, marks: Marks | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.marks = marks or Marks()
        self.scheduled = True
        self.lent = 0  # rows lent to the notice line beyond its one, while a long notice wraps onto them
        self.beside = 0  # rows the filter box takes while it is open (screens/main.py)

    def on_mount(self) -> None:
        super().on_mount()
        self.columns_for: int | None = None
        self.filter_text = ""
        self.rows_shown: list[str] = []  # job names, top to bottom
        self._all: list[JobHealth] = []
        self.follow_top = True  # until the user moves: the cursor stays on the most urgent job
        self._placed = 0  # where show() last left the cursor
        self._title_shown = "jobs"
        self._status_built = 0  # the STATUS column's width when the columns were last built

    @property
    def selected(self) -> str | None:
        if not self.rows_shown or not 0 <= self.cursor_row < len(self.rows_shown):
            return None
        return self.rows_shown[self.cursor_row]

    def name_at(self, row: int) -> str | None:
        return self.rows_shown[row] if 0 <= row < len(self.rows_shown) else None

    def show(self, healths: list[JobHealth], now: float, schedules: dict[str, str], scheduled: bool = True) -> None:
        """Rows are keyed by position, not by job: a job that moves up rewrites the rows it passes, never
        the whole table (what a slow link would carry each time a job starts or stops running).
        `scheduled`: a scheduler holds the lease; without one NEXT says `stopped`, not a time nothing keeps."""
        self._all = healths
        self.scheduled = scheduled
        if self.cursor_row != self._placed:
            self.follow_top = False  # someone else moved the cursor: the user (keys, mouse, a jump)
        current = self.selected
        visible = [h for h in healths if self.filter_text.lower() in h.name.lower()]
        names = [h.name for h in visible]
        columns = self.shown_columns
        if (self.columns_for is None or len(names) != self.row_count or self.columns_room != self.columns_for
                or self.status_width != self._status_built):
            self._layout()
            for i, h in enumerate(visible):
                self.add_drawn_row(str(i), columns, self._cells(h, now, schedules))
            self.styles.height = self.height_for(len(names))
            rebuilt = True
        else:
            for i, h in enumerate(visible):
                self.write_cells(str(i), columns, self._cells(h, now, schedules))
            rebuilt = False
        self.rows_shown = names
        if self.follow_top and names:
            current = names[0]  # untouched since launch: the most urgent job, as it changes
        if current in names and (rebuilt or names.index(current) != self.cursor_row):
            self.move_cursor(row=names.index(current), animate=False)  # the same job, wherever it went
        self._placed = self.cursor_row
        self._title()

    @property
    def columns_room(self) -> int:
        """The columns' room: the width less the scroll bar's cell, kept whether the bar shows or not (app.tcss),
        so a bar that comes does not narrow TREND."""
        return self.scrollable_content_region.width or 80

    def height_for(self, rows: int) -> int:
        """Up to 12 rows, fewer on a short screen: what else the screen holds (header, detail, history and a
        log pane of at least 3 lines, footer, the rows `lent` to a long notice, and the filter box while it is
        open: `beside`) keeps its room, and the list scrolls instead."""
        screen = self.screen.size.height if self.is_attached and self.screen.size.height else 0
        room = screen - OTHERS_NEED - self.lent - self.beside if screen else 12
        return max(3, min(rows, 12, room - 2)) + 2

    def refilter(self, text: str, now: float, schedules: dict[str, str]) -> None:
        current = self.selected
        self.filter_text = text
        if text:
            self.follow_top = False  # the user is choosing a job: the cursor is theirs from now on
        self.columns_for = None  # rebuilt, whatever it shows now
        self.show(self._all, now, schedules, self.scheduled)
        if current in self.rows_shown:
            self.move_cursor(row=self.rows_shown.index(current), animate=False)
        self._placed = self.cursor_row

    def health(self, name: str | None) -> JobHealth | None:
        return next((h for h in self._all if h.name == name), None)

    def _title(self) -> None:
        if not self.filter_text:
            title = "jobs"
        elif self.rows_shown:
            title = f"jobs{self.marks.sep}filter {safe(self.filter_text)!r}: {len(self.rows_shown)} of {len(self._all)}"
        else:
            title = f"jobs{self.marks.sep}no job matches {safe(self.filter_text)!r} (esc: clear)"
        if title != self._title_shown:  # setting it repaints the whole table, even to the same words
            self.border_title = self._title_shown = title

    @property
    def shown_columns(self) -> list[str]:
        """Every column that fits: below NARROW the schedule moves to the detail line; narrower still (a phone
        in a browser) the trend, median, failure rate and next go, in that order; status, job and last stay."""
        width = self.columns_room
        shown = [c for c in ALL_COLUMNS if not (width < NARROW and c == "SCHEDULE")]
        for column in GIVE_WAY:
            if _needed(shown, self.status_width) <= width:
                break
            shown.remove(column)
        return shown

    @property
    def status_width(self) -> int:
        """A share of the screen's width, not of the words shown: a state that grows (`running · timed
        out 2/2`) is cut with `…` (the detail line has it whole) instead of pushing MEDIAN and TREND off, so
        the table keeps its shape from one second to the next. A seventh of the width (the trend keeps room), in what the other columns
        leave, between STATUS_MIN and STATUS_MAX."""
        width = self.columns_room
        spare = width - _needed([c for c in ALL_COLUMNS if not (width < NARROW and c == "SCHEDULE")])
        return max(STATUS_MIN, min(STATUS_MAX, width // 7, STATUS_MIN + spare))

    @property
    def spark_width(self) -> int:
        used = self.status_width - STATUS_MIN + sum(ALL_COLUMNS[c] or 0 for c in self.shown_columns) + 2 * len(self.shown_columns) + 2
        return max(5, min(30, self.columns_room - used))

    def _layout(self) -> None:
        """(Re)build the columns for the current width."""
        self.clear_rows(columns=True)
        shown = self.shown_columns
        short_by = max(0, _needed(shown, self.status_width) - self.columns_room)  # the job's name gives the rest (to 8)
        for column in shown:
            width = ALL_COLUMNS[column] or self.spark_width
            if column == "STATUS":
                width = self.status_width
            self.add_column(column, key=column, width=max(8, width - short_by) if column == "JOB" else width)
        self.columns_for = self.columns_room
        self._status_built = self.status_width

    def _cells(self, h: JobHealth, now: float, schedules: dict[str, str]) -> tuple:
        m = self.marks
        status = Text(f"{m.glyph(h.row_mark)} {row_words(h)}", style=m.style(h.row_mark), no_wrap=True, overflow="ellipsis")
        word = next_word(h, now, self.scheduled, none=m.none)
        nxt = Text(word, style=m.style(HealthState.MISSED)) if word == "stopped" else word
        if h.last is None:
            last = Text("never")
        else:
            age = coarse_ago(now - (h.last.finished_at or h.last.started_at or h.last.queued_at or now))
            word = status_word(h.last.status, short=True)
            last = Text(f"{word} {age}", style=m.style(LAST_STATE.get(h.last.status, HealthState.FAILING)))
        rate = m.none if h.failure_rate is None else f"{h.failure_rate * 100:.0f}%"  # as `fail 5%` below
        gone = m.style("quiet") if h.removed else ""  # listed only until its run ends
        cells = {"STATUS": status, "JOB": Text(safe(h.name), style=gone, no_wrap=True, overflow="ellipsis"),
                 "SCHEDULE": Text(REMOVED if h.removed else safe(schedules.get(h.name, "exec only")), style=gone,
                                  no_wrap=True, overflow="ellipsis"),
                 "NEXT": nxt, "LAST": last, "FAIL": rate, "MEDIAN": m.none if h.median_s is None else short_duration(h.median_s),
                 "TREND": sparkline(h.durations, self.spark_width, marks=m)}
        return tuple(cells[c] for c in self.shown_columns)


def _needed(columns: list[str], status: int = 10) -> int:
    """Cells a row of these columns takes (a trend at least 5 wide), with padding and the cursor's margin."""
    return (sum(ALL_COLUMNS[c] or 5 for c in columns) + 2 * len(columns) + 2
            + (status - STATUS_MIN if "STATUS" in columns else 0))
