"""The ledger of the selected job, newest first: holes in the schedule show as missed/skipped rows.
It follows the newest run as runs come, unless the user moved down to look at an older one."""

from __future__ import annotations

from collections.abc import Collection

from rich.text import Text

from panda_tui.store.ledger import Run
from panda_tui.text import late, safe, short_duration, short_spans, status_word, when
from panda_tui.tui.marks import Marks
from panda_tui.tui.widgets.row_table import RowTable

# What a half-awake reader needs first comes first; what follows REASON shows where it fits whole (enter: all).
COLUMNS = ["RUN", "SCHEDULED", "STATUS", "EXIT", "DURATION", "REASON", "LATE", "TRY", "TRIGGER", "STARTED", "NODE"]
WIDTHS = (3, 9, 9, 4, 8, 21, 5, 3, 8, 12, 12)  # RUN and SCHEDULED grow to their longest cell (`Dec 01 16:45`)
OFF_SCHEDULE = ("manual", "catchup", "external")  # triggers worth a column at 80 (a retry has TRY)


ACK_MARK = "(acked)"  # before the reason of a run someone acknowledged: its status stays its own (it is a fact)
SLOW = "slow"  # the detail line's word for a run slower than twice the p95
DURATION_MAX = 11  # DURATION grows to `12m30s slow`; a slow run whose words do not fit is marked by style alone
REASON_MAX = 60  # REASON grows to its longest text up to this, or to the pane's edge when that is wider;
# a longer one ends in `…` at the edge, and is whole in the log pane (tab into the history) and on enter


def columns_for(rows: list[Run]) -> list[str]:
    """The columns in order: TRY moves up beside EXIT when any run shown is a retry, and TRIGGER before
    REASON when any was run otherwise than by its schedule (manual, catch-up, `exec`), so that 80 columns show
    them; a column that would say the same on every row stays after REASON."""
    columns = list(COLUMNS)
    for column, after, shown in (("TRY", "EXIT", any(r.attempt > 1 for r in rows)),
                                 ("TRIGGER", "DURATION", any(r.trigger in OFF_SCHEDULE for r in rows))):
        if shown:
            columns.remove(column)
            columns.insert(columns.index(after) + 1, column)
    return columns


