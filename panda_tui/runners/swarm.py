"""Run an attempt as a Docker Swarm service (one task, never restarted) through a manager of the swarm.

Each attempt is one service, labelled with the job, run id and database like a container; each of its
secrets is a Docker secret made for that run. Both are removed once the result is stored; what could not be
removed then (the manager was away) is removed when the manager answers again, and a scheduler that starts
removes what a previous one left of runs that are over (`sweep`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from panda_tui.config import Job
from panda_tui.runners.base import Attempt, Lost, OpenSink, RunnerError
from panda_tui.runners.docker import _unreachable, plain_error
from panda_tui.runners.swarm_spec import (SecretRef, jobs_mode_works, none_of, plain_env, secret_name,
                                          service_name, service_spec)
from panda_tui.runners.swarm_task import ENDED, SwarmHandle
from panda_tui.runners.threads import in_thread
from panda_tui.store.ledger import Run
from panda_tui.store.logs import RunLog

API_TIMEOUT = 30
PLACED_WITHIN = 2.0  # how long a start waits to learn the task's node (it is placed in ~0.1 s when it can be)
FORGET_WITHIN = 15.0  # how long a stopped task may take to be forgotten by the manager, at a run's cleanup
SecretValues = Callable[[Job], Mapping[str, str]]  # a job's secrets as they are now (for runs adopted late)


class SwarmRunner:
    kind = "swarm"

    def __init__(self, host: str | None, db_id: str, secrets_now: SecretValues | None = None):
        self.host = host
        self.db_id = db_id
        self.secrets_now = secrets_now
        self._client: Any = None
        self._lock = threading.Lock()
        self._nodes: dict[str, str] = {}  # node id -> hostname
        self._leftovers: dict[str, tuple[str, ...]] = {}  # service id -> secret ids, still to remove

    @property
    def docker_host(self) -> str:
        return self.host or "local"

    def client(self) -> Any:
        import docker
        with self._lock:
            if self._client is None:
                try:
                    if self.host:
                        self._client = docker.DockerClient(base_url=self.host, timeout=API_TIMEOUT)
                    else:
                        self._client = docker.from_env(timeout=API_TIMEOUT)
                except Exception as exc:
                    raise RunnerError(f"swarm manager unreachable: {plain_error(exc)}") from None
            return self._client

    def api(self) -> Any:
        return self.client().api

    def forget_client(self) -> None:
        self._client = None

    # --- start ---------------------------------------------------------------------------
    async def start(self, attempt: Attempt, sink: RunLog) -> SwarmHandle:
        service_id, secrets = await in_thread(lambda: self._create(attempt))
        handle = SwarmHandle(self, service_id, sink, tuple(s.id for s in secrets))
        await in_thread(lambda: handle.placed(PLACED_WITHIN))
        return handle

    def _create(self, attempt: Attempt) -> tuple[str, list[SecretRef]]:
        job = attempt.job
        api = self._call(self.api)
        self.remove_leftovers()
        made: list[SecretRef] = []
        try:
            for index, name in enumerate(job.secrets):
                if name in attempt.env:
                    label = secret_name(self.db_id, attempt.run_id, index, name)
                    found = api.create_secret(label, attempt.env[name].encode(), labels=dict(attempt.labels))
                    made.append(SecretRef(str(found["ID"]), label, name))
            name = service_name(job.name, attempt.run_id, self.db_id)
            spec = service_spec(job, plain_env(attempt.env, job.secrets), attempt.labels, name, made,
                                jobs_mode=jobs_mode_works(str(api.api_version)))
            created = api.create_service(**spec)
            return str(created["ID"]), made
        except Exception as exc:
            for secret in made:
                self._quietly(lambda: api.remove_secret(secret.id))
            raise self._error(exc) from None

    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:
            raise self._error(exc) from None

    def _error(self, exc: BaseException) -> RunnerError:
        """An engine's refusal or absence as the run's reason."""
        import docker.errors
        if isinstance(exc, RunnerError):
            return exc
        text = plain_error(exc)
        if isinstance(exc, docker.errors.APIError) and ("not a swarm manager" in text or "swarm init" in text):
            return RunnerError(f"swarm: {not_a_manager(self.host)}")
        if isinstance(exc, docker.errors.APIError):
            return RunnerError(f"swarm: {text}")
        if _unreachable(exc):
            self.forget_client()
            return RunnerError(f"swarm manager unreachable: {text}")
        return RunnerError(f"swarm: {type(exc).__name__}: {text}")

    # --- after a restart -----------------------------------------------------------------
    async def reattach(self, run: Run, job: Job, open_sink: OpenSink) -> SwarmHandle | Lost:
        """A run's service after a restart: its log continues after the lines already stored."""
        try:
            found = await in_thread(lambda: self.find(run.id))
        except Exception as exc:
            return Lost(f"swarm service could not be checked after a restart: {plain_error(exc)}")
        if found is None:
            return Lost("swarm service is gone (removed while the scheduler was down)")
        spec = (found.get("Spec") or {}).get("TaskTemplate", {}).get("ContainerSpec", {})
        env = dict(item.split("=", 1) for item in spec.get("Env") or () if "=" in item)
        sink = open_sink({**env, **self._secret_values(job)})
        secrets = tuple(str(s["SecretID"]) for s in spec.get("Secrets") or ())
        handle = SwarmHandle(self, str(found["ID"]), sink, secrets, skip=sink.consumed, adopted=True)
        await in_thread(lambda: handle.placed(PLACED_WITHIN))
        return handle

    def _secret_values(self, job: Job) -> Mapping[str, str]:
        """The values a run adopted late is masked with. Docker never gives a secret's value back, so they
        are the job's secrets as they are now: a value changed while the scheduler was down is not masked."""
        if self.secrets_now is None or not job.secrets:
            return {}
        try:
            return self.secrets_now(job)
        except Exception:
            return {}

    def find(self, run_id: int) -> dict[str, Any] | None:
        """The service of a run in this database, or None."""
        found: list[dict[str, Any]] = self.api().services(
            filters={"label": [f"panda.run_id={run_id}", f"panda.db={self.db_id}"]})
        return found[0] if found else None

    def node_name(self, node_id: str) -> str:
        """A node's hostname (its id when the manager cannot say)."""
        if node_id not in self._nodes:
            try:
                info = self.api().inspect_node(node_id)
                self._nodes[node_id] = str(info["Description"]["Hostname"])
            except Exception:
                return node_id[:12]
        return self._nodes[node_id]

    # --- stop and remove -----------------------------------------------------------------
    def stop_service(self, service_id: str) -> None:
        """Ask for no task at all: the manager shuts the running one down (SIGTERM, then SIGKILL after the
        stop grace period). Removing a job's service does not stop its task on Engine 20.10 (moby#44312)."""
        import docker.errors
        api = self.api()
        for attempt in range(3):
            found = api.inspect_service(service_id)
            spec = found["Spec"]
            try:
                api.update_service(service_id, found["Version"]["Index"], task_template=spec["TaskTemplate"],
                                   name=spec["Name"], labels=spec.get("Labels"), mode=none_of(spec["Mode"]))
                return
            except docker.errors.APIError as exc:
                if "out of sequence" in str(exc) and attempt < 2:
                    continue  # another update came first: once more, on the new version
                api.remove_service(service_id)  # refused: removal stops the task on newer engines
                return

    def remove_run(self, service_id: str, secrets: tuple[str, ...], within: float = FORGET_WITHIN) -> None:
        """Remove a run's service and secrets; what cannot be removed now is tried again later.

        A task that may still run is stopped first (removing a job's service leaves its task running on
        Engine 20.10, moby#44312), and a stopped task is left for the manager to forget before its service
        goes: Engine 20.10's manager crashes (a nil task in SetServiceTasksRemove) when a service is removed
        while its task is being forgotten. `within`: how long to wait for that here."""
        try:
            api = self.api()
            if not self._settled(api, service_id, within):
                self._leftovers[service_id] = secrets
                return
            self._quietly(lambda: api.remove_service(service_id))
            for secret in secrets:
                self._quietly(lambda: api.remove_secret(secret))
            self._leftovers.pop(service_id, None)
        except Exception:
            self.forget_client()
            self._leftovers[service_id] = secrets

    def _settled(self, api: Any, service_id: str, within: float) -> bool:
        """Whether the service's task is over and stays as it is (stopped first if it may still run)."""
        tasks = self._tasks(api, service_id)
        if any(str((t.get("Status") or {}).get("State")) not in ENDED for t in tasks):
            self._quietly(lambda: self.stop_service(service_id))
        elif not any(t.get("DesiredState") == "remove" for t in tasks):
            return True
        deadline = time.monotonic() + within
        while self._tasks(api, service_id):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    def _tasks(self, api: Any, service_id: str) -> list[dict[str, Any]]:
        import docker.errors
        try:
            found: list[dict[str, Any]] = api.tasks(filters={"service": service_id})
            return found
        except docker.errors.NotFound:
            return []

    def remove_leftovers(self) -> None:
        """Blocking: what could not be removed while the manager was away (or its task was stopping)."""
        for service_id, secrets in list(self._leftovers.items()):
            self.remove_run(service_id, secrets, within=0)

    def sweep(self, keep: Collection[int], upto: int) -> None:
        """Blocking: remove the services and secrets of this database's runs up to `upto` that are not in
        `keep` (the runs still going): what a scheduler killed before it cleaned up left behind."""
        try:
            api = self.api()
            label = {"label": f"panda.db={self.db_id}"}
            for service in api.services(filters=label):
                if _stale(service, keep, upto):
                    self.remove_run(str(service["ID"]), ())
            for secret in api.secrets(filters=label):
                if _stale(secret, keep, upto):
                    self._quietly(lambda: api.remove_secret(secret["ID"]))
        except Exception:
            self.forget_client()

    @staticmethod
    def _quietly(fn: Callable[[], Any]) -> None:
        """A removal that finds nothing to remove is done."""
        import docker.errors
        try:
            fn()
        except docker.errors.NotFound:
            pass


def manager_problem(host: str | None, timeout: float) -> str | None:
    """Blocking: why swarm jobs cannot run through this engine, or None (also when it does not answer: the
    scheduler says so when it runs them)."""
    import docker
    try:
        client = docker.DockerClient(base_url=host, timeout=timeout) if host else docker.from_env(timeout=timeout)
        swarm = client.info().get("Swarm") or {}
    except Exception:
        return None
    if swarm.get("LocalNodeState") != "active" or not swarm.get("ControlAvailable"):
        return not_a_manager(host)
    return None


def not_a_manager(host: str | None) -> str:
    where = host or "the local engine"
    return (f"{where} is not a swarm manager: run `docker swarm init` there (or `docker swarm join` it to your "
            "swarm as a manager), or point docker_host at a manager")


def _stale(item: dict[str, Any], keep: Collection[int], upto: int) -> bool:
    labels = (item.get("Spec") or {}).get("Labels") or {}
    try:
        run_id = int(labels.get("panda.run_id", ""))
    except ValueError:
        return False
    return run_id <= upto and run_id not in keep
