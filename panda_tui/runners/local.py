"""Run an attempt as a local process in its own process group; signals reach grandchildren too."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time

from panda_tui.runners.base import Attempt, Outcome, RunnerError
from panda_tui.runners.lines import LineAssembler
from panda_tui.runners.threads import in_thread
from panda_tui.store.logs import RunLog

READ_CHUNK = 64 * 1024


def proc_start_time(pid: int) -> str | None:
    """The process start time in clock ticks since boot, to tell a pid from its reuse."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    return data[data.rfind(b")") + 2:].split()[19].decode()


class LocalHandle:
    engine = None

    def __init__(self, proc: subprocess.Popen, out: asyncio.StreamReader, err: asyncio.StreamReader,
                 sink: RunLog):
        self.proc = proc
        self.pgid = proc.pid
        self.ref = f"{proc.pid}:{proc_start_time(proc.pid)}"
        self._exited = _exit_future(proc)
        self._readers = [asyncio.ensure_future(self._read(out, "out", sink)),
                         asyncio.ensure_future(self._read(err, "err", sink))]
        self._done = asyncio.ensure_future(self._finish())

    async def _read(self, stream: asyncio.StreamReader, name: str, sink: RunLog) -> None:
        assembler = LineAssembler(lambda texts: sink.lines_of(name, texts, time.time()))
        while True:
            chunk = await stream.read(READ_CHUNK)
            if not chunk:
                break
            assembler.feed(chunk)
        assembler.close()

    async def _finish(self) -> Outcome:
        code = await self._exited
        # The group may hold the pipes open after the leader exits (a background grandchild):
        # give readers a moment, then end the group so the run cannot outlive itself.
        try:
            await asyncio.wait_for(asyncio.gather(*self._readers), 2.0)
        except TimeoutError:
            _signal_group(self.pgid, signal.SIGKILL)
            await asyncio.gather(*self._readers, return_exceptions=True)
        return Outcome(exit_code=code if code >= 0 else 128 - code)

    async def wait(self) -> Outcome:
        return await asyncio.shield(self._done)

    async def stop(self, grace: float) -> None:
        if self._done.done():
            return
        _signal_group(self.pgid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(self._done), grace)
        except TimeoutError:
            _signal_group(self.pgid, signal.SIGKILL)

    async def cleanup(self) -> None:
        _signal_group(self.pgid, signal.SIGKILL)  # nothing of the run may linger


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class LocalRunner:
    kind = "local"

    async def start(self, attempt: Attempt, sink: RunLog) -> LocalHandle:
        job = attempt.job
        env = {**_base_env(), **attempt.env}
        if isinstance(job.command, str):
            argv = ["/bin/sh", "-c", job.command]
        elif job.command:
            argv = list(job.command)
        else:
            raise RunnerError("no command to run")
        try:
            # forking the scheduler takes a while and holds its thread: do it on a thread of its own
            proc = await in_thread(lambda: subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                cwd=job.workdir, start_new_session=True))
        except FileNotFoundError as exc:
            where = f"working directory {job.workdir!r}" if job.workdir and not os.path.isdir(job.workdir) else None
            raise RunnerError(f"{where or repr(argv[0])}: not found ({exc.strerror})") from None
        except PermissionError:
            raise RunnerError(f"{argv[0]!r}: permission denied") from None
        except OSError as exc:
            raise RunnerError(f"cannot start {argv[0]!r}: {exc.strerror}") from None
        out, err = await _attach(proc.stdout), await _attach(proc.stderr)
        return LocalHandle(proc, out, err, sink)


async def _attach(pipe) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=READ_CHUNK * 4)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    return reader


def _exit_future(proc: subprocess.Popen) -> asyncio.Future:
    """Resolves to the exit status: through a pidfd on the loop (no thread per child), else a thread."""
    loop = asyncio.get_running_loop()
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        return asyncio.ensure_future(in_thread(proc.wait))
    future = loop.create_future()

    def exited() -> None:
        loop.remove_reader(fd)
        os.close(fd)
        if not future.done():
            future.set_result(proc.wait())

    loop.add_reader(fd, exited)
    return future


def _base_env() -> dict[str, str]:
    """What a local job inherits: a sane PATH and home, not the scheduler's secrets."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME", "SHELL", "TMPDIR")
    return {k: os.environ[k] for k in keep if k in os.environ}


def settle_orphan(ref: str | None, grace: float = 5.0) -> str:
    """After a crash: end a local run's process group if it is still the same process. Returns a reason."""
    if not ref or ":" not in ref:
        return "scheduler stopped before the process started"
    pid_text, start = ref.split(":", 1)
    pid = int(pid_text)
    if proc_start_time(pid) != start:
        return "scheduler stopped while it ran; the process has ended and its exit code is unknown"
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and proc_start_time(pid) == start:
        time.sleep(0.05)
    if proc_start_time(pid) == start:
        _signal_group(pid, signal.SIGKILL)
    return "scheduler stopped while it ran; its output was cut off, so the process group was ended on restart"
