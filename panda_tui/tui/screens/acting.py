"""The keys that act: trigger, pause / resume, kill (asked first), reload and ack / unack. Each writes a control request
that the one scheduler answers; the answer, and a kill's end, come back in the notice line. A screen with a
selection (the main screen) says what they act on."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import events, work
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from panda_tui.readmodel.acks import Ack, current_acks
from panda_tui.readmodel.health import REMOVED, JobHealth
from panda_tui.store import StoreError, acking, connect
from panda_tui.store.acking import holds_words
from panda_tui.store.control import ControlKind
from panda_tui.store.ledger import Run
from panda_tui.text import safe, status_word
from panda_tui.tui.controls import Asked
from panda_tui.tui.services import Services

if TYPE_CHECKING:
    from panda_tui.tui.screens.confirm import ConfirmScreen


def who() -> str:
    """user@host of the person at this console."""
    import getpass
    import socket
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except (KeyError, OSError):
        return f"unknown@{socket.gethostname()}"

def unack_question(ack: Ack, missed: int = 0) -> str:
    """`Remove the ack on "alpha" by ana@box (until its next success: restoring /data)?`, how long it holds in
    `status`'s words (store.acking.holds_words; `missed`: the missed runs it covers)."""
    note = f": {safe(ack.note)}" if ack.note else ""
    return f'Remove the ack on "{safe(ack.job)}" by {safe(ack.by)} ({holds_words(ack, missed)}{note})?'


