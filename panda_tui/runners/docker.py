"""Run an attempt in a new Docker container (docker SDK); stream its output as it comes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from panda_tui.config import Job
from panda_tui.runners import docker_ping
from panda_tui.runners.base import Attempt, Lost, OpenSink, Outcome, RunnerError
from panda_tui.runners.frames import open_log, parse_frames as _parse
from panda_tui.runners.lines import Replay
from panda_tui.runners.threads import in_thread
from panda_tui.store.ledger import Run
from panda_tui.store.logs import RunLog

API_TIMEOUT = 30
REREADS = 3  # how often a broken log stream is read again from the logs endpoint


def plain_error(exc: BaseException) -> str:
    """A Docker/requests exception as one plain line."""
    text = str(exc)
    explanation = getattr(exc, "explanation", None)
    if explanation:
        text = explanation if isinstance(explanation, str) else str(explanation)
    if isinstance(exc, TimeoutError):
        return "the engine did not answer in time"
    for needle, plain in (("No such file or directory", "no engine socket (is dockerd running?)"),
                          ("Connection refused", "connection refused (is dockerd running?)"),
                          ("Connection aborted", "connection aborted"),
                          ("Read timed out", "the engine did not answer in time"),
                          ("Permission denied", "permission denied on the engine socket")):
        if needle in text:
            return plain
    return " ".join(text.split())[:300]


def _unreachable(exc: BaseException) -> bool:
    import docker.errors
    import requests.exceptions
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout, ConnectionError)):
        return True
    return isinstance(exc, docker.errors.DockerException) and not isinstance(exc, docker.errors.APIError)


class DockerRunner:
    kind = "docker"

    def __init__(self, host: str | None, db_id: str):
        self.host = host
        self.db_id = db_id
        self._client: Any = None  # a docker.DockerClient (the SDK has no type hints)
        self._lock = threading.Lock()

    @property
    def docker_host(self) -> str:
        return self.host or "local"

    def client(self) -> Any:
        """A connected client, created on first use and again after the engine went away."""
        import docker
        with self._lock:
            if self._client is None:
                try:
                    if self.host:
                        self._client = docker.DockerClient(base_url=self.host, timeout=API_TIMEOUT)
                    else:
                        self._client = docker.from_env(timeout=API_TIMEOUT)
                except Exception as exc:
                    raise RunnerError(f"docker engine unreachable: {plain_error(exc)}") from None
            return self._client

    def missing(self, images: Iterable[str]) -> list[str]:
        """Those of `images` the engine does not hold (asked of an engine that answered a ping just now); one
        it cannot say of is not listed: the run says so if it matters."""
        path = docker_ping.unix_socket(self.host)
        out = []
        for image in sorted(set(images)):
            try:
                if path is not None:
                    present = docker_ping.image_present(path, image, API_TIMEOUT)
                else:
                    import docker.errors
                    try:
                        self.client().images.get(image)
                        present = True
                    except docker.errors.ImageNotFound:
                        present = False
            except Exception:
                continue
            if not present:
                out.append(image)
        return out

    def ping(self) -> tuple[bool, str | None]:
        path = docker_ping.unix_socket(self.host)
        try:
            if path is not None:
                docker_ping.ping(path, API_TIMEOUT)  # without the SDK: see docker_ping
            else:
                self.client().ping()
            return True, None
        except RunnerError as exc:
            return False, str(exc)
        except Exception as exc:
            self.forget_client()
            return False, f"docker engine unreachable: {plain_error(exc)}"

    async def start(self, attempt: Attempt, sink: RunLog) -> DockerHandle:
        container, stream = await in_thread(lambda: self._create(attempt))
        return DockerHandle(self, container, sink, stream=stream)

    def _create(self, attempt: Attempt) -> tuple[Any, Any]:
        import docker.errors
        job = attempt.job
        image = job.image or ""  # a docker job always has one (config checks)
        try:
            client = self.client()
            if job.pull == "always":
                self._pull(client, image)
            try:
                container = self._new_container(client, attempt)
            except docker.errors.ImageNotFound:  # asked only now: a check before each create is a round trip
                if job.pull == "never":
                    raise RunnerError(f"image {job.image!r} is not on this engine and pull = \"never\": "
                                      "build or load it there (docker build -t / docker load)") from None
                self._pull(client, image)
                container = self._new_container(client, attempt)
            # Attached before it starts, as `docker run` does: not a byte can be missed, and the raw
            # multiplexed socket is far cheaper to read than the chunked HTTP of the logs endpoint.
            stream = client.api.attach_socket(container.id, params={"stdout": 1, "stderr": 1, "stream": 1})
            container.start()
            return container, stream
        except RunnerError:
            raise
        except docker.errors.APIError as exc:
            raise RunnerError(f"docker: {plain_error(exc)}") from None
        except Exception as exc:
            if _unreachable(exc):
                self.forget_client()
                raise RunnerError(f"docker engine unreachable: {plain_error(exc)}") from None
            raise

    def _new_container(self, client: Any, attempt: Attempt) -> Any:
        job = attempt.job
        return client.containers.create(
            job.image, command=_command(job), environment=attempt.env, labels=attempt.labels,
            name=f"panda-{job.name}-{attempt.run_id}-{self.db_id[:6]}", detach=True, tty=False,
            stdin_open=False, network_mode=job.network_mode, mem_limit=job.memory or job.mem_limit,
            nano_cpus=int(job.cpus * 1e9) if job.cpus else None, working_dir=job.workdir,
            user=job.user, volumes=list(job.volumes) or None, restart_policy={"Name": "no"})

    @staticmethod
    def _pull(client: Any, image: str) -> None:
        import docker.errors
        try:
            client.images.pull(image)
        except docker.errors.APIError as exc:
            raise RunnerError(f"image pull failed for {image!r}: {plain_error(exc)}") from None

    def find(self, run_id: int) -> Any:
        """The container of a run in this database, or None."""
        client = self.client()
        found = client.containers.list(all=True, filters={
            "label": [f"panda.run_id={run_id}", f"panda.db={self.db_id}"]})
        return found[0] if found else None

    def forget_client(self) -> None:
        """The engine went away: connect afresh on next use."""
        self._client = None

    async def reattach(self, run: Run, job: Job, open_sink: OpenSink) -> DockerHandle | Lost:
        """A run's container after a restart: its log continues after the lines already stored."""
        try:
            container = await in_thread(lambda: self.find(run.id))
        except Exception as exc:
            return Lost(f"container could not be checked after a restart: {plain_error(exc)}")
        if container is None:
            return Lost("container is gone (removed while the scheduler was down)")
        env = dict(item.split("=", 1) for item in (container.attrs.get("Config") or {}).get("Env") or ()
                   if "=" in item)
        sink = open_sink(env)
        handle: DockerHandle = await in_thread(lambda: DockerHandle(self, container, sink, sink.consumed))
        return handle


