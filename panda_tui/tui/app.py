"""PandaApp: builds the services the screens share, opens the main screen, and keeps what belongs to no
screen: where notices go, help, quitting, and the work deferred until the first screen is shown. The keys
that act belong to the main screen (screens/main.py, screens/acting.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from rich.errors import MarkupError
from rich.text import Text
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from panda_tui.config import Config
from panda_tui.readmodel.running import FixedJobs
from panda_tui.tui import quitting
from panda_tui.tui.controls import Controls
from panda_tui.tui.header_line import alarm_lines
from panda_tui.tui.marks import Marks, detect
from panda_tui.tui.messages import FirstScreenShown, Refreshed
from panda_tui.tui.screens.main import MainScreen
from panda_tui.tui.mode import ConsoleMode
from panda_tui.tui.services import JobReader, OwnScheduler, Services
from panda_tui.tui.widgets.notice_bar import NoticeBar, Notices

if TYPE_CHECKING:
    from textual.scrollbar import ScrollBarRender

FIRST_SCREEN_WAIT = 2.0  # seconds: deferred work starts by then even if the first screen is slow to come


class PandaApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "panda-tui"
    BINDINGS = [
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, jobs: JobReader | Config, db_path: str, mode: ConsoleMode | str = ConsoleMode.EMBEDDED,
                 clock: Callable[[], float] = time.time, read_only_reason: str | None = None,
                 marks: Marks | None = None, after_first_screen: Callable[[], None] | None = None,
                 scheduler: OwnScheduler | None = None,
                 starter: Callable[[], OwnScheduler | None] | None = None, first: Refreshed | None = None):
        """`scheduler`: the one this console runs (embedded), watched for its loop dying. `starter`: starts
        one here on a key, while none runs (a daemon held the store last, so the console did not by itself).
        `after_first_screen`: work that can wait for the first paint (building the embedded scheduler and
        starting its loop). `first`: the store as read before the app ran (tui.reading.read_first)."""
        super().__init__()
        self.services = Services(
            db_path=db_path, clock=clock, marks=marks or detect(), mode=ConsoleMode(mode),
            read_only_reason=read_only_reason or "opened with --read-only", controls=Controls(db_path, can_start_here=starter is not None),
            jobs=FixedJobs(jobs) if isinstance(jobs, Config) else jobs, notices=Notices(), scheduler=scheduler,
            starter=starter)
        self._main = MainScreen(self.services, jobs if isinstance(jobs, Config) else None, first)
        self._after_first_screen = after_first_screen
        self._scrollbars: type[ScrollBarRender] | None = None

    @property
    def main(self) -> MainScreen | None:
        """The main screen, once it is mounted with all its panes (for tests and probes)."""
        return self._main if self._main.is_mounted and self._main.ready else None

    @property
    def notices(self) -> Notices:
        return self.services.notices

    def get_default_screen(self) -> Screen:
        return self._main

    def on_mount(self) -> None:
        if not self.services.marks.colour:
            self.add_class("-plain")  # the focused pane shows by its border and title, not by colour
        if self.services.marks.ascii:
            self.add_class("-ascii")
            # ScrollBar.renderer is Textual's documented way to draw scroll bars otherwise. Set on one bar it
            # would miss those Textual's own widgets make (the palette, help); there is no per-app setting.
            # So it is set for the process while this app runs, and put back on unmount.
            from textual.scrollbar import ScrollBar

            from panda_tui.tui.ascii_scrollbar import AsciiScrollBarRender
            self._scrollbars, ScrollBar.renderer = ScrollBar.renderer, AsciiScrollBarRender
        if self._after_first_screen is not None:
            self.set_timer(FIRST_SCREEN_WAIT, self.first_screen_shown)  # should the first screen not come

    def on_first_screen_shown(self, _message: FirstScreenShown) -> None:
        self.first_screen_shown()

    def first_screen_shown(self) -> None:
        """The job list is on the terminal: now start what the first screen did not need (the embedded
        scheduler's loop, whose start-up would otherwise compete with the first paint for the CPU)."""
        work, self._after_first_screen = self._after_first_screen, None
        if work is not None:
            self.run_worker(work, thread=True, exit_on_error=False, group="after-first-screen")

    def on_unmount(self) -> None:
        if self._scrollbars is not None:  # the next app in this process (a test, a served session) draws its own
            from textual.scrollbar import ScrollBar
            ScrollBar.renderer = self._scrollbars

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """One line above the footer, never a toast over the log. Textual's own notices come with markup
        ("[b]ctrl+q[/b]"); ours pass markup=False, as a job's name or an error may hold brackets."""
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

    def action_help(self) -> None:
        from panda_tui.tui.screens.help import HelpScreen  # the screens the first one does not show load later
        from panda_tui.tui.screens.logs import LogScreen
        from panda_tui.tui.widgets.log_view import LogView
        latest = self.services.latest
        focused = self.screen.focused
        in_log = isinstance(self.screen, LogScreen) or (focused is not None and any(
            isinstance(node, LogView) for node in focused.ancestors_with_self))
        self.push_screen(HelpScreen(self.services.marks, read_only=self.services.read_only,
                                    alarms=lambda: alarm_lines(latest.snapshot, latest.scheduler_error),
                                    logs_first=in_log))

    async def action_quit(self) -> None:
        """An embedded console runs the scheduler: quitting stops its runs, so it asks first (tui/quitting.py)."""
        asking = quitting.question(*await asyncio.to_thread(quitting.going, self.services))
        if asking is None:
            self.exit()
            return
        from panda_tui.tui.screens.confirm import ConfirmScreen  # a question comes after the first screen

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()
        self.push_screen(ConfirmScreen(asking), answered)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        commands: list[tuple[str, str, str]] = []
        if isinstance(screen, MainScreen):
            if not self.services.read_only:
                commands += [("Trigger selected job", "Run the selected job now", "trigger"),
                             ("Pause or resume selected job", "Toggle pause", "pause"),
                             ("Kill running run", "Kill the selected job's running run", "kill"),
                             ("Acknowledge selected job", "Silence its reminders until its next success (again: undo)",
                              "ack"),
                             ("Reload jobs.toml", "Ask the scheduler to re-read its jobs file", "reload")]
            commands.append(("Filter jobs", "Filter the job list by name", "filter"))
        for title, help_text, action in commands:
            yield SystemCommand(title, help_text, _screen_action(screen, action))
        yield SystemCommand("Help", "List every key", self.action_help)


def _screen_action(screen: Screen, action: str) -> Callable[[], object]:
    return lambda: screen.run_action(action)
