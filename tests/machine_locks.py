"""Locks on what this machine has one of, shared by every test process on it: pytest-xdist's workers and a
second test suite run from another clone at the same time.

Each resource is a file under /tmp locked with `fcntl.flock`: whoever wants the resource waits until the
holder is done. The kernel drops a lock when its process dies, so a pytest killed -9 never leaves one held;
what such a run left behind (a swarm, a second dockerd) is cleaned up by the next holder, under the lock.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

LOCK_DIR = "/tmp"  # not the clone's folder: two clones must find the same file
SWARM = "swarm"  # the shared engine's swarm mode, and the swarm ports 127.0.0.x:2377 on loopback
SECOND_ENGINES = "second-engines"  # creating, or cleaning up after a killed run, /tmp/pd2-* folders
SYSTEMD = "systemd"  # systemd booted as PID 1 by systemd-nspawn over this machine's /usr

_held: dict[str, tuple[int, int]] = {}  # name -> (fd, depth): one process may take its own lock again
_guard = threading.Lock()


def lock_path(name: str) -> str:
    return os.path.join(LOCK_DIR, f"panda-tests-{name}.lock")


@contextmanager
def machine_lock(name: str, note=print) -> Iterator[None]:
    """Hold the machine-wide lock `name` (waiting as long as another process holds it); re-entrant within
    a process. `note` hears once that we wait, and for how long we waited."""
    with _guard:
        again = name in _held
        if again:
            fd, depth = _held[name]
            _held[name] = (fd, depth + 1)
    if again:
        try:
            yield
        finally:
            _release(name)
        return
    fd = os.open(lock_path(name), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        note(f"waiting for the machine lock {lock_path(name)} (another test process holds it)")
        began = time.monotonic()
        fcntl.flock(fd, fcntl.LOCK_EX)
        note(f"got {lock_path(name)} after {time.monotonic() - began:.1f}s")
    with _guard:
        _held[name] = (fd, 1)
    try:
        yield
    finally:
        _release(name)


def _release(name: str) -> None:
    with _guard:
        fd, depth = _held[name]
        if depth > 1:
            _held[name] = (fd, depth - 1)
            return
        del _held[name]
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def unused(path: str) -> bool:
    """Whether nobody holds a flock on the file at `path` (its owner died, or let go)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops the lock we may have taken


@contextmanager
def held_file(path: str) -> Iterator[None]:
    """Hold a flock on `path` (created) while the block runs: it says "in use" to `unused`."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
