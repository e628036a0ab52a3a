"""The main screen: header, jobs, trend, history, a live log pane and the notice line. It owns the one
reader of the store (a polling worker that skips reads when nothing changed) and what selection does."""

from __future__ import annotations

import threading
import time

from textual import on, work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input
from textual.worker import get_current_worker

from panda_tui.readmodel.snapshot import read_history, read_snapshot, read_trend
from panda_tui.store import connect, data_version, ledger
from panda_tui.store.ledger import BAD, HAS_LOGS
from panda_tui.tui.controls import NO_SCHEDULER
from panda_tui.tui.messages import Refreshed
from panda_tui.tui.screens.logs import LogScreen
from panda_tui.tui.widgets.history_table import HistoryTable
from panda_tui.tui.widgets.job_table import JobTable
from panda_tui.tui.widgets.log_view import LogView
from panda_tui.tui.widgets.notice_bar import NoticeBar
from panda_tui.tui.widgets.status_header import StatusHeader
from panda_tui.tui.widgets.trend_bar import TrendBar

POLL_EVERY = 0.5
CPU_BUDGET = 0.1  # of one core, for everything the console does between two reads of the store
MAX_PAUSE = 2.0  # however busy: the screen is never staler than this
FULL_READ_EVERY = 5.0
TICK_LAG = 0.01  # seconds after the whole second
MIN_TICK = 0.2  # a tick that came late (or a frozen clock) waits at least this long for the next
NO_LOGS = ("missed", "skipped", "queued")


