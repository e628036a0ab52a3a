"""This machine's engine as a swarm manager, for the tests marked `swarm`: made once per test process and left
right after the last of them (tests/conftest.py keeps them one after another, on one xdist worker), under the
SWARM machine lock all along, so that another worker or another clone's suite waits instead of sharing it.

How a swarm the suite made is told from the user's own: `swarm init` itself puts the label SWARM_LABEL on the
swarm's spec, in the same call that makes it. Whatever stops a run midway (kill -9, a cancelled CI job, a
client timeout on an init that went through), the next run to take the SWARM lock finds a labelled swarm that
no living process holds (it holds the lock itself) and leaves it. A swarm without the label was made by
somebody else: it is used when this engine manages it, and never left.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from contextlib import ExitStack
from pathlib import Path

from tests.machine_locks import SECOND_ENGINES, SWARM, machine_lock

SWARM_LABEL = "panda-tests.made-by"  # on the spec of a swarm a test run made: "host pid"
OLD_MARKER = "/tmp/panda-tests-swarm.made"  # the NodeID that runs from before the label wrote down
API_TIMEOUT = 120  # init and leave on a loaded machine: a client timeout must not leave a swarm half-known


def _client():
    import docker
    return docker.from_env(timeout=API_TIMEOUT)


def _reachable():
    try:
        client = _client()
        client.ping()
        return client
    except Exception:  # any failure means: no engine here
        return None


def made_by_tests(client) -> bool:
    """Whether the engine manages a swarm that a test run made (its label, or an older run's marker)."""
    state = client.info().get("Swarm") or {}
    if state.get("LocalNodeState") == "inactive":
        return False
    if os.path.exists(OLD_MARKER) and Path(OLD_MARKER).read_text().strip() == state.get("NodeID"):
        return True
    if not state.get("ControlAvailable"):
        return False  # a worker of some swarm: the suite only ever makes managers
    labels = client.api.inspect_swarm().get("Spec", {}).get("Labels") or {}
    return SWARM_LABEL in labels


def leave_stale_swarm(client) -> bool:
    """Under the SWARM lock (so no living run holds a swarm): leave one a test run made. Returns whether it did."""
    stale = made_by_tests(client)
    if stale:
        client.swarm.leave(force=True)
    if os.path.exists(OLD_MARKER):
        os.remove(OLD_MARKER)
    return stale


class SwarmHold:
    """The SWARM lock and, on demand, the swarm, for one test process."""

    def __init__(self) -> None:
        self._stack: ExitStack | None = None
        self.made = False
        self._sigterm = None

    @property
    def held(self) -> bool:
        return self._stack is not None

    def take(self) -> None:
        """Take the SWARM lock (waiting for whoever holds it), then clear what a killed run left."""
        if self._stack is not None:
            return
        from tests.conftest import remove_stale_engines  # the second dockerds a killed run joined to its swarm
        self._stack = ExitStack()
        try:
            self._stack.enter_context(machine_lock(SWARM))
            if (client := _reachable()) is not None:  # no engine: the tests skip (docker_client says why)
                leave_stale_swarm(client)
            with machine_lock(SECOND_ENGINES):
                remove_stale_engines()
        except BaseException:
            self.release()
            raise

    def manager(self):
        """The engine as a swarm manager: a swarm of the user's is used as it is; else one is made, labelled.
        Returns None when the engine is in a swarm it does not manage."""
        self.take()
        client = _client()
        state = client.info().get("Swarm") or {}
        if state.get("LocalNodeState") == "inactive":
            self.made = True  # before the call: an init that times out on our side may still go through
            self._leave_on_sigterm()
            client.swarm.init(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377",
                              labels={SWARM_LABEL: f"{socket.gethostname()} {os.getpid()}"})
        elif not state.get("ControlAvailable"):
            return None
        return client

    def release(self) -> None:
        """Leave the swarm this process made (if any), then let the lock go."""
        try:
            if self.made and made_by_tests(client := _client()):
                client.swarm.leave(force=True)
        finally:
            self.made = False
            self._restore_sigterm()
            stack, self._stack = self._stack, None
            if stack is not None:
                stack.close()

    def _leave_on_sigterm(self) -> None:
        """A cancelled CI job sends SIGTERM first: unwind (fixtures' finalizers, then release) instead of dying
        with the swarm made."""
        if threading.current_thread() is not threading.main_thread():
            return

        def interrupt(signum, frame):
            raise KeyboardInterrupt(f"signal {signum} while the test swarm stands")
        self._sigterm = signal.signal(signal.SIGTERM, interrupt)

    def _restore_sigterm(self) -> None:
        if self._sigterm is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._sigterm)
        self._sigterm = None
