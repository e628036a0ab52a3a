"""The console's only way to act: control requests in the store, answered by the one scheduler."""

from __future__ import annotations

import sqlite3
import threading

from panda_tui.store import StoreError, connect, control, ledger
from panda_tui.store.control import Answer, ControlKind, Reply, ask
from panda_tui.store.ledger import Run

NO_SCHEDULER = "no scheduler is running"
EMBED = "open a console with `panda-tui --embed` to run one there"  # a console opened with --attach never runs one


class Asked:
    """A request a key asked for, from the key on (its row is written later, on a worker)."""


class Controls:
    def __init__(self, db_path: str, can_start_here: bool = False):
        """`can_start_here`: this console offers S (start a scheduler in it) while none runs."""
        self.db_path = db_path
        self.can_start_here = can_start_here
        self._triggers: set[Asked] = set()  # triggers asked for on a key and not answered yet
        self._unanswered: set[int] = set()  # trigger requests left pending when their answer did not come
        self._lock = threading.Lock()  # keys add on the UI thread, answers come on workers

    def asked(self, kind: ControlKind) -> Asked:
        """Count a request as not carried out from the key on (on the UI thread), until request() answers it:
        `q` asks before quitting while a trigger is on its way."""
        asked = Asked()
        if kind == ControlKind.TRIGGER:
            with self._lock:
                self._triggers.add(asked)
        return asked

    def no_scheduler(self) -> str:
        """What a key that acts answers while no scheduler runs: what would run one."""
        # a console opened with --attach (or the browser's) never runs one: another console can
        here = "S runs one in this console" if self.can_start_here else EMBED
        return f"{NO_SCHEDULER}: start `panda-tui daemon`, or {here}"

    @staticmethod
    def attached() -> str:
        """What S answers while a daemon runs: this console neither stops nor replaces it."""
        return ("this console is attached to the daemon: stop it by its own means (systemctl stop, or ctrl-c "
                f"where it runs), then start `panda-tui daemon` again, or {EMBED}")

    def request(self, kind: ControlKind, job: str | None = None, run_id: int | None = None,
                args: dict | None = None, asked: Asked | None = None) -> Answer:
        """Blocking (call from a worker). `asked`: what the key that asked for it counted (asked())."""
        try:
            answer = ask(self.db_path, kind, job=job, run_id=run_id, args=args)
        except (StoreError, sqlite3.Error) as exc:  # a store this console cannot write now: said, not dropped
            return Answer(Reply.REFUSED, f"could not ask the scheduler to {kind}: {exc}")
        finally:
            if asked is not None:
                with self._lock:
                    self._triggers.discard(asked)
        if answer.reply == Reply.NO_ANSWER and kind == ControlKind.TRIGGER and answer.request_id is not None:
            with self._lock:
                self._unanswered.add(answer.request_id)  # the scheduler may still take it
        if answer.reply == Reply.NO_SCHEDULER:
            return Answer(Reply.NO_SCHEDULER, self.no_scheduler())
        return answer

    def triggers_pending(self) -> int:
        """Triggers this console asked for that are not carried out yet: on their way to the store, or
        left there unanswered. Blocking when some were left unanswered (it reads their rows)."""
        with self._lock:
            left = set(self._unanswered)
        if left:
            conn = connect(self.db_path, readonly=True)
            try:
                done = {i for i in left if (req := control.get(conn, i)) is None or req.done_at is not None}
            finally:
                conn.close()
            with self._lock:
                self._unanswered -= done
        with self._lock:
            return len(self._triggers) + len(self._unanswered)

    def settled(self, run_id: int, timeout: float = 40.0) -> Run | None:
        """Blocking (a worker): the run once it reached a final status, or None if it has not by `timeout`
        (a kill waits out the job's kill_grace before SIGKILL)."""
        conn = connect(self.db_path, readonly=True)
        try:
            return ledger.wait_final(conn, run_id, timeout)
        finally:
            conn.close()
