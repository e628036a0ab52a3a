"""The console's only way to act: control requests in the store, answered by the one scheduler."""

from __future__ import annotations

from panda_tui.store import connect, control, lease, ledger
from panda_tui.store.ledger import Run

NO_SCHEDULER = "no scheduler is running"


class Controls:
    def __init__(self, db_path: str):
        self.db_path = db_path

    def request(self, kind: str, job: str | None = None, run_id: int | None = None,
                args: dict | None = None, timeout: float = 8.0) -> tuple[bool, str]:
        """Blocking (call from a worker). Returns (ok, what happened or why not)."""
        conn = connect(self.db_path)
        try:
            if lease.live_holder(conn) is None:
                return False, f"{NO_SCHEDULER}: start `panda-tui daemon`, or restart the console to embed one"
            req_id = control.submit(conn, kind, job=job, run_id=run_id, args=args)
            done = control.wait_done(conn, req_id, timeout=timeout)
        finally:
            conn.close()
        if done is None or done.done_at is None:
            return False, f"the scheduler has not answered yet (request {req_id})"
        if done.error:
            return False, done.error
        return True, done.outcome or "done"

    def settled(self, run_id: int, timeout: float = 40.0) -> Run | None:
        """Blocking (a worker): the run once it reached a final status, or None if it has not by `timeout`
        (a kill waits out the job's kill_grace before SIGKILL)."""
        conn = connect(self.db_path, readonly=True)
        try:
            return ledger.wait_final(conn, run_id, timeout)
        finally:
            conn.close()
