"""PandaApp: keys and wiring. Reading happens in one polling worker; acting goes through control requests."""

from __future__ import annotations

import threading
import time
from typing import Callable

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.widgets import DataTable, Input
from textual.worker import get_current_worker

from panda_tui.config import Config, ConfigError, load_config
from panda_tui.store import connect, data_version, ledger
from panda_tui.store.ledger import BAD, HAS_LOGS
from panda_tui.tui.controls import Controls
from panda_tui.tui.messages import Refreshed
from panda_tui.tui.screens.confirm import ConfirmScreen
from panda_tui.tui.screens.help import HelpScreen
from panda_tui.tui.screens.logs import LogScreen
from panda_tui.tui.screens.main import MainScreen
from panda_tui.readmodel.snapshot import read_history, read_snapshot, read_trend
from panda_tui.tui.widgets.history_table import HistoryTable
from panda_tui.tui.widgets.job_table import JobTable
from panda_tui.tui.widgets.log_view import LogView
from panda_tui.tui.widgets.status_header import StatusHeader
from panda_tui.tui.widgets.trend_bar import TrendBar

POLL_EVERY = 0.5
FULL_READ_EVERY = 5.0


class PandaApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "panda-tui"
    BINDINGS = [
        Binding("t", "trigger", "trigger"),
        Binding("p", "pause", "pause/resume"),
        Binding("k", "kill", "kill"),
        Binding("r", "reload", "reload"),
        Binding("slash", "filter", "filter", show=False),
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, config: Config, db_path: str, mode: str = "embedded",
                 clock: Callable[[], float] = time.time, read_only_reason: str | None = None):
        super().__init__()
        self.config = config
        self.db_path = db_path
        self.mode = mode
        self.clock = clock
        self.read_only_reason = read_only_reason or "opened with --read-only"
        self.controls = Controls(db_path)
        self.selected_job: str | None = None
        self.selected_run: int | None = None
        self._wake = threading.Event()
        self._snapshot = None

    @property
    def read_only(self) -> bool:
        return self.mode == "read-only"

    def get_default_screen(self) -> MainScreen:
        return MainScreen(self.db_path)

    def main_ready(self) -> None:
        """Called by the main screen once its widgets are mounted."""
        self.query_one(StatusHeader).mode = self.mode
        self.query_one(StatusHeader).now = self.clock()
        self.query_one(JobTable).focus()
        self.set_interval(1.0, self._tick)
        self._poll()
        if self.read_only:
            self.notify(f"read-only: {self.read_only_reason}; keys that act are disabled", severity="warning",
                        markup=False)
        elif self.mode == "embedded":
            self.notify("no daemon found: this console runs the scheduler; quitting stops it", markup=False)

    # --- reading ------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="poll")
    def _poll(self) -> None:
        """The one reader of the store: never overlaps, skips reads when nothing changed."""
        worker = get_current_worker()
        conn = connect(self.db_path, readonly=True)
        seen, last_full, last_job = -1, 0.0, object()
        try:
            while not worker.is_cancelled:
                version = data_version(conn)
                stale = time.monotonic() - last_full > FULL_READ_EVERY
                job = self.selected_job
                if version != seen or stale or job != last_job:
                    now = self.clock()
                    snap = read_snapshot(conn, self.config, now)
                    if job is None and snap.jobs:
                        job = snap.jobs[0].name
                    history = read_history(conn, job) if job else []
                    trend = read_trend(conn, self.config, job, now) if job else None
                    self.post_message(Refreshed(snap, job, history, trend))
                    seen, last_full, last_job = version, time.monotonic(), job
                self._wake.wait(POLL_EVERY)
                self._wake.clear()
        finally:
            conn.close()

    def on_refreshed(self, message: Refreshed) -> None:
        self._snapshot = message.snapshot
        now = self.clock()
        screen = self.get_screen_main()
        if screen is None:
            return
        header = screen.query_one(StatusHeader)
        header.snapshot = message.snapshot
        header.now = now
        jobs = screen.query_one(JobTable)
        jobs.show(message.snapshot.jobs, now, self._schedules())
        if self.selected_job is None:
            self.selected_job = jobs.selected
        if message.job == self.selected_job and message.job is not None:
            job = self.config.jobs.get(message.job)
            screen.query_one(TrendBar).show(message.job, job.schedule.explain() if job else "(not in jobs.toml)",
                                            message.trend)
            screen.query_one(HistoryTable).show(message.history, set(message.trend.slow) if message.trend else None)
            self._follow_newest(screen, message.history)

    def get_screen_main(self) -> MainScreen | None:
        """The main screen while its widgets can be queried: not before compose, nor during teardown,
        when timers and refreshes may still arrive."""
        for screen in list(self._screen_stacks.get("_default", [])):
            if isinstance(screen, MainScreen):
                return screen if screen.is_mounted and screen.query(StatusHeader) else None
        return None

    def _follow_newest(self, screen: MainScreen, history: list) -> None:
        """The log pane shows the selected run, or else the job's newest run that has output."""
        run_id = self.selected_run
        if run_id is None or run_id not in {r.id for r in history}:
            newest = next((r for r in history if r.status not in ("missed", "skipped", "queued")), None)
            run_id = newest.id if newest else None
        screen.query_one(LogView).open_run(run_id)

    def _schedules(self) -> dict[str, str]:
        return {name: job.schedule.expr + ("" if job.tz == "UTC" else f" {job.tz}")
                for name, job in self.config.jobs.items()}

    def _tick(self) -> None:
        screen = self.get_screen_main()
        if screen is None:
            return
        screen.query_one(StatusHeader).now = self.clock()
        if self._snapshot is not None:
            screen.query_one(JobTable).show(self._snapshot.jobs, self.clock(), self._schedules())

    # --- selection ----------------------------------------------------------------------
    @on(DataTable.RowHighlighted, "#jobs")
    def _job_highlighted(self, event: DataTable.RowHighlighted) -> None:
        name = event.row_key.value if event.row_key else None
        if name != self.selected_job:
            self.selected_job = name
            self.selected_run = None
            self._wake.set()

    @on(DataTable.RowHighlighted, "#history")
    def _run_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is None or not event.data_table.has_focus:
            return
        self.selected_run = int(event.row_key.value)
        screen = self.get_screen_main()
        if screen is not None:
            screen.query_one(LogView).open_run(self.selected_run)

    @on(DataTable.RowSelected, "#jobs")
    def _job_selected(self, event: DataTable.RowSelected) -> None:
        name = event.row_key.value
        health = self.get_screen_main().query_one(JobTable).health(name)
        self._open_logs_for_job(name, failing=health is not None and health.state == "failing")

    @on(DataTable.RowSelected, "#history")
    def _run_selected(self, event: DataTable.RowSelected) -> None:
        self.push_screen(LogScreen(self.db_path, int(event.row_key.value)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="open")
    def _open_logs_for_job(self, name: str, failing: bool) -> None:
        """A failing job opens its last failed run with errors only; otherwise its newest run.
        `failing` is read from the table on the UI thread; this worker only reads the store."""
        conn = connect(self.db_path, readonly=True)
        try:
            failed = ledger.latest(conn, name, BAD)
            latest = ledger.latest(conn, name, HAS_LOGS)
        finally:
            conn.close()
        if failing and failed is not None:
            self.call_from_thread(self.push_screen, LogScreen(self.db_path, failed.id, errors_only=True))
        elif latest is not None:
            self.call_from_thread(self.push_screen, LogScreen(self.db_path, latest.id))
        else:
            self.call_from_thread(self.notify, f"{name} has no runs with logs yet", markup=False)

    # --- acting -------------------------------------------------------------------------
    def _refuse_if_read_only(self) -> bool:
        if self.read_only:
            self.notify(f"read-only: {self.read_only_reason}", severity="warning", markup=False)
        return self.read_only

    def _job_or_notice(self) -> str | None:
        job = self.get_screen_main().query_one(JobTable).selected if self.get_screen_main() else None
        if job is None:
            self.notify("no job selected", markup=False)
        return job

    def action_trigger(self) -> None:
        if not self._refuse_if_read_only() and (job := self._job_or_notice()):
            self._act("trigger", job=job)

    def action_pause(self) -> None:
        if self._refuse_if_read_only() or not (job := self._job_or_notice()):
            return
        health = self.get_screen_main().query_one(JobTable).health(job)
        self._act("resume" if health and health.paused else "pause", job=job)

    def action_kill(self) -> None:
        if self._refuse_if_read_only() or not (job := self._job_or_notice()):
            return
        screen = self.get_screen_main()
        history = screen.query_one(HistoryTable)
        if history.has_focus and history.selected is not None:
            run_id = history.selected
            self.push_screen(ConfirmScreen(f"Kill run {run_id} of {job}?"),
                             lambda yes: yes and self._act("kill", run_id=run_id))
            return
        health = screen.query_one(JobTable).health(job)
        if not health or not health.running:
            self.notify(f"{job} has no running run to kill", markup=False)
            return
        self.push_screen(ConfirmScreen(f"Kill run {', '.join(map(str, health.running))} of {job}?"),
                         lambda yes: yes and self._act("kill", job=job))

    def action_reload(self) -> None:
        if self._refuse_if_read_only():
            return
        try:
            new = load_config(self.config.path)
        except ConfigError as exc:
            self.notify("\n".join(exc.errors[:6]), title="jobs.toml refused; the last good config keeps running",
                        severity="error", timeout=15, markup=False)
            return
        self.config = new
        self._act("reload")

    @work(thread=True, exit_on_error=False, group="act")
    def _act(self, kind: str, job: str | None = None, run_id: int | None = None) -> None:
        ok, answer = self.controls.request(kind, job=job, run_id=run_id)
        self.call_from_thread(self.notify, answer, severity="information" if ok else "error", markup=False)
        self._wake.set()

    def action_filter(self) -> None:
        screen = self.get_screen_main()
        if screen is None or self.screen is not screen:
            return
        box = screen.query_one("#job-filter", Input)
        box.remove_class("hidden")
        box.focus()

    @on(Input.Changed, "#job-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.get_screen_main().query_one(JobTable).refilter(event.value, self.clock(), self._schedules())

    @on(Input.Submitted, "#job-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.input.add_class("hidden")
        self.get_screen_main().query_one(JobTable).focus()

    def on_key(self, event) -> None:
        screen = self.get_screen_main()
        if event.key == "escape" and screen is not None and self.screen is screen:
            box = screen.query_one("#job-filter", Input)
            if box.has_focus or box.value:
                box.value = ""
                box.add_class("hidden")
                screen.query_one(JobTable).focus()
                event.stop()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        for title, help_text, action in (
                ("Trigger selected job", "Run the selected job now", self.action_trigger),
                ("Pause or resume selected job", "Toggle pause", self.action_pause),
                ("Kill running run", "Kill the selected job's running run", self.action_kill),
                ("Reload jobs.toml", "Re-read the jobs file", self.action_reload),
                ("Filter jobs", "Filter the job list by name", self.action_filter),
                ("Help", "List every key", self.action_help)):
            yield SystemCommand(title, help_text, action)
