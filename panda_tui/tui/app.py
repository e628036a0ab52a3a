"""PandaApp: the keys that act, and where notices go. Reading lives in the main screen; acting goes through
control requests answered by the one scheduler."""

from __future__ import annotations

import time
from typing import Callable

from rich.errors import MarkupError
from rich.text import Text
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.scrollbar import ScrollBar

from panda_tui.config import Config
from panda_tui.readmodel.running import FixedJobs, JobSource, RunningConfig
from panda_tui.store.control import ControlKind
from panda_tui.tui.controls import Controls
from panda_tui.tui.marks import AsciiScrollBarRender, Marks, detect
from panda_tui.tui.screens.confirm import ConfirmScreen
from panda_tui.tui.screens.help import HelpScreen
from panda_tui.tui.screens.main import MainScreen
from panda_tui.tui.widgets.history_table import HistoryTable
from panda_tui.tui.widgets.notice_bar import NoticeBar, Notices

ACTING = {"trigger": "t", "pause": "p", "kill": "k", "reload": "r"}
FIRST_SCREEN_WAIT = 2.0  # seconds: deferred work starts by then even if the first screen is slow to come


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

    def __init__(self, jobs: RunningConfig | FixedJobs | Config, db_path: str, mode: str = "embedded",
                 clock: Callable[[], float] = time.time, read_only_reason: str | None = None,
                 marks: Marks | None = None, after_first_screen: Callable[[], None] | None = None):
        super().__init__()
        self._after_first_screen = after_first_screen  # work that can wait for the first paint
        self.jobs = FixedJobs(jobs) if isinstance(jobs, Config) else jobs
        self.config: Config | None = jobs if isinstance(jobs, Config) else None
        self.db_path = db_path
        self.mode = mode
        self.clock = clock
        self.read_only_reason = read_only_reason or "opened with --read-only"
        self.marks = marks or detect()
        self.controls = Controls(db_path)
        self.notices = Notices()  # what the notice line said, newest last
        self.main: MainScreen | None = None
        self._source_seen: tuple | None = None
        self._scrollbars: type | None = None

    @property
    def read_only(self) -> bool:
        return self.mode == "read-only"

    def get_default_screen(self) -> MainScreen:
        return MainScreen(self.db_path)

    def on_mount(self) -> None:
        if self.marks.ascii:
            self.add_class("-ascii")
            self._scrollbars, ScrollBar.renderer = ScrollBar.renderer, AsciiScrollBarRender  # process-wide
        if self._after_first_screen is not None:
            self.set_timer(FIRST_SCREEN_WAIT, self.first_screen_shown)  # should the first screen not come

    def first_screen_shown(self) -> None:
        """The job list is on the terminal: now start what the first screen did not need (the embedded
        scheduler's loop, whose start-up would otherwise compete with the first paint for the CPU)."""
        work, self._after_first_screen = self._after_first_screen, None
        if work is not None:
            self.run_worker(work, thread=True, exit_on_error=False, group="after-first-screen")

    def main_ready(self, screen: MainScreen) -> None:
        self.main = screen
        if self.read_only:
            self.notify(f"read-only: {self.read_only_reason}; keys that act are off", severity="warning",
                        markup=False)
        elif self.mode == "embedded":
            self.notify("no daemon found: this console runs the scheduler; quitting stops it", markup=False)

    def adopt_source(self, source: JobSource) -> None:
        """Show the jobs of `source` from now on; say so when the scheduler reloaded or the file is refused."""
        key = (source.origin, source.loaded_at, tuple(source.refused))
        if key == self._source_seen:
            return
        before, self._source_seen = self._source_seen, key
        shown, self.config = self.config, source.config
        if source.refused:
            first = source.refused[0].split(": ", 1)[-1]  # the file's name is in the header already
            more = f" (+{len(source.refused) - 1} more)" if len(source.refused) > 1 else ""
            self.notify(f"jobs.toml refused (? shows every error): {first}{more}", severity="error", timeout=30,
                        markup=False)
        elif (before is not None and before[0] == "scheduler" == source.origin
              and source.config != shown):  # not a scheduler's start, storing the jobs it had before
            self.notify(f"the scheduler reloaded: {len(source.config.jobs)} jobs", markup=False)

    def on_unmount(self) -> None:
        if self._scrollbars is not None:  # the next app in this process (a test, a served session) draws its own
            ScrollBar.renderer = self._scrollbars

    def schedules(self) -> dict[str, str]:
        if self.config is None:
            return {}
        return {name: job.schedule.expr + ("" if job.tz == "UTC" else f" {job.tz}")
                for name, job in self.config.jobs.items()}

    # --- notices: one line above the footer, never a toast over the log ------------------
    def notify(self, message: str, *, title: str = "", severity: str = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Textual's own notices come with markup ("[b]ctrl+q[/b]"); ours pass markup=False, as a job's name
        or an error may hold brackets."""
        if markup:
            try:
                message = Text.from_markup(str(message)).plain
            except MarkupError:
                pass
        self.notices.append((severity, str(message)))
        bars = [bar for screen in reversed(self.screen_stack) for bar in screen.query(NoticeBar)]
        if bars:
            bars[0].say(str(message), severity, timeout or (30.0 if severity == "error" else 8.0))
        else:
            super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    # --- acting -------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Keys that act are for the main screen's selection, and a read-only console does not advertise
        them (on_key answers them there)."""
        if action in ACTING:
            return not self.read_only and (self.main is None or self.screen is self.main)
        return True

    def on_key(self, event) -> None:
        if self.read_only and event.key in ACTING.values() and self.main is not None and self.screen is self.main \
                and not self.main.query_one("#job-filter").has_focus:
            what = {v: k for k, v in ACTING.items()}[event.key]
            self.notify(f"read-only ({self.read_only_reason}): {event.key} ({what}) is off", severity="warning",
                        markup=False)
            event.stop()

    def _job_or_notice(self) -> str | None:
        """The job a key acts on; from then on the cursor stays on it, wherever the list moves it."""
        job = self.main.jobs.selected if self.main is not None else None
        if job is None:
            self.notify("no job selected", markup=False)
        else:
            self.main.jobs.follow_top = False
        return job

    def action_trigger(self) -> None:
        if job := self._job_or_notice():
            self.act("trigger", job=job)

    def action_pause(self) -> None:
        if job := self._job_or_notice():
            health = self.main.jobs.health(job)
            self.act("resume" if health and health.paused else "pause", job=job)

    def action_kill(self) -> None:
        if not (job := self._job_or_notice()):
            return
        history = self.main.query_one(HistoryTable)
        if history.has_focus and history.selected is not None:
            run = history.run(history.selected)
            if run is not None and not run.active:  # say so now, rather than after asking
                self.notify(f"run {run.id} is not running ({run.status})", markup=False)
                return
            run_id = history.selected
            self.push_screen(ConfirmScreen(f"Kill run {run_id} of {job}?"),
                             lambda yes: yes and self.act("kill", run_id=run_id, watch=(run_id,)))
            return
        health = self.main.jobs.health(job)
        if not health or not health.running:
            self.notify(f"{job} has no running run to kill", markup=False)
            return
        running = tuple(health.running)
        self.push_screen(ConfirmScreen(f"Kill run {', '.join(map(str, running))} of {job}?"),
                         lambda yes: yes and self.act("kill", job=job, watch=running))

    def action_reload(self) -> None:
        """The scheduler re-reads its own jobs.toml; a refused file comes back as the answer."""
        self.act("reload")

    @work(thread=True, exit_on_error=False, group="act")
    def act(self, kind: str, job: str | None = None, run_id: int | None = None, watch: tuple[int, ...] = ()) -> None:
        """`watch`: runs whose end to say too (a kill answers at once, the run ends after its kill_grace)."""
        answer = self.controls.request(ControlKind(kind), job=job, run_id=run_id)
        self.call_from_thread(self.notify, answer.text, severity="information" if answer.ok else "error",
                              markup=False)
        if self.main is not None:
            self.main.wake()
        for watched in watch if answer.ok else ():
            if (run := self.controls.settled(watched)) is not None:
                code = "" if run.exit_code is None else f", exit {run.exit_code}"
                self.call_from_thread(self.notify, f"run {run.id} ({run.job}) {run.status}{code}", markup=False)

    def action_filter(self) -> None:
        if self.main is not None and self.screen is self.main:
            self.main.open_filter()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(read_only=self.read_only, alarms=self.alarms()))

    def alarms(self) -> list[str]:
        """What the header's alarms stand for, whole: for the help screen, where there is room."""
        snap = self.main.snapshot if self.main is not None else None
        if snap is None:
            return []
        out = [] if snap.holder else ["no scheduler is running: nothing runs on time until one starts"]
        out += [f"docker {host}: {info.get('error') or 'down'}" for host, info in sorted(snap.docker_hosts.items())
                if not info.get("up")]
        out += [f"jobs.toml refused: {line}" for line in snap.config_errors]
        if snap.undelivered_alerts:
            out.append(f"{snap.undelivered_alerts} alerts not delivered yet: `panda-tui alerts` lists them")
        return out

    async def action_quit(self) -> None:
        """An embedded console runs the scheduler: quitting stops its runs, so it asks first."""
        running = self.main.snapshot.running if self.main is not None and self.main.snapshot else 0
        if self.mode != "embedded" or not running:
            self.exit()
            return
        runs = sum(len(h.running) for h in self.main.snapshot.jobs)
        self.push_screen(ConfirmScreen(
            f"Quit? This console runs the scheduler: {runs} run{'s' if runs != 1 else ''} in progress will be "
            "stopped: given up to 10 s to finish, then SIGTERM, and SIGKILL after the job's grace. "
            "`panda-tui daemon` keeps jobs running without a console."), lambda yes: yes and self.exit())

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        commands = [("Trigger selected job", "Run the selected job now", self.action_trigger),
                    ("Pause or resume selected job", "Toggle pause", self.action_pause),
                    ("Kill running run", "Kill the selected job's running run", self.action_kill),
                    ("Reload jobs.toml", "Ask the scheduler to re-read its jobs file", self.action_reload)]
        if self.read_only:
            commands = []
        commands += [("Filter jobs", "Filter the job list by name", self.action_filter),
                     ("Help", "List every key", self.action_help)]
        for title, help_text, action in commands:
            yield SystemCommand(title, help_text, action)
