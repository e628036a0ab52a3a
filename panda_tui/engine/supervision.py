"""What the scheduler loop tells whoever supervises it: ready, still alive, how things stand, stopping.

The loop calls `ready()` once it holds the lease, has settled what a previous scheduler left and has planned
every job; `ticked()` after each completed tick; `stopping()` when shutdown begins. The base class tells
nobody (an embedded scheduler, tests); `Systemd` speaks the notify protocol to a service manager. The
watchdog ping is sent from the loop's own thread after a tick, never from a side thread: a loop that hangs
stops pinging, and systemd restarts the service.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Mapping

from panda_tui.decisions import Decision, TestStall
from panda_tui.engine.notify import Notifier
from panda_tui.store import ledger
from panda_tui.store.ledger import BAD, RunChanged, RunStatus as S

STATUS_EVERY = 2.0  # how often the STATUS line is recomputed (and sent only when it changed)
SETTLED = (S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.KILLED, S.LOST)  # outcomes that say how a job is doing
# Tests only: when the daemon runs under a service manager (NOTIFY_SOCKET) with this variable naming a file,
# and the file appears, the loop removes it and blocks for the seconds written in it (as a hung read would),
# so that a test can watch the watchdog fire. Nothing else reads the variable; unset, nothing happens.
STALL_VARIABLE = "PANDA_TEST_STALL_FILE"


class Supervision:
    """Nobody is watching: every call is a no-op."""

    max_sleep: float | None = None  # the loop never sleeps longer than this between ticks

    def ready(self) -> None: ...

    def standby(self, holder: str) -> None: ...

    def alive(self) -> None: ...

    def ticked(self) -> None: ...

    def stopping(self) -> None: ...


class Systemd(Supervision):
    """READY=1, WATCHDOG=1 every WATCHDOG_USEC/2, STATUS=<jobs · running · failing>, STOPPING=1."""

    def __init__(self, notifier: Notifier, status: Callable[[], str],
                 monotonic: Callable[[], float] = time.monotonic, stall: Callable[[], None] | None = None):
        self.notifier = notifier
        self.status = status
        self.monotonic = monotonic
        self.max_sleep = notifier.watchdog_every
        self._stall = stall
        self._pinged = self._status_at = monotonic()
        self._line = ""

    def ready(self) -> None:
        self._line = self.status()
        self.notifier.send("READY=1", f"STATUS={self._line}")
        self._pinged = self._status_at = self.monotonic()

    def standby(self, holder: str) -> None:
        """A standby is up and doing its job, waiting: it is ready, and its loop pings the watchdog too."""
        self._line = f"standby: waiting for the lease held by {holder}"
        self.notifier.send("READY=1", f"STATUS={self._line}")

    def alive(self) -> None:
        """WATCHDOG=1 when due. The standby's wait calls this alone; the loop, through ticked()."""
        if self._stall is not None:
            self._stall()
        mono = self.monotonic()
        every = self.notifier.watchdog_every
        if every is not None and mono - self._pinged >= every:
            self.notifier.send("WATCHDOG=1")
            self._pinged = mono

    def ticked(self) -> None:
        self.alive()
        if (mono := self.monotonic()) - self._status_at >= STATUS_EVERY:
            self._status_at = mono
            if (line := self.status()) != self._line:
                self._line = line
                self.notifier.send(f"STATUS={line}")

    def stopping(self) -> None:
        self.notifier.send("STOPPING=1", "STATUS=stopping: runs in progress get their grace, then are stopped")


class Standing:
    """The STATUS line, "12 jobs · 1 running · 0 failing". Failing jobs are kept from run changes as the
    ledger announces them, so a line costs no query; a job's past is read once, when it is first counted."""

    def __init__(self, conn: sqlite3.Connection, jobs: Callable[[], Mapping[str, object]], running: Callable[[], int]):
        self.conn = conn
        self.jobs = jobs
        self.running = running
        self._failing: set[str] = set()
        self._known: set[str] = set()
        self._seen: Mapping[str, object] | None = None

    def on_change(self, change: RunChanged) -> None:
        run = change.run
        if run.status in SETTLED:
            self._known.add(run.job)
            (self._failing.add if run.status in BAD else self._failing.discard)(run.job)

    def line(self) -> str:
        jobs = self.jobs()
        if jobs is not self._seen:  # first count, or a reload: read the jobs not counted yet
            self._seen = jobs
            for name in jobs.keys() - self._known:
                self._known.add(name)
                last = ledger.latest(self.conn, name, SETTLED)
                if last is not None and last.status in BAD:
                    self._failing.add(name)
        failing = sum(1 for name in self._failing if name in jobs)
        return f"{_count(len(jobs), 'job')} · {self.running()} running · {failing} failing"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def stall_from_environ(emit: Callable[[Decision], None]) -> Callable[[], None] | None:
    """The test hook described at STALL_VARIABLE, or None when the variable is not set."""
    path = os.environ.get(STALL_VARIABLE)
    if not path:
        return None

    def stall() -> None:
        try:
            with open(path) as fh:
                seconds = float(fh.read().strip() or "3600")
            os.unlink(path)
        except (OSError, ValueError):
            return
        emit(TestStall(seconds, STALL_VARIABLE))
        time.sleep(seconds)  # blocks the loop's thread on purpose

    return stall