def _command(job: Job) -> list[str] | None:
    if isinstance(job.command, str):
        return ["sh", "-c", job.command]
    return list(job.command) if job.command else None


class DockerHandle:
    node: str | None = None

    def __init__(self, runner: DockerRunner, container: Any, sink: RunLog, skip: tuple[int, int] = (0, 0),
                 stream: Any = None):
        self.runner = runner
        self.container = container
        self.ref = container.id
        self.docker_host = runner.docker_host
        self.image_id: str | None = (getattr(container, "attrs", None) or {}).get("Image")  # sha256:...
        self.adopted = stream is None  # followed after a restart: it may have ended before anyone watched
        self.sink = sink
        self._replay = Replay(sink, skip)  # lines counted per stream: a stream read again skips what is stored
        self._stream = stream  # an attached socket, or None to read the logs endpoint (after a restart)
        self._exited = threading.Event()  # set once wait() has the result
        self.progress = time.monotonic()
        self._reader = threading.Thread(target=self._read, daemon=True, name=f"panda-logs-{container.id[:12]}")
        self._reader.start()

    def _read(self) -> None:
        """Read the stream to its end. A stream that breaks, or ends while the container still runs (a
        proxy or remote engine dropped it), is read again from the logs endpoint, skipping the lines
        already stored, so the stored log stays whole and without duplicates."""
        attached = self._stream is not None
        frames = _socket_frames(self._stream) if attached else self._logs(follow=True)
        error = None
        for _ in range(1 + REREADS):
            error = self._pump(frames)
            if error is None and self._still_running() is False:
                if not attached:
                    # A followed log can end before the engine has stored a last line without a newline:
                    # read it once more, not following, now that the container has stopped.
                    self._replay.again()
                    error = self._pump(self._logs(follow=False))
                if error is None:
                    self._replay.finish()  # a last line without a newline is kept
                    return
            self._replay.again()
            frames, attached = self._logs(follow=True), False
        self.sink.system(f"[panda] the log stream broke ({error or 'closed early'}); later lines may be missing")

    def _logs(self, follow: bool) -> Iterator[tuple[int, bytes]]:
        """The container's log from its start; errors surface while iterating."""
        yield from _frames(self.runner.client().api, self.container.id, follow)

    def _still_running(self) -> bool | None:
        """Whether the container runs on after its stream ended: then the stream was cut. (The engine
        marks a container exited before it closes the attached stream.) None: the engine cannot say."""
        if self._exited.is_set():
            return False
        try:
            return bool(self.runner.client().api.inspect_container(self.container.id)["State"]["Running"])
        except Exception:
            return None

    def _pump(self, frames: Iterator[tuple[int, bytes]]) -> str | None:
        """Feed one pass over the stream; the error that ended it early, if any."""
        try:
            for stream, data in frames:
                self.progress = time.monotonic()
                self._replay.feed(stream, data)
        except Exception as exc:
            return plain_error(exc)
        return None

    async def wait(self) -> Outcome:
        try:
            result = await in_thread(lambda: self.container.wait())
        except Exception as exc:
            self.runner.forget_client()
            return Outcome(None, error=f"docker engine unreachable while waiting: {plain_error(exc)}")
        finally:
            self._exited.set()
        await in_thread(self._drain)
        code = result.get("StatusCode")
        error = (result.get("Error") or {}).get("Message") if isinstance(result.get("Error"), dict) else None
        ended = await in_thread(self._finished_at) if self.adopted else None
        return Outcome(exit_code=code, error=f"docker: {error}" if error else None, ended_at=ended)

    def _finished_at(self) -> float | None:
        """When the engine saw the container end: for a run adopted after a restart, that may be long ago."""
        try:
            stamp = self.runner.client().api.inspect_container(self.container.id)["State"]["FinishedAt"]
            head, _, frac = stamp.rstrip("Z").partition(".")
            moment = datetime.fromisoformat(head).replace(tzinfo=timezone.utc)
            return moment.timestamp() + float("0." + (frac or "0")[:6])
        except Exception:
            return None

    def _drain(self, stall: float = 30.0) -> None:
        """Wait for the log reader to reach the end, as long as it keeps making progress."""
        while self._reader.is_alive():
            self._reader.join(0.5)
            if self._reader.is_alive() and time.monotonic() - self.progress > stall:
                self.sink.system(f"[panda] the log stream stalled for {stall:.0f}s; lines after this may be missing")
                return

    async def stop(self, grace: float) -> None:
        try:
            await in_thread(lambda: self.container.stop(timeout=max(1, int(round(grace)))))
        except Exception:
            try:
                await in_thread(lambda: self.container.kill())
            except Exception:
                pass

    async def cleanup(self) -> None:
        try:
            await in_thread(lambda: self.container.remove(force=True))
        except Exception:
            pass  # already gone, or the engine went away: nothing of ours to keep


def _frames(api: Any, container_id: str, follow: bool = True) -> Iterator[tuple[int, bytes]]:
    """(stream, bytes) frames of a container's log, from the start; with `follow`, until it stops."""
    response = open_log(api, "containers", container_id, follow)
    raw = response.raw
    try:
        yield from _parse(getattr(raw, "read1", None) or raw.read)
    finally:
        response.close()


def _socket_frames(sock: Any) -> Iterator[tuple[int, bytes]]:
    """Frames from a socket attached before the container started."""
    read = getattr(sock, "read", None) or sock.recv
    try:
        yield from _parse(read)
    finally:
        try:
            sock.close()
        except OSError:
            pass
