"""S on the main screen: while no scheduler runs and a daemon held the store last, start one in this console
(on a worker: it takes the lease); else say why it starts none, never ignore the key. And hearing the
scheduler this console runs die."""

from __future__ import annotations

from textual import work
from textual.binding import Binding

from panda_tui.tui.messages import SchedulerDied
from panda_tui.tui.mode import ConsoleMode
from panda_tui.tui.scheduler_here import describe, may_start_here, watch, why_not_here
from panda_tui.tui.screens.opening import OpeningScreen
from panda_tui.tui.widgets.status_header import StatusHeader


class SchedulerKeyScreen(OpeningScreen):
    BINDINGS = [Binding("S", "start_scheduler", "scheduler"),  # offered while none runs: the notice line says more
                Binding("S", "not_here", show=False)]  # else S says why not

    def wake(self) -> None:
        """Read the store again at once (the main screen's polling worker)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("start_scheduler", "not_here"):
            return may_start_here(self.services) == (action == "start_scheduler") and self.app.screen is self
        return super().check_action(action, parameters)

    def action_not_here(self) -> None:
        self.notify(why_not_here(self.services), severity="warning", markup=False)

    @work(thread=True, exclusive=True, exit_on_error=False, group="start-scheduler")
    def action_start_scheduler(self) -> None:
        starter = self.services.starter
        if starter is None or not may_start_here(self.services):
            return
        try:
            scheduler = starter()
        except Exception as exc:  # a config this console cannot run (run_as), a store it cannot write
            self.app.call_from_thread(self.notify, f"could not start a scheduler here: {describe(exc)}",
                                      severity="error", markup=False)
            return
        if scheduler is None:
            self.app.call_from_thread(self.notify, "another scheduler took the store first: this console stays "
                                      "attached", markup=False)
            return
        self.services.scheduler, self.services.mode = scheduler, ConsoleMode.EMBEDDED
        self.app.call_from_thread(self._now_embedded)

    def _now_embedded(self) -> None:
        self.query_one(StatusHeader).mode = ConsoleMode.EMBEDDED
        watch(self.services, lambda error: self.post_message(SchedulerDied(error)))
        self.refresh_bindings()
        self.notify("this console runs the scheduler now; quitting stops it", markup=False)
        self.wake()

    def on_scheduler_died(self, message: SchedulerDied) -> None:
        self.services.latest.scheduler_error = message.error
        if self.query(StatusHeader):
            self.query_one(StatusHeader).died = message.error
        self.notify(f"the scheduler this console runs died: {message.error}", severity="error", markup=False)