class HistoryTable(RowTable):
    def __init__(self, marks: Marks | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.marks = marks or Marks()

    def on_mount(self) -> None:
        super().on_mount()
        self.columns_shown: list[str] = []
        self._widths = dict(zip(COLUMNS, WIDTHS))
        self._layout(COLUMNS, self._widths)
        self.now = 0.0  # what `today` is for SCHEDULED and STARTED (text.when)
        self.ids: list[int] = []  # run ids, top (newest) to bottom
        self.runs: dict[int, Run] = {}
        self._slow: set[int] = set()
        self._acked: Collection[int] = ()
        self._grown: dict[str, int] = {}  # the widest content seen, per column (steady: see _steady)
        self._grown_at = 0  # the pane's width they were seen at

    @property
    def selected(self) -> int | None:
        return self.id_at(self.cursor_row)

    def id_at(self, row: int) -> int | None:
        return self.ids[row] if 0 <= row < len(self.ids) else None

    def run(self, run_id: int) -> Run | None:
        """The run as last read (its status may be a poll behind)."""
        return self.runs.get(run_id)

    def _layout(self, columns: list[str], widths: dict[str, int]) -> None:
        self.clear_rows(columns=True)
        for column in columns:
            self.add_column(column, key=column, width=widths[column])
        self.columns_shown = list(columns)
        self._widths = widths

    def show(self, rows: list[Run], now: float, slow: set[int] | None = None, acked: Collection[int] = ()) -> None:
        """Rows are keyed by position: a new run shifts the text of the rows below it (every cell changes,
        which is the truth), but the table is not rebuilt, and nothing outside the rows is repainted.
        `now`: today's runs show their time, older ones their day (text.when). `acked`: the failures someone
        acknowledged: each keeps its own status, and its reason starts with a quiet `(acked)`."""
        current, at_top = self.selected, self.cursor_row <= 0
        self._slow = slow or set()
        self._acked = acked
        self.now = now
        self.runs = {r.id: r for r in rows}
        ids = [r.id for r in rows]
        columns = columns_for(rows)
        widths = self._steady(columns, dict(zip(COLUMNS, WIDTHS), DURATION=self._duration_width(rows),
                                            RUN=max((len(str(r.id)) for r in rows), default=0),
                                            SCHEDULED=max((len(when(r.scheduled_at, now)) for r in rows), default=0),
                                            REASON=max((len(self._reason(r)) for r in rows), default=0)))
        widths["REASON"] = self._reason_width_for(columns, widths)
        columns = self._whole(columns, widths)
        if columns != self.columns_shown or widths != self._widths:
            self._layout(columns, widths)
            self.ids = []
        if len(ids) < self.row_count or not self.ids:
            self.clear_rows()
            for i, run in enumerate(rows):
                self.add_drawn_row(str(i), columns, self._cells(run))
        else:
            for i, run in enumerate(rows):
                if i < self.row_count:
                    self.write_cells(str(i), columns, self._cells(run))
                else:
                    self.add_drawn_row(str(i), columns, self._cells(run))
        moved = ids != self.ids
        self.ids = ids
        if not moved:
            return
        if current in ids and not at_top:
            if ids.index(current) != self.cursor_row:
                self.move_cursor(row=ids.index(current), animate=False)  # the user looks at an older run: stay
        elif self.cursor_row != 0:
            self.move_cursor(row=0, animate=False)  # another job's runs, or that run is gone: the newest

    def _steady(self, columns: list[str], content: dict[str, int]) -> dict[str, int]:
        """Each column as wide as the widest content it has shown since the pane last changed width (REASON:
        its longest text), never narrower than its own: the columns stand still as the user moves through the
        jobs (new-user test: they moved with each job's content). Where that would leave REASON less than its
        own width before the pane's edge, this job's runs have their own widths: the reason comes first."""
        if self._grown_at != self.size.width:
            self._grown, self._grown_at = {}, self.size.width
        own = {c: max(w, WIDTHS[COLUMNS.index(c)]) for c, w in content.items()}
        self._grown = {c: max(w, self._grown.get(c, 0)) for c, w in own.items()}
        steady = dict(self._grown)
        return steady if self._fits(columns, steady) else own

    def _fits(self, columns: list[str], widths: dict[str, int]) -> bool:
        """Whether the columns up to REASON, REASON at its own width, end before the pane's edge."""
        before = sum(widths[c] + 2 for c in columns[:columns.index("REASON")])
        return before + WIDTHS[COLUMNS.index("REASON")] + 2 + 1 <= (self.size.width or 80)

    def _duration_width(self, rows: list[Run]) -> int:
        """As wide as its words, `42.5s slow` included (up to DURATION_MAX): a word is shown whole or not at all."""
        return max([WIDTHS[COLUMNS.index("DURATION")]] + [len(text) for text in map(self._duration, rows)
                                                           if len(text) <= DURATION_MAX])

    def _duration(self, r: Run) -> str:
        shown = self.marks.none if r.duration_s is None else short_duration(r.duration_s)
        return f"{shown} {SLOW}" if r.id in self._slow else shown

    def _reason_width_for(self, columns: list[str], widths: dict[str, int]) -> int:
        """The longest reason (up to REASON_MAX), and never past the pane's right edge when it fits there:
        the reason is read, not scrolled to, and what is cut ends in `…`."""
        longest = min(REASON_MAX, widths["REASON"])
        before = sum(widths[c] + 2 for c in columns[:columns.index("REASON")])
        room = (self.size.width or 80) - before - 2 - 1  # its own padding, and the scrollbar's column
        return max(WIDTHS[COLUMNS.index("REASON")], min(longest, room))

    def _reason(self, r: Run) -> str:
        """Its time short (`scheduler down 01:10–03:00; …`), so a narrow column shows the reason and when;
        after an ack's mark when someone acknowledged the run (the mark costs STATUS no width at 80)."""
        reason = safe(short_spans(r.reason or "", self.now, r.scheduled_at))
        return f"{ACK_MARK} {reason}".rstrip() if r.id in self._acked else reason

    def _reason_cell(self, r: Run) -> Text:
        words = Text(self._reason(r), no_wrap=True, overflow="ellipsis")
        if r.id in self._acked:
            words.stylize(self.marks.style("quiet"), 0, len(ACK_MARK))
        return words

    def _whole(self, columns: list[str], widths: dict[str, int]) -> list[str]:
        """The columns up to REASON, then those after it that fit whole before the pane's edge, in order: a
        column cut by the edge misleads (`LATE` cut to `LA` showed `5ms` as `5m`)."""
        kept = columns[:columns.index("REASON") + 1]
        room = (self.size.width or 80) - sum(widths[c] + 2 for c in kept) - 1  # the scrollbar's column
        for column in columns[len(kept):]:
            if widths[column] + 2 > room:
                break
            kept.append(column)
            room -= widths[column] + 2
        return kept

    def _cells(self, r: Run) -> tuple:
        m = self.marks
        status = Text(f"{m.glyph(r.status)} {status_word(r.status, short=True)}", style=m.style(r.status))
        words = self._duration(r)
        duration: str | Text = words
        if r.id in self._slow:  # its word whole, or (when a wider one did not fit) the time in the slow style
            fits = len(words) <= self._widths["DURATION"]
            duration = Text(words if fits else words.removesuffix(f" {SLOW}"), style=m.style("slow"))
        cells = {"RUN": str(r.id), "SCHEDULED": when(r.scheduled_at, self.now),
                 "STATUS": status, "EXIT": m.none if r.exit_code is None else str(r.exit_code),
                 "DURATION": duration, "REASON": self._reason_cell(r),
                 "LATE": late(r.lateness, m.none), "TRY": str(r.attempt), "TRIGGER": r.trigger,
                 "STARTED": m.none if r.started_at is None else when(r.started_at, self.now),
                 "NODE": Text(safe(r.node), no_wrap=True, overflow="ellipsis") if r.node else ""}
        return tuple(cells[c] for c in self.columns_shown)