class MainScreen(Screen):
    def __init__(self, db_path: str) -> None:
        super().__init__()
        self.db_path = db_path
        self.selected_job: str | None = None
        self.selected_run: int | None = None
        self.snapshot = None
        self._wake = threading.Event()
        self._shown_once = False

    def compose(self) -> ComposeResult:
        marks = self.app.marks
        yield StatusHeader(marks, id="header")
        jobs = JobTable(marks, id="jobs")
        jobs.border_title = "jobs"
        yield jobs
        yield Input(placeholder="filter jobs by name (enter: keep, esc: clear)", id="job-filter", classes="hidden")
        yield TrendBar(marks, id="trend")
        history = HistoryTable(marks, id="history")
        history.border_title = "history"
        yield history
        yield LogView(self.db_path, marks, id="logpane")
        yield NoticeBar(marks, id="notices")
        yield Footer(compact=True, show_command_palette=False)  # ^p still opens the palette; 80 columns hold the keys

    def on_mount(self) -> None:
        header = self.query_one(StatusHeader)
        header.mode, header.now = self.app.mode, self.app.clock()
        self.query_one(JobTable).focus()
        self._arm_tick()
        self._poll()
        self.app.main_ready(self)

    @property
    def jobs(self) -> JobTable:
        return self.query_one(JobTable)

    def wake(self) -> None:
        self._wake.set()

    # --- reading ------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="poll")
    def _poll(self) -> None:
        """The one reader of the store: never overlaps, skips reads when nothing changed."""
        worker = get_current_worker()
        conn = connect(self.db_path, readonly=True)
        seen, last_full, last_job = -1, 0.0, object()
        pause, cpu_mark = POLL_EVERY, time.process_time()
        try:
            while not worker.is_cancelled:
                version = data_version(conn)
                stale = time.monotonic() - last_full > FULL_READ_EVERY
                job = self.selected_job
                if version != seen or stale or job != last_job:
                    now = self.app.clock()
                    source = self.app.jobs.read(conn, now)
                    snap = read_snapshot(conn, source.config, now)
                    if source.refused and source.origin != "scheduler":
                        snap.config_errors = source.refused
                    if job is None and snap.jobs:
                        job = snap.jobs[0].name
                    history = read_history(conn, job) if job else []
                    trend = read_trend(conn, source.config, job, now) if job and source.config else None
                    self.post_message(Refreshed(snap, source, job, history, trend))
                    seen, last_full, last_job = version, time.monotonic(), job
                    pause, cpu_mark = self._pace(cpu_mark)
                self._wake.wait(pause)  # a key that acts, or a new selection, wakes it at once
                self._wake.clear()
        finally:
            conn.close()

    @staticmethod
    def _pace(cpu_mark: float) -> tuple[float, float]:
        """How long until the next read: POLL_EVERY, or longer when the console used more than its CPU
        budget since the last read (a store that changes all the time is shown less often, and leaves
        the scheduler its core). Returns (pause, new mark)."""
        cpu = time.process_time()
        return min(MAX_PAUSE, max(POLL_EVERY, (cpu - cpu_mark) / CPU_BUDGET)), cpu

    def on_refreshed(self, message: Refreshed) -> None:
        if not self.is_mounted or not self.query(StatusHeader):
            return  # torn down while a read was on its way
        self.snapshot = message.snapshot
        self.app.adopt_source(message.source)
        now = self.app.clock()
        self.query_one(StatusHeader).snapshot = message.snapshot  # its clock is the tick's alone
        self.jobs.show(message.snapshot.jobs, now, self.app.schedules(), message.snapshot.holder is not None)
        if not self._shown_once:
            self._shown_once = True
            self.call_after_refresh(self.app.first_screen_shown)
        self._sync_selection()
        if message.snapshot.holder is not None:
            self.query_one("#notices", NoticeBar).withdraw(NO_SCHEDULER)
        if message.job is not None and message.job == self.selected_job:
            job = self.app.config.jobs.get(message.job) if self.app.config else None
            about = job.schedule.explain() if job else "not in jobs.toml: run only by `panda-tui exec`"
            self.query_one(TrendBar).show(message.job, about, message.trend)
            history = self.query_one(HistoryTable)
            history.show(message.history, set(message.trend.slow) if message.trend else None)
            if history.has_focus and history.selected is not None:
                self.selected_run = history.selected  # in the history pane, the log shows the run under the cursor
            self._follow_newest(message.history)

    def _follow_newest(self, history: list) -> None:
        """The log pane shows the selected run, or else the job's newest run that has output."""
        run_id = self.selected_run
        if run_id is None or run_id not in {r.id for r in history}:
            newest = next((r for r in history if r.status not in NO_LOGS), None)
            run_id = newest.id if newest else None
        self.query_one(LogView).open_run(run_id)

    def _arm_tick(self) -> None:
        """The next tick just after the clock's next whole second: the seconds shown turn with the wall
        clock's, and change once a second, never twice."""
        self.set_timer(max(MIN_TICK, 1.0 - self.app.clock() % 1.0 + TICK_LAG), self.tick)

    def tick(self) -> None:
        """Once a second: the clock, and the ages in the job list (which change once a minute)."""
        if not self.is_mounted or not self.query(StatusHeader):
            return
        self._arm_tick()
        now = self.app.clock()
        self.query_one(StatusHeader).now = now
        if self.snapshot is not None:
            self.jobs.show(self.snapshot.jobs, now, self.app.schedules(), self.snapshot.holder is not None)
            self._sync_selection()

    def _sync_selection(self) -> None:
        """The panes below belong to the highlighted row: after a highlight event, and also when another job
        took the cursor's row (the list re-sorted under a cursor that follows the top job) and none came."""
        if self.jobs.selected is not None and self.jobs.selected != self.selected_job:
            self.selected_job, self.selected_run = self.jobs.selected, None
            self.wake()

    # --- selection ----------------------------------------------------------------------
    @on(DataTable.RowHighlighted, "#jobs")
    def _job_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._sync_selection()  # by the cursor as it is now, not the event's row (a rebuild may have left one)

    @on(DataTable.RowHighlighted, "#history")
    def _run_highlighted(self, event: DataTable.RowHighlighted) -> None:
        run_id = self.query_one(HistoryTable).id_at(event.cursor_row)
        if run_id is None or not event.data_table.has_focus:
            return
        self.selected_run = run_id
        self.query_one(LogView).open_run(self.selected_run)

    @on(DataTable.RowSelected, "#jobs")
    def _job_selected(self, event: DataTable.RowSelected) -> None:
        name = self.jobs.name_at(event.cursor_row)
        if name is None:
            return
        self.jobs.follow_top = False  # the user chose this job: the cursor is theirs now
        health = self.jobs.health(name)
        self._open_logs_for_job(name, failing=health is not None and health.state == "failing")

    @on(DataTable.RowSelected, "#history")
    def _run_selected(self, event: DataTable.RowSelected) -> None:
        run_id = self.query_one(HistoryTable).id_at(event.cursor_row)
        if run_id is not None:
            self.app.push_screen(LogScreen(self.db_path, run_id))

    @work(thread=True, exclusive=True, exit_on_error=False, group="open")
    def _open_logs_for_job(self, name: str, failing: bool) -> None:
        """A failing job opens its last failed run with errors only; otherwise its newest run."""
        conn = connect(self.db_path, readonly=True)
        try:
            failed = ledger.latest(conn, name, BAD)
            latest = ledger.latest(conn, name, HAS_LOGS)
        finally:
            conn.close()
        if failing and failed is not None:
            self.app.call_from_thread(self.app.push_screen, LogScreen(self.db_path, failed.id, errors_only=True))
        elif latest is not None:
            self.app.call_from_thread(self.app.push_screen, LogScreen(self.db_path, latest.id))
        else:
            self.app.call_from_thread(self.app.notify, f"{name} has no runs with logs yet", markup=False)

    # --- filter -------------------------------------------------------------------------
    def open_filter(self) -> None:
        box = self.query_one("#job-filter", Input)
        box.remove_class("hidden")
        box.focus()

    @on(Input.Changed, "#job-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.jobs.refilter(event.value, self.app.clock(), self.app.schedules())

    @on(Input.Submitted, "#job-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.input.add_class("hidden")
        self.jobs.focus()

    def on_key(self, event) -> None:
        box = self.query_one("#job-filter", Input)
        if event.key == "escape" and (box.has_focus or box.value):
            box.value = ""  # clearing keeps the selected job selected (refilter moves the cursor to it)
            box.add_class("hidden")
            self.jobs.focus()
            event.stop()
