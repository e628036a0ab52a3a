"""One attempt running as a Swarm service: its task watched on the manager until it ends, its log read,
stopped on request, removed with its secrets once the result is safe."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Any, Protocol

from panda_tui.runners.base import Outcome
from panda_tui.runners.docker import plain_error
from panda_tui.runners.swarm_logs import ServiceLog
from panda_tui.runners.threads import in_thread
from panda_tui.store.logs import RunLog

ENDED = frozenset({"complete", "failed", "shutdown", "rejected", "orphaned", "remove"})
MAX_POLL = 1.0  # how often a long task's state is asked for, at most: its end is seen within this
STOPPING_POLL = 0.05  # a stopped task is forgotten by the manager soon after it ends: look often for its exit code


class Manager(Protocol):
    """What a handle needs of the swarm runner that made it (a protocol, so this module does not import it back)."""

    @property
    def docker_host(self) -> str: ...
    def api(self) -> Any: ...
    def forget_client(self) -> None: ...
    def node_name(self, node_id: str) -> str: ...
    def stop_service(self, service_id: str) -> None: ...
    def remove_run(self, service_id: str, secrets: tuple[str, ...], within: float = ...) -> None: ...


class SwarmHandle:
    def __init__(self, runner: Manager, service_id: str, sink: RunLog, secrets: tuple[str, ...],
                 skip: tuple[int, int] = (0, 0), adopted: bool = False):
        self.runner = runner
        self.ref = service_id
        self.docker_host: str | None = runner.docker_host
        self.node: str | None = None  # the node's hostname, once the task is placed
        self.sink = sink
        self.secrets = secrets  # ids of the run's Docker secrets
        self.adopted = adopted
        self._ended = threading.Event()
        self._poke = threading.Event()  # wakes the watcher early (a stop was asked for)
        self._stopping = False
        self._stop_error: str | None = None
        self._noted: set[str] = set()
        self.log = ServiceLog(runner.api, service_id, sink, self._ended, skip)

    def task(self) -> dict[str, Any] | None:
        """The service's task as the manager sees it now (None before it is made, and after it is gone)."""
        tasks: list[dict[str, Any]] = self.runner.api().tasks(filters={"service": self.ref})
        return max(tasks, key=lambda t: str(t.get("CreatedAt", ""))) if tasks else None

    def placed(self, within: float) -> None:
        """Blocking: wait up to `within` for the task to be on a node, so that the run says where it is."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                task = self.task()
            except Exception:
                return
            if task is not None and (task.get("NodeID") or _state(task) in ENDED):
                self._learn_node(task)
                return
            time.sleep(0.02)

    async def wait(self) -> Outcome:
        try:
            outcome: Outcome = await in_thread(self._watch)
        finally:
            self._ended.set()
        await in_thread(self.log.cut)
        await in_thread(self.log.drain)
        return outcome

    def _watch(self) -> Outcome:
        started, seen = time.monotonic(), False
        while True:
            try:
                task = self.task()
            except Exception as exc:
                if _not_found(exc):
                    return self._gone()
                if self._stop_error is not None:
                    return Outcome(None, error=self._stop_error)
                self.runner.forget_client()
                self._note("unreachable", f"[panda] the swarm manager cannot say how the task is doing "
                                          f"({plain_error(exc)}); waiting for it (the task goes on on its node)")
                self._pause(2.0)
                continue
            if task is None and seen:
                return self._gone()
            if task is not None:
                seen = True
                self._learn_node(task)
                if _state(task) in ENDED:
                    return outcome_of(task, self.node, self._stopping)
                error = (task.get("Status") or {}).get("Err")
                if _state(task) == "pending" and error:
                    self._note("pending", f"[panda] waiting for a node: {error}")
            if self._stop_error is not None:
                return Outcome(None, error=self._stop_error)
            self._pause(STOPPING_POLL if self._stopping else min(MAX_POLL, 0.1 + (time.monotonic() - started) / 20))

    def _pause(self, seconds: float) -> None:
        self._poke.wait(seconds)
        self._poke.clear()

    def _gone(self) -> Outcome:
        if self._stopping:  # stopped, and already forgotten by the manager: its exit code went with it
            return Outcome(None)
        return Outcome(None, error="swarm: the service or its task was removed outside panda-tui")

    def _learn_node(self, task: dict[str, Any]) -> None:
        node_id = task.get("NodeID")
        if node_id and self.node is None:
            self.node = self.runner.node_name(str(node_id))

    def _note(self, key: str, text: str) -> None:
        if key not in self._noted:
            self._noted.add(key)
            self.sink.system(text)

    async def stop(self, grace: float) -> None:
        """Swarm stops the task with SIGTERM, then SIGKILL after the service's stop_grace_period (the job's
        kill_grace, set when it was made)."""
        self._stopping = True
        self._poke.set()
        try:
            await in_thread(lambda: self.runner.stop_service(self.ref))
        except Exception as exc:
            self._stop_error = f"swarm: the task could not be stopped ({plain_error(exc)}); it is once the manager answers"
            self._poke.set()

    async def cleanup(self) -> None:
        await in_thread(lambda: self.runner.remove_run(self.ref, self.secrets))


def outcome_of(task: dict[str, Any], node: str | None, stopping: bool) -> Outcome:
    """A task in a final state, as the run's result."""
    status = task.get("Status") or {}
    state, error = status.get("State"), status.get("Err")
    code = (status.get("ContainerStatus") or {}).get("ExitCode")
    code = code if isinstance(code, int) and code >= 0 else None
    ended = timestamp(status.get("Timestamp"))
    where = f" on {node}" if node else ""
    if state == "complete":
        return Outcome(code or 0, ended_at=ended)
    if state == "failed":
        if code and (not error or str(error).startswith("task: non-zero exit")):
            return Outcome(code, ended_at=ended)
        return Outcome(code or None, error=f"swarm: {error or 'the task failed'}{where}", ended_at=ended)
    if state in ("shutdown", "remove"):
        if stopping:
            return Outcome(code, ended_at=ended)
        return Outcome(code, error=f"swarm: the task was shut down outside panda-tui{where}", ended_at=ended)
    if state == "rejected":
        return Outcome(None, error=f"swarm: the task was rejected{where}: {error}", ended_at=ended)
    return Outcome(None, error=f"swarm: node {node or '?'} stopped answering; how the task ended is unknown",
                   lost=True)


def timestamp(text: object) -> float | None:
    """Engine time ("2026-12-02T07:26:16.153475717Z") as epoch seconds."""
    if not isinstance(text, str) or not text:
        return None
    try:
        head, _, frac = text.rstrip("Z").partition(".")
        moment = datetime.fromisoformat(head).replace(tzinfo=timezone.utc)
        return moment.timestamp() + float("0." + (frac or "0")[:6])
    except ValueError:
        return None


def _state(task: dict[str, Any]) -> str:
    return str((task.get("Status") or {}).get("State", ""))


def _not_found(exc: BaseException) -> bool:
    import docker.errors
    return isinstance(exc, docker.errors.NotFound)
