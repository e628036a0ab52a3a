"""The keys that act: trigger, pause / resume, kill (asked first), reload and ack / unack. Each writes a control request
that the one scheduler answers; the answer, and a kill's end, come back in the notice line. A screen with a
selection (the main screen) says what they act on."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events, work
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from panda_tui.readmodel.acks import Ack, current_acks
from panda_tui.readmodel.health import JobHealth
from panda_tui.store import connect
from panda_tui.store.control import ControlKind
from panda_tui.store.ledger import Run
from panda_tui.text import iso, safe, status_word
from panda_tui.tui.services import Services


def who() -> str:
    """user@host of the person at this console."""
    import getpass
    import socket
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except (KeyError, OSError):
        return f"unknown@{socket.gethostname()}"

def unack_question(ack: Ack) -> str:
    """`Remove the ack on "alpha" by ana@box (until its next success: restoring /data)?`"""
    until = "its next success" if ack.until is None else iso(ack.until)
    note = f": {safe(ack.note)}" if ack.note else ""
    return f'Remove the ack on "{safe(ack.job)}" by {safe(ack.by)} (until {until}{note})?'


ACTING = {"trigger": "t", "pause": "p", "kill": "k", "reload": "r", "ack": "a"}  # action: key


@dataclass(frozen=True)
class Chosen:
    """What a key acts on."""
    job: str
    health: JobHealth | None  # as last read
    run: Run | None = None  # a run the user chose (the history pane's cursor): k kills it, not the job's runs


class ActingScreen(Screen):
    BINDINGS = [
        Binding("t", "trigger", "trigger"),
        Binding("p", "pause", "pause/resume"),
        Binding("k", "kill", "kill"),
        Binding("a", "ack", "ack"),
        Binding("r", "reload", "reload", show=False),  # help and the palette: jobs.toml reloads when it changes
    ]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services

    # --- what the keys act on: the screen with the selection says ------------------------
    def acting_on(self) -> Chosen | None:
        """The selection a key acts on (the main screen also keeps its cursor on that job from then on)."""
        return None

    def wake(self) -> None:
        """Read the store again now: an answer changed what is shown."""

    # --- the keys -----------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The keys that act are advertised while this screen is in front (not behind help or a question),
        and never by a read-only console (on_key answers them)."""
        return action not in ACTING or (not self.services.read_only and self.app.screen is self)

    def on_key(self, event: events.Key) -> None:
        if self.services.read_only and event.key in ACTING.values() and not isinstance(self.focused, Input):
            what = {key: action for action, key in ACTING.items()}[event.key]
            self.notify(f"read-only ({self.services.read_only_reason}): {event.key} ({what}) is off",
                        severity="warning", markup=False)
            event.stop()

    def action_trigger(self) -> None:
        if chosen := self._chosen_or_say():
            self._ask(ControlKind.TRIGGER, job=chosen.job)

    def action_pause(self) -> None:
        if chosen := self._chosen_or_say():
            paused = chosen.health is not None and chosen.health.paused
            self._ask(ControlKind.RESUME if paused else ControlKind.PAUSE, job=chosen.job)

    def action_kill(self) -> None:
        if not (chosen := self._chosen_or_say()):
            return
        job, run = chosen.job, chosen.run
        if run is not None:
            if not run.active:  # say so now, rather than after asking
                self.notify(f"run {run.id} is not running ({status_word(run.status)})", markup=False)
                return
            self._confirm(f"Kill run {run.id} of {job}?", run_id=run.id, watch=(run.id,))
            return
        if chosen.health is None or not chosen.health.running:
            self.notify(f"{job} has no running run to kill", markup=False)
            return
        running = tuple(chosen.health.running)
        self._confirm(f"Kill run {', '.join(map(str, running))} of {job}?", job=job, watch=running)

    def action_reload(self) -> None:
        """The scheduler re-reads its own jobs.toml; a refused file comes back as the answer."""
        self._ask(ControlKind.RELOAD)

    def action_ack(self) -> None:
        """"I'm on it": silence the selected (failing or flapping) job's reminders until its next success, as
        `panda-tui ack JOB` does; again: take it back."""
        if chosen := self._chosen_or_say():
            self._toggle_ack(chosen.job)

    @work(thread=True, exclusive=False, exit_on_error=False, group="act")
    def _toggle_ack(self, job: str) -> None:
        """Ack at once; an ack held is asked about first (who, until, note), as a kill is: one stray `a` at
        3 AM must not lose someone's note and time."""
        conn = connect(self.services.db_path, readonly=True)
        try:
            held = current_acks(conn, self.services.clock()).get(job)
        finally:
            conn.close()
        if held is not None:
            self.app.call_from_thread(self._confirm, unack_question(held), job=job, kind=ControlKind.UNACK)
            return
        answer = self.services.controls.request(ControlKind.ACK, job=job, args={"by": who()})
        self.app.call_from_thread(self.notify, answer.text, severity="information" if answer.ok else "error",
                                  markup=False)
        self.wake()

    def _chosen_or_say(self) -> Chosen | None:
        chosen = self.acting_on()
        if chosen is None:
            self.notify("no job selected", markup=False)
        return chosen

    def _confirm(self, question: str, job: str | None = None, run_id: int | None = None,
                 watch: tuple[int, ...] = (), kind: ControlKind = ControlKind.KILL) -> None:
        from panda_tui.tui.screens.confirm import ConfirmScreen  # a question comes after the first screen

        def answered(yes: bool | None) -> None:
            if yes:
                self._ask(kind, job=job, run_id=run_id, watch=watch)
        self.app.push_screen(ConfirmScreen(question), answered)

    @work(thread=True, exclusive=False, exit_on_error=False, group="act")
    def _ask(self, kind: ControlKind, job: str | None = None, run_id: int | None = None,
             watch: tuple[int, ...] = ()) -> None:
        """`watch`: runs whose end to say too (a kill answers at once, the run ends after its kill_grace)."""
        controls = self.services.controls
        answer = controls.request(kind, job=job, run_id=run_id)
        self.app.call_from_thread(self.notify, answer.text, severity="information" if answer.ok else "error",
                                  markup=False)
        self.wake()
        for watched in watch if answer.ok else ():
            if (run := controls.settled(watched)) is not None:
                code = "" if run.exit_code is None else f", exit {run.exit_code}"
                self.app.call_from_thread(self.notify, f"run {run.id} ({run.job}) {status_word(run.status)}{code}",
                                          markup=False)
