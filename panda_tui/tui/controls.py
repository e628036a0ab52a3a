"""The console's only way to act: control requests in the store, answered by the one scheduler."""

from __future__ import annotations

from panda_tui.store import connect, ledger
from panda_tui.store.control import Answer, ControlKind, Reply, ask
from panda_tui.store.ledger import Run

NO_SCHEDULER = "no scheduler is running"


class Controls:
    def __init__(self, db_path: str, can_start_here: bool = False):
        """`can_start_here`: this console offers S (start a scheduler in it) while none runs."""
        self.db_path = db_path
        self.can_start_here = can_start_here

    def request(self, kind: ControlKind, job: str | None = None, run_id: int | None = None,
                args: dict | None = None) -> Answer:
        """Blocking (call from a worker)."""
        answer = ask(self.db_path, kind, job=job, run_id=run_id, args=args)
        if answer.reply == Reply.NO_SCHEDULER:
            here = "S runs one in this console" if self.can_start_here else "restart the console to embed one"
            return Answer(Reply.NO_SCHEDULER, f"{NO_SCHEDULER}: start `panda-tui daemon`, or {here}")
        return answer

    def settled(self, run_id: int, timeout: float = 40.0) -> Run | None:
        """Blocking (a worker): the run once it reached a final status, or None if it has not by `timeout`
        (a kill waits out the job's kill_grace before SIGKILL)."""
        conn = connect(self.db_path, readonly=True)
        try:
            return ledger.wait_final(conn, run_id, timeout)
        finally:
            conn.close()
