"""Processes a test starts (daemons, consoles, servers, `run`/`exec`) die with the test.

`spawn` is `subprocess.Popen` with two guards: the process leads a process group of its own, which the
autouse fixture `reap_spawned` (tests/conftest.py) kills after every test, passed or failed (a module
fixture's processes, started before the test's own, after the session); and it runs
under `setpriv --pdeathsig KILL`, so the kernel kills it when the test process dies (pytest killed -9, an
xdist worker lost). Local runs a daemon hands to `panda-keeper` leave the group on purpose; the session
fixture `no_orphaned_local_runs` ends those.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

_SETPRIV = shutil.which("setpriv")  # util-linux; without it, the process-group guard alone
_spawned: list[subprocess.Popen] = []


def spawn(argv: list[str], **kwargs) -> subprocess.Popen:
    """Popen(argv, **kwargs), in a new session, killed with the test and with the test process."""
    prefix = [_SETPRIV, "--pdeathsig", "KILL", "--"] if _SETPRIV else []
    proc = subprocess.Popen([*prefix, *argv], start_new_session=True, **kwargs)
    _spawned.append(proc)
    return proc


def mark() -> int:
    """Where the current test's processes begin (those of module or session fixtures come before)."""
    return len(_spawned)


def reap(since: int = 0) -> list[int]:
    """Kill the process group of every process spawned since `since`; returns the pids that were still alive
    (a test that left one running)."""
    alive = []
    while len(_spawned) > since:
        proc = _spawned.pop()
        if proc.poll() is None:
            alive.append(proc.pid)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
    return alive
