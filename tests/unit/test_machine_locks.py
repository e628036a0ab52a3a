"""The machine-wide locks the suite takes on shared resources (tests/machine_locks.py): another process waits
for the holder, the kernel frees a lock whose holder was killed, and a process may take its own lock again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid

from tests.conftest import REPO
from tests.integration.helpers import wait_until
from tests.machine_locks import lock_path, machine_lock, unused

HOLD = ("import sys, time; sys.path.insert(0, {repo!r}); from tests.machine_locks import machine_lock\n"
        "with machine_lock({name!r}):\n    print('held', flush=True); time.sleep(600)\n")


def holder(name: str) -> subprocess.Popen:
    """Another process that takes the lock and keeps it until it is killed."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD.format(repo=str(REPO), name=name)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "held\n"
    return proc


def test_a_second_process_waits_for_the_holder_and_gets_the_lock_once_it_is_killed():
    name = f"unit-{uuid.uuid4().hex[:8]}"
    other = holder(name)
    got, notes = threading.Event(), []

    def take():
        with machine_lock(name, note=notes.append):
            got.set()

    try:
        assert not unused(lock_path(name))
        taker = threading.Thread(target=take)
        taker.start()
        wait_until(lambda: notes, 30, what="the taker to say it waits")
        assert not got.is_set()  # it waits: the other process still holds the lock
        other.send_signal(signal.SIGKILL)  # killed -9, it never lets go itself: the kernel does
        taker.join(60)
        assert got.is_set() and unused(lock_path(name))
        assert notes[0].startswith("waiting for the machine lock") and notes[1].startswith("got ")
    finally:
        other.kill()
        other.wait()
        os.remove(lock_path(name))


def test_a_process_may_take_its_own_lock_again():
    name = f"unit-{uuid.uuid4().hex[:8]}"
    try:
        with machine_lock(name, note=AssertionError):  # any wait would raise
            with machine_lock(name, note=AssertionError):
                assert not unused(lock_path(name))
            assert not unused(lock_path(name))  # still held by the outer block
        assert unused(lock_path(name))
    finally:
        os.remove(lock_path(name))