def already_ended(run: Run) -> str:
    """`run 12 already ended: timeout (timed out after 30s)`"""
    reason = f" ({safe(run.reason)})" if run.reason else ""
    return f"run {run.id} already ended: {status_word(run.status)}{reason}"


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
        self._kill_asked: tuple[ConfirmScreen, str, tuple[int, ...]] | None = None  # the kill question open
        self._overtaken_by: list[Run] = []  # the runs that ended by themselves while it was open

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
        if (chosen := self._chosen_or_say()) and self._scheduled_here(chosen, "trigger"):
            # counted from the key on, not once the worker wrote it: a `q` right after must ask first
            self._ask(ControlKind.TRIGGER, job=chosen.job, asked=self.services.controls.asked(ControlKind.TRIGGER))

    def action_pause(self) -> None:
        paused = (chosen := self._chosen_or_say()) is not None and chosen.health is not None and chosen.health.paused
        if chosen and self._scheduled_here(chosen, "resume" if paused else "pause"):
            self._ask(ControlKind.RESUME if paused else ControlKind.PAUSE, job=chosen.job)

    def _scheduled_here(self, chosen: Chosen, verb: str) -> bool:
        """A job only `panda-tui exec` runs (not in jobs.toml) has no schedule here to trigger or pause: say so
        at once, rather than ask (a console with no scheduler would only have said that none runs)."""
        if chosen.health is None or chosen.health.declared:
            return True
        why = REMOVED if chosen.health.removed else "only `panda-tui exec` runs it (not in jobs.toml)"
        self.notify(f'cannot {verb} "{chosen.job}": {why}', severity="warning", markup=False)
        return False

    def action_kill(self) -> None:
        if not (chosen := self._chosen_or_say()):
            return
        job, run = chosen.job, chosen.run
        snap = self.services.latest.snapshot
        if snap is not None and snap.holder is None:  # say so now, not after `y`: nobody would carry it out
            self.notify(self.services.controls.no_scheduler(), severity="error", markup=False)
            return
        if run is not None:
            if not run.active:  # say so now, rather than after asking
                self.notify(f"run {run.id} is not running ({status_word(run.status)})", markup=False)
                return
            self._confirm(f"Kill run {run.id} of {job}?", run_id=run.id, watch=(run.id,), runs_of=job)
            return
        if chosen.health is None or not chosen.health.running:
            self.notify(f"{job} has no running run to kill", markup=False)
            return
        running = tuple(chosen.health.running)
        self._confirm(f"Kill run {', '.join(map(str, running))} of {job}?", job=job, watch=running, runs_of=job)

    def action_reload(self) -> None:
        """The scheduler re-reads its own jobs.toml; a refused file comes back as the answer."""
        self._ask(ControlKind.RELOAD)

    def action_ack(self) -> None:
        """"I'm on it": silence the selected (failing, flapping or missed-runs) job's reminders until its next
        success, or for a time, with a note, as `panda-tui ack JOB --for --note` does (screens/ack.py); again:
        take it back."""
        if chosen := self._chosen_or_say():
            health = chosen.health
            self._toggle_ack(chosen.job, health.missed_acked if health else 0)

    @work(thread=True, exclusive=False, exit_on_error=False, group="act")
    def _toggle_ack(self, job: str, missed: int = 0) -> None:
        """An ack held is asked about first (who, until, note), as a kill is: one stray `a` at 3 AM must not
        lose someone's note and time. Else: how long, and a note. `missed`: the missed runs it covers, which
        the question names."""
        try:
            conn = connect(self.services.db_path, readonly=True)
            try:
                held = current_acks(conn, self.services.clock()).get(job)
                refusal = None if held else acking.refused(conn, job, self.services.clock())
            finally:
                conn.close()
        except (StoreError, sqlite3.Error) as exc:
            self.app.call_from_thread(self.notify, f"could not read {job}'s ack: {exc}", severity="error",
                                      markup=False)
            return
        if held is not None:
            self.app.call_from_thread(self._confirm, unack_question(held, missed), job=job, kind=ControlKind.UNACK)
        elif refusal is not None:  # said at once, in the scheduler's words, not after the dialog
            self.app.call_from_thread(self.notify, refusal, severity="warning", markup=False)
        else:
            self.app.call_from_thread(self._ask_how_long, job)

    def _ask_how_long(self, job: str) -> None:
        from panda_tui.tui.screens.ack import AckAsked, AckScreen  # loaded when first asked

        def answered(asked: AckAsked | None) -> None:
            if asked is not None:
                args = {"by": who(), "note": asked.note}
                self._ask(ControlKind.ACK, job=job, args=args | ({"for": asked.seconds} if asked.seconds else {}))
        self.app.push_screen(AckScreen(job, self.services.marks), answered)

    def _chosen_or_say(self) -> Chosen | None:
        chosen = self.acting_on()
        if chosen is None:
            self.notify("no job selected", markup=False)
        return chosen

    def _confirm(self, question: str, job: str | None = None, run_id: int | None = None,
                 watch: tuple[int, ...] = (), kind: ControlKind = ControlKind.KILL, runs_of: str | None = None) -> None:
        """`watch`: the runs of job `runs_of` a kill asks about (the question says so once they all ended by
        themselves)."""
        from panda_tui.tui.screens.confirm import ConfirmScreen  # a question comes after the first screen

        asking = ConfirmScreen(question)

        def answered(yes: bool | None) -> None:
            self._kill_asked = None
            if asking.overtaken:  # its runs ended before any key: the notice line keeps how, once it closes
                self.notify("; ".join(map(already_ended, self._overtaken_by)), markup=False)
            elif yes:
                self._ask(kind, job=job, run_id=run_id, watch=watch)
        if runs_of is not None:
            self._kill_asked = (asking, runs_of, watch)
        self.app.push_screen(asking, answered)

    def runs_read(self, job: str, runs: list[Run]) -> None:
        """The job's runs as last read: a kill question whose runs all ended meanwhile says so, instead of
        asking to kill what no longer runs."""
        if self._kill_asked is None or self._kill_asked[1] != job or self._kill_asked[0].overtaken:
            return
        asking, _, watched = self._kill_asked
        ended = [run for run in runs if run.id in watched and not run.active]
        if watched and len(ended) == len(watched):
            self._overtaken_by = ended
            ids = ", ".join(str(run.id) for run in ended)
            words = ", ".join(sorted({status_word(run.status) for run in ended}))
            asking.overtake(f"Run{'s' if len(ended) > 1 else ''} {ids} of {job} ended by itself before it was "
                            f"killed ({words}): nothing to kill.")

    def _ended(self, watch: tuple[int, ...]) -> list[Run]:
        """The watched runs, if every one of them has ended (blocking: a worker)."""
        runs = [self.services.controls.settled(run_id, timeout=0) for run_id in watch]
        return [run for run in runs if run is not None] if watch and all(runs) else []

    @work(thread=True, exclusive=False, exit_on_error=False, group="act")
    def _ask(self, kind: ControlKind, job: str | None = None, run_id: int | None = None,
             watch: tuple[int, ...] = (), asked: Asked | None = None, args: dict | None = None) -> None:
        """`watch`: runs whose end to say too (a kill answers at once, the run ends after its kill_grace).
        `asked`: what the key counted (Controls.asked)."""
        controls = self.services.controls
        answer = controls.request(kind, job=job, run_id=run_id, args=args, asked=asked)
        if not answer.ok and kind == ControlKind.KILL and (ended := self._ended(watch)):
            # `y` just as the run ended, before this console read its end: how it ended, not "no running run"
            self.app.call_from_thread(self.notify, "; ".join(map(already_ended, ended)), markup=False)
            self.wake()
            return
        self.app.call_from_thread(self.notify, answer.text, severity="information" if answer.ok else "error",
                                  markup=False)
        self.wake()
        for watched in watch if answer.ok else ():
            if (run := controls.settled(watched)) is not None:
                code = "" if run.exit_code is None else f", exit {run.exit_code}"
                self.app.call_from_thread(self.notify, f"run {run.id} ({run.job}) {status_word(run.status)}{code}",
                                          markup=False)
