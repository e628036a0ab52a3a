"""The scheduler an embedded console runs, built after its first screen. The console claims the lease at once
(store.lease.claim: no other scheduler can start, and the header says "embedded" from the first frame), but
imports and builds the engine (asyncio, runners, alerts, the Docker SDK) only in launch(), which the console
calls off its event loop once the job list is on the terminal."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from panda_tui.config import Config
from panda_tui.store import connect, lease, state
from panda_tui.store.db import transaction

if TYPE_CHECKING:
    from panda_tui.engine.daemon import EmbeddedScheduler


class LateScheduler:
    """engine.daemon.EmbeddedScheduler as the console sees it (tui.services.OwnScheduler), holding the lease
    from the start and built on the first launch()."""

    def __init__(self, config: Config, db_path: str, claim: lease.Claim):
        self.config, self.db_path, self.claim = config, db_path, claim
        self.on_error: Callable[[BaseException], None] | None = None
        self._error: BaseException | None = None  # what building it failed of
        self._built: EmbeddedScheduler | None = None
        self._lock = threading.Lock()
        self._stopped = False

    @classmethod
    def take(cls, config: Config, db_path: str) -> LateScheduler | None:
        """Claim the lease for a console's scheduler; None while another scheduler holds it."""
        conn = connect(db_path)
        try:
            claimed = lease.claim(conn, "console", time.time())
        finally:
            conn.close()
        return cls(config, db_path, claimed) if claimed is not None else None

    @property
    def error(self) -> BaseException | None:
        """What its loop died of (or building it)."""
        return self._error if self._built is None else self._built.error

    def launch(self) -> None:
        """Build the scheduler on the lease claimed, and run its loop on its thread; once (blocking: the
        console calls it on a worker thread). A failure is reported as the loop dying."""
        with self._lock:
            if self._stopped or self._built is not None or self._error is not None:
                return
            try:
                from panda_tui.cli import wire_changes
                from panda_tui.engine.daemon import EmbeddedScheduler
                wire_changes()  # its alerts say what changed since the last good run
                built = EmbeddedScheduler(self.config, self.db_path, claim=self.claim)
                built.on_error = self._died
                built.acquire()
            except Exception as exc:  # the lease lapsed meanwhile, a store it cannot write
                self._error = exc
                self._died(exc)
                return
            self._built = built
        built.launch()

    def _died(self, error: BaseException) -> None:
        if self.on_error is not None:
            self.on_error(error)

    @property
    def running(self) -> int:
        """Runs in progress, which quitting would stop."""
        return self._built.running if self._built is not None else 0

    def stop(self) -> None:
        """Stop its loop (its runs: see EmbeddedScheduler.stop), or, never built, let the claim go."""
        with self._lock:
            self._stopped, built = True, self._built
        if built is not None:
            built.stop()
            return
        conn = connect(self.db_path)
        try:
            with transaction(conn):  # as engine.ownership releases it: the console held it last
                current = lease.holder(conn)
                if current is not None and current.owner == self.claim.owner:
                    lease.release(conn, self.claim.owner)
                    state.put_last_scheduler(conn, self.claim.owner, time.time())
        finally:
            conn.close()
