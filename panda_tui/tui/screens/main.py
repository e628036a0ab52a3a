"""The main screen: header, jobs, trend, history, a live log pane and the notice line. It reads the store on
a polling worker of its own (which skips a read when the store did not change, but reads at least every few
seconds), and owns what selection does and the keys that act on the selected job (screens/acting.py); S is
screens/scheduler_key.py's.

The first frame holds the header, the job list, the notice line and the footer only; the panes below the
job list (the filter box, trend, history and log) are mounted right after it, in their place, and show the
selected job from then on. Mounting and styling them took about as long as the rest of the first frame."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input
from textual.worker import get_current_worker

from panda_tui.config import Config
from panda_tui.readmodel.acks import ack_line
from panda_tui.readmodel.health import JobHealth
from panda_tui.store import connect, data_version
from panda_tui.store.ledger import Run, RunStatus
from panda_tui.text import safe
from panda_tui.tui.controls import NO_SCHEDULER
from panda_tui.tui.messages import FirstScreenShown, Refreshed, SchedulerDied
from panda_tui.tui.pane_css import read_pane_css
from panda_tui.tui.reading import FULL_READ_EVERY, Pace, holder_gone, read_screen
from panda_tui.tui.scheduler_here import may_start_here, no_scheduler_notice, watch
from panda_tui.tui.screens.acting import Chosen
from panda_tui.tui.screens.scheduler_key import SchedulerKeyScreen
from panda_tui.tui.mode import ConsoleMode
from panda_tui.tui.services import Services
from panda_tui.tui.shown_jobs import REFUSED, ShownJobs
from panda_tui.tui.widgets.job_table import JobTable
from panda_tui.tui.widgets.notice_bar import NoticeBar
from panda_tui.tui.widgets.status_header import StatusHeader

if TYPE_CHECKING:  # the panes' modules are imported with the panes, after the first frame
    from panda_tui.tui.widgets.history_table import HistoryTable
    from panda_tui.tui.widgets.log_view import LogView
    from panda_tui.tui.widgets.search_box import SearchBox
    from panda_tui.tui.widgets.trend_bar import TrendBar

TICK_LAG = 0.01  # seconds after the whole second
MIN_TICK = 0.2  # a tick that came late (or a frozen clock) waits at least this long for the next
NO_LOGS = (RunStatus.MISSED, RunStatus.SKIPPED, RunStatus.QUEUED)
FILTER_ROWS = 3  # the job filter box (app.tcss #job-filter)


class MainScreen(SchedulerKeyScreen):
    BINDINGS = [Binding("d", "diff", "diff")]

    def __init__(self, services: Services, config: Config | None = None, first: Refreshed | None = None) -> None:
        """`first`: the store as read before the app ran, shown in the first frame (tui.reading.read_first)."""
        super().__init__(services)
        self._first = first
        self._painted = False  # the first screen with the jobs is on the terminal
        self._log_run: int | None = None  # the run the log pane opens once it is
        self.shown = ShownJobs(config)
        self.selected_job: str | None = None
        self.selected_run: int | None = None
        self._wake = threading.Event()
        self._shown_once = False
        self._could_start = False
        self._last: Refreshed | None = None  # the newest read shown (the panes show it once they are mounted)
        self.ready = False  # the panes below the job list are mounted

    def compose(self) -> ComposeResult:
        marks = self.services.marks
        yield StatusHeader(marks, id="header")
        jobs = JobTable(marks, id="jobs")
        jobs.border_title = "jobs"
        yield jobs
        yield Widget(id="panes-to-come")  # holds the panes' rows in the first frame: the notice line stays put
        yield NoticeBar(marks, id="notices")
        yield Footer(compact=True, show_command_palette=False)  # ^p still opens the palette; 80 columns hold the keys

    def _panes(self) -> list[Widget]:
        """What the first frame goes without: mounted in its place right after it (_mount_panes)."""
        from panda_tui.tui.widgets.history_table import HistoryTable
        from panda_tui.tui.widgets.log_view import LogView
        from panda_tui.tui.widgets.search_box import SearchBox
        from panda_tui.tui.widgets.trend_bar import TrendBar
        marks = self.services.marks
        history = HistoryTable(marks, id="history")
        history.border_title = "history"
        return [SearchBox(label="filter jobs by name", placeholder="part of a name (enter: keep, esc: clear)",
                          id="job-filter", classes="hidden", back_to=self.jobs),
                TrendBar(marks, id="trend"), history, LogView(self.services.db_path, marks, id="logpane")]

    async def _mount_panes(self) -> None:
        place = self.query_one("#panes-to-come")
        read_pane_css(self.app)  # their rules, parsed now rather than before the first frame
        with self.app.batch_update():  # the panes replace the blank rows in one frame
            await self.mount_all(self._panes(), before=place)
            await place.remove()
        self.call_after_refresh(self._panes_mounted)  # once laid out: the history fits its columns to its width

    def _panes_mounted(self) -> None:
        self.ready = True
        if self._last is not None:
            self._show_job(self._last, self.services.clock())
        if self._shown_once:
            self._first_screen_shown()

    def on_mount(self) -> None:
        header = self.query_one(StatusHeader)
        header.mode, header.now = self.services.mode, self.services.clock()
        self.jobs.focus()
        self._arm_tick()
        if self._first is not None:
            self._show(self._first)
        self.call_after_refresh(self._mount_panes)  # after the first frame (with the jobs, when read_first had them)
        self._poll()
        watch(self.services, lambda error: self.post_message(SchedulerDied(error)))  # thread-safe post
        if self.services.read_only:
            self.notify(f"read-only: {self.services.read_only_reason}; keys that act are off", severity="warning",
                        markup=False)
        elif self.services.mode is ConsoleMode.EMBEDDED:
            self.notify("no daemon found: this console runs the scheduler; quitting stops it", markup=False)

    @property
    def jobs(self) -> JobTable:
        return self.query_one(JobTable)

    # --- what the keys that act act on (screens/acting.py) ----------------------------------
    def acting_on(self) -> Chosen | None:
        job = self.jobs.selected
        if job is None:
            return None
        self.jobs.follow_top = False  # from now on the cursor stays on this job, wherever the list moves it
        history = self._history()
        run = history.run(history.selected) if history and history.has_focus and history.selected is not None else None
        return Chosen(job, self.jobs.health(job), run)

    def job_health(self, name: str) -> JobHealth | None:
        return self.jobs.health(name)

    def _history(self) -> HistoryTable | None:
        """The history pane; None until the panes are mounted (a key pressed during the first frame)."""
        return self.history if self.ready else None

    @property
    def history(self) -> HistoryTable:
        return cast("HistoryTable", self.query_one("#history"))

    @property
    def log_pane(self) -> LogView:
        return cast("LogView", self.query_one("#logpane"))

    def wake(self) -> None:
        self._wake.set()

    # --- d: what changed since the last good run, for the run under the cursor (or the one enter opens) --
    def action_diff(self) -> None:
        history = self._history()
        if history is not None and history.has_focus and history.selected is not None:
            self._open_diff(history.selected)
        elif self.jobs.selected is not None:
            self._diff_for_job(self.jobs.selected, None if history is None else self.log_pane.run_id)
        else:
            self.notify("no run selected: d compares a run with the job's last good one", markup=False)

    # --- reading ------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="poll")
    def _poll(self) -> None:
        """Reads the store while the screen lives: again when it changed (PRAGMA data_version), when another
        job is selected, on wake(), and every FULL_READ_EVERY seconds in any case."""
        worker = get_current_worker()
        conn = connect(self.services.db_path, readonly=True)
        seen, last_full, last_job, holder = -1, 0.0, object(), None
        if self._first is not None:  # the first frame showed it: read again once the store changes (or
            # FULL_READ_EVERY from now: what changed between the two reads is no staler than that)
            seen, last_full, last_job = data_version(conn), time.monotonic(), self._first.job
            holder = self._first.snapshot.holder
        pace = Pace()
        try:
            while not worker.is_cancelled:
                version = data_version(conn)
                stale = time.monotonic() - last_full > FULL_READ_EVERY
                job = self.selected_job
                if version != seen or stale or job != last_job or holder_gone(conn, holder, self.services.clock()):
                    read = read_screen(conn, self.services.jobs, self.services.clock(), job)
                    self.post_message(read)
                    seen, last_full, last_job, holder = version, time.monotonic(), job, read.snapshot.holder
                    pace.after_read()
                self._wake.wait(pace.pause)  # a key that acts, or a new selection, wakes it at once
                self._wake.clear()
        finally:
            conn.close()

    def on_refreshed(self, message: Refreshed) -> None:
        if not self.is_mounted or not self.query(StatusHeader):
            return  # torn down while a read was on its way
        self._show(message)

    def _show(self, message: Refreshed) -> None:
        self.services.latest.snapshot, self._last = message.snapshot, message
        if notice := self.shown.adopt(message.source):
            self.notify(notice.text, severity=notice.severity, timeout=notice.timeout, markup=False)
        now = self.services.clock()
        self.query_one(StatusHeader).snapshot = message.snapshot  # its clock is the tick's alone
        self.jobs.show(message.snapshot.jobs, now, self.shown.schedules(), message.snapshot.holder is not None)
        if not self._shown_once:
            self._shown_once = True
            self.call_after_refresh(self._first_screen_shown)
        self._sync_selection()
        self._notices_of_states(message)
        if may_start_here(self.services) != self._could_start:  # S (start one here) comes and goes with the lease
            self._could_start = not self._could_start
            self.refresh_bindings()
        if self.ready:
            self._show_job(message, now)

    def _notices_of_states(self, message: Refreshed) -> None:
        """A notice about a state lasts while it does, and no longer: what was said of no scheduler (standing
        or answered) goes once one runs, a refused jobs.toml's error once a file is accepted."""
        bar = self.query_one("#notices", NoticeBar)
        if message.snapshot.holder is not None:
            bar.withdraw(NO_SCHEDULER)
        elif self.services.mode is ConsoleMode.ATTACHED and bar.stand(none := no_scheduler_notice(self.services)):
            self.services.notices.append(("warning", none))  # offering S when it may
        if not message.source.refused:
            bar.withdraw(REFUSED)

    def _show_job(self, message: Refreshed, now: float) -> None:
        """The panes below the job list: the selected job's trend, history and log."""
        if message.job is not None and message.job == self.selected_job:
            trend = cast("TrendBar", self.query_one("#trend"))
            health = self.jobs.health(message.job)
            about = self.shown.about(message.job, health, message.history)
            trend.show(message.job, about, message.trend, health, now, message.ack)
            self.runs_read(message.job, message.history)
            history = self.history
            history.show(message.history, now, set(message.trend.slow) if message.trend else None, message.acked)
            covered = health.missed_acked if health else 0
            history.border_subtitle = Text(safe(ack_line(message.job, message.ack, covered))) if message.ack else ""
            if history.has_focus and history.selected is not None:
                self.selected_run = history.selected  # in the history pane, the log shows the run under the cursor
            self._log_run = run_to_show(self.selected_run, message.history)
            self.log_pane.watched(message.snapshot.holder is not None, health.ended_unwatched if health else None)
            if self._painted:  # its first read waits for the first screen
                self.log_pane.open_run(self._log_run)

    def _first_screen_shown(self) -> None:
        """Once the jobs are on the terminal and the panes are mounted (whichever comes last)."""
        if self._painted or not self.ready:
            return
        self._painted = True
        if self.is_mounted and self.query("#logpane"):
            self.log_pane.open_run(self._log_run)
        self.post_message(FirstScreenShown())  # bubbles to the app

    def on_resize(self) -> None:
        """A shorter or taller terminal: the job list gives rows to the log pane, or takes them back."""
        if self.jobs.rows_shown:
            self.jobs.styles.height = self.jobs.height_for(len(self.jobs.rows_shown))

    def on_notice_bar_resized(self, message: NoticeBar.Resized) -> None:
        """A notice wrapped onto more rows: the job list lends them (it scrolls), so that the screen never
        grows past the terminal, which pushed the notice itself out of sight; and takes them back after."""
        self.jobs.lent = message.rows - 1
        self.on_resize()

    def _arm_tick(self) -> None:
        """The next tick just after the clock's next whole second: the seconds shown turn with the wall
        clock's, and change once a second, never twice."""
        self.set_timer(max(MIN_TICK, 1.0 - self.services.clock() % 1.0 + TICK_LAG), self.tick)

    def tick(self) -> None:
        """Once a second: the clock, and the ages in the job list (which change once a minute)."""
        if not self.is_mounted or not self.query(StatusHeader):
            return
        self._arm_tick()
        now = self.services.clock()
        self.query_one(StatusHeader).now = now
        if (snap := self.services.latest.snapshot) is not None:
            self.jobs.show(snap.jobs, now, self.shown.schedules(), snap.holder is not None)
            self._sync_selection()

    @on(DataTable.RowHighlighted, "#jobs")
    def _sync_selection(self, _event: DataTable.RowHighlighted | None = None) -> None:
        """The panes below belong to the highlighted row: after a highlight event, and also when another job
        took the cursor's row (the list re-sorted under a cursor that follows the top job) and none came.
        By the cursor as it is now, not the event's row (a rebuild may have left one)."""
        if self.jobs.selected is not None and self.jobs.selected != self.selected_job:
            self.selected_job, self.selected_run = self.jobs.selected, None
            self.wake()

    # --- selection ----------------------------------------------------------------------
    @on(DataTable.RowHighlighted, "#history")
    def _run_highlighted(self, event: DataTable.RowHighlighted) -> None:
        run_id = self.history.id_at(event.cursor_row)
        if run_id is None or not event.data_table.has_focus:
            return
        self.selected_run = run_id
        self.log_pane.open_run(self.selected_run)

    def on_log_view_newest(self, message: LogView.Newest) -> None:
        """G in the pane on a run that has ended: the job's newest run, followed (the pane had stayed on the run
        that was newest when the history was passed through, its title stale as new runs came)."""
        history = self._history()
        newest = run_to_show(None, [run for run in map(history.run, history.ids) if run]) if history else None
        if history is not None and newest is not None and newest != self.log_pane.run_id:
            self.selected_run = None
            history.move_cursor(row=0, animate=False)
            self.log_pane.open_run(newest)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Into the history: the log pane shows the run under its cursor at once (a missed slot's reason),
        not at the next read of the store."""
        history = self._history()
        if history is not None and event.widget is history and history.selected is not None:
            self.selected_run = history.selected
            self.log_pane.open_run(self.selected_run)

    @on(DataTable.RowSelected, "#jobs")
    def _job_selected(self, event: DataTable.RowSelected) -> None:
        name = self.jobs.name_at(event.cursor_row)
        if name is None:
            return
        self.jobs.follow_top = False  # the user chose this job: the cursor is theirs now
        self._open_logs_for_job(name)

    @on(DataTable.RowSelected, "#history")
    def _run_selected(self, event: DataTable.RowSelected) -> None:
        from panda_tui.tui.screens.logs import LogScreen
        run_id = self.history.id_at(event.cursor_row)
        if run_id is not None:
            self.app.push_screen(LogScreen(self.services.db_path, run_id, marks=self.services.marks))

    # --- filter: `/` in the job list and the history (widgets/row_table.py) --------------
    def action_filter(self) -> None:
        if (box := self._filter_box()) is not None:
            box.open()
            self._fit_jobs()

    @on(Input.Submitted, "#job-filter")
    def _fit_jobs(self) -> None:
        """The filter box opened or closed: the job list gives it its rows, or takes them back, so the screen
        never overflows (it scrolled, narrowing every pane by its bar)."""
        box = self._filter_box()
        self.jobs.beside = 0 if box is None or box.has_class("hidden") else FILTER_ROWS
        self.jobs.styles.height = self.jobs.height_for(len(self.jobs.rows_shown))

    def _filter_box(self) -> SearchBox | None:
        """The job filter; None until the panes are mounted."""
        return cast("SearchBox", self.query_one("#job-filter")) if self.ready else None

    @on(Input.Changed, "#job-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.jobs.refilter(event.value, self.services.clock(), self.shown.schedules())

    def on_key(self, event: events.Key) -> None:
        box = self._filter_box()
        if box is not None and event.key == "escape" and (box.has_focus or box.value):
            box.value = ""  # clearing keeps the selected job selected (refilter moves the cursor to it)
            box.close()
            self._fit_jobs()
            event.stop()


def run_to_show(selected: int | None, history: list[Run]) -> int | None:
    """The log pane shows the selected run, or else the job's newest run that has output."""
    if selected is not None and selected in {r.id for r in history}:
        return selected
    newest = next((r for r in history if r.status not in NO_LOGS), None)
    return newest.id if newest else None
