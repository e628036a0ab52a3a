"""Run an attempt as a local process in its own process group, under a keeper (see keeper.py) so it can
outlive the scheduler; signals reach grandchildren too."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pwd
import shutil
import signal
import subprocess
import time
from typing import Any, Callable

from panda_tui.config import Job
from panda_tui.config.runas import problem_for
from panda_tui.runners import keeper
from panda_tui.runners.base import Attempt, Lost, OpenSink, Outcome, RunnerError
from panda_tui.runners.lines import LineAssembler
from panda_tui.runners.threads import in_thread, local_call
from panda_tui.store.ledger import Run
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
    docker_host = None
    node = None

    def __init__(self, pid: int, exited: asyncio.Future[int | None], pipes: keeper.Pipes, sink: RunLog,
                 echo: Callable[[str, bytes], None] | None = None):
        self.pgid = pid
        self.ref = f"{pid}:{proc_start_time(pid)}"
        self.pipes = pipes
        self.sink = sink
        self._exited = exited  # the keeper's exit status, or None when it is not our child
        self._readers = [asyncio.ensure_future(_read(pipes.out, "out", sink, echo)),
                         asyncio.ensure_future(_read(pipes.err, "err", sink, echo))]
        self._done = asyncio.ensure_future(self._finish())

    async def _finish(self) -> Outcome:
        code = await self._exited
        # The group may hold the pipes open after the leader exits (a background grandchild):
        # give readers a moment, then end the group so the run cannot outlive itself.
        try:
            await asyncio.wait_for(asyncio.gather(*self._readers), 2.0)
        except TimeoutError:
            _signal_group(self.pgid, signal.SIGKILL)
            await asyncio.gather(*self._readers, return_exceptions=True)
        ended = None
        if code is None:  # not our child: its keeper says how and when it ended
            code, ended = self.pipes.report()
        stopped = keeper.timed_out(self.pipes.directory)  # its keeper's watchdog stopped it at its deadline
        if code is None and stopped is not None:  # the KILL after the grace ended the keeper too
            return Outcome(None, ended_at=stopped, timed_out=True)
        if code is None:
            return Outcome(None, error="the process ended without reporting an exit code "
                                       "(killed while the scheduler was down)", lost=True)
        return Outcome(exit_code=code if code >= 0 else 128 - code, ended_at=ended, timed_out=stopped is not None)

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
        await local_call(self.pipes.close)


async def _read(fd: int, name: str, sink: RunLog, echo: Callable[[str, bytes], None] | None = None) -> None:
    stream = await _attach(open(fd, "rb", buffering=0))
    assembler = LineAssembler(lambda texts: sink.lines_of(name, texts, time.time()), cut=sink.cut_point,
                              hold=sink.hold)
    while True:
        chunk = await stream.read(READ_CHUNK)
        if not chunk:
            break
        if echo is not None:
            echo(name, chunk)
        assembler.feed(chunk)
    assembler.close()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class LocalRunner:
    kind = "local"

    def __init__(self, runs_dir: str):
        self.runs_dir = runs_dir

    async def reattach(self, run: Run, job: Job, open_sink: OpenSink) -> LocalHandle | Ended | Lost:
        """A local run after a restart: its keeper still holds the output and will hand over the exit code."""
        directory = keeper.run_dir(self.runs_dir, run.id)
        ref = run.runner_ref
        pid = _alive_pid(ref) if ref else await in_thread(lambda: keeper.find(directory))
        pid = None if pid is None or _zombie(pid) else pid
        code, ended = keeper.left_behind(directory) if pid is None else (None, None)
        stopped = keeper.timed_out(directory) if pid is None else None
        if code is not None:  # it ended, and the scheduler that read its status died before recording it
            sink = open_sink({})
            sink.system("[panda] the run ended while no scheduler recorded it; its keeper left the exit code")
            return Ended(ref or "", sink, Outcome(exit_code=code, ended_at=ended, timed_out=stopped is not None),
                         directory)
        if stopped is not None:  # its keeper's watchdog killed it (and the keeper) after the grace
            sink = open_sink({})
            sink.system("[panda] the run passed its timeout while no scheduler watched: its keeper stopped it "
                        "(SIGTERM, then SIGKILL after the grace)")
            return Ended(ref or "", sink, Outcome(None, ended_at=stopped, timed_out=True), directory)
        if pid is None or not keeper.exists(directory):
            reason = await in_thread(lambda: settle_orphan(ref))
            shutil.rmtree(directory, ignore_errors=True)
            return Lost(reason)
        env = process_environ(pid)  # first: once its pipes are open again, the keeper may end at any moment
        try:
            pipes = keeper.reopen(directory)
        except OSError as exc:
            return Lost(f"the run's pipes could not be reopened after a restart: {exc.strerror}")
        sink = open_sink(env)
        # why it ended is not known here, and a console's terminal that closed (SIGHUP) is no crash: say what is
        sink.system("[panda] a new scheduler took this run over (the one that started it stopped: lines it read "
                    "just before may be missing)")
        return LocalHandle(pid, _exit_future(pid, None), pipes, sink)

    async def start(self, attempt: Attempt, sink: RunLog) -> LocalHandle:
        job = attempt.job
        through = attempt.passthrough
        env = dict(through.environ) if through else _base_env()
        account = _account(job)
        workdir = job.workdir
        if account is not None:  # as cron does: the account's home, as HOME and as the working directory
            env.update(HOME=account.pw_dir, USER=account.pw_name, LOGNAME=account.pw_name)
            workdir = workdir or (account.pw_dir if os.path.isdir(account.pw_dir) else "/")
        env.update(attempt.env)
        command = _checked(list(job.command) if isinstance(job.command, tuple) else job.command, env)
        if account is not None:
            command = _as_user(account, command)
        stdin: int | str | None = through.stdin if through else job.stdin
        directory = keeper.run_dir(self.runs_dir, attempt.run_id)
        # making pipes and forking take a while and hold their thread: keep them off the scheduler's loop
        argv = keeper.keeper_argv(directory, command, job.timeout, job.kill_grace)
        pipes, pid, reap = await local_call(lambda: _spawn(directory, argv, env, workdir, stdin))
        return LocalHandle(pid, _exit_future(pid, reap), pipes, sink, through.echo if through else None)


class Ended:
    """A run found ended after a restart, its exit code known: nothing left to follow."""
    docker_host: str | None = None
    node: str | None = None

    def __init__(self, ref: str, sink: RunLog, outcome: Outcome, directory: str):
        self.ref, self.sink, self.outcome, self.directory = ref, sink, outcome, directory

    async def wait(self) -> Outcome:
        return self.outcome

    async def stop(self, grace: float) -> None:
        return None

    async def cleanup(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def _account(job: Job) -> pwd.struct_passwd | None:
    """The account a local job runs as, when it is not the scheduler's own; RunnerError when not allowed."""
    if job.image or not job.user:
        return None
    problem = problem_for(job)
    if problem:
        raise RunnerError(f"user: {problem}")
    account = pwd.getpwnam(job.user)
    return None if account.pw_uid == os.geteuid() else account


def _as_user(account: pwd.struct_passwd, command: str | list[str]) -> list[str]:
    """The command under setpriv (util-linux): the keeper stays the scheduler's, so it can still open the
    run's pipes and hand over the exit code; only the command takes the account's uid, gid and groups."""
    setpriv = shutil.which("setpriv", path=os.defpath + ":/usr/bin:/bin")
    if setpriv is None:
        raise RunnerError("user: running as another account needs setpriv (util-linux), not found")
    prefix = [setpriv, f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups", "--"]
    return prefix + (["/bin/sh", "-c", command] if isinstance(command, str) else list(command))


def _spawn(directory: str, argv: list[str], env: dict[str, str], workdir: str | None,
           stdin: int | str | None = None) -> tuple[keeper.Pipes, int, Callable[[], int]]:
    """Start the keeper (`argv`: keeper.keeper_argv). Whatever goes wrong, every descriptor opened here is
    closed again and the run's directory removed, so a job that cannot start never starves the others of
    descriptors."""
    try:
        pipes, out_w, err_w = keeper.create(directory)
    except Exception as exc:
        shutil.rmtree(directory, ignore_errors=True)
        raise RunnerError(f"cannot make the run's pipes in {directory}: {_why(exc)}") from None
    feed = None
    try:
        feed = _stdin_pipe(stdin) if isinstance(stdin, str) else None
        given = stdin if isinstance(stdin, int) else subprocess.DEVNULL
        proc = subprocess.Popen(argv, stdin=feed if feed is not None else given,
                                stdout=out_w, stderr=err_w, env=env, cwd=workdir, start_new_session=True)
    except Exception as exc:
        for fd in (pipes.out, pipes.err):
            os.close(fd)
        pipes.close()
        if isinstance(exc, RunnerError):
            raise
        if isinstance(exc, OSError) and workdir and not os.path.isdir(workdir):
            raise RunnerError(f"working directory {workdir!r}: {exc.strerror}") from None
        raise RunnerError(f"cannot start /bin/sh: {_why(exc)}") from None
    finally:
        os.close(out_w)
        os.close(err_w)
        if feed is not None:
            os.close(feed)
    return pipes, proc.pid, proc.wait


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, ValueError) and "null byte" in str(exc):
        return "the command or its environment holds a NUL byte"
    return f"{type(exc).__name__}: {exc}"


def _stdin_pipe(data: str) -> int:
    """A pipe already holding `data` and closed for writing: the read end, for the command's stdin. It is
    filled before the command starts, so the input survives the scheduler and never blocks it."""
    raw = data.encode("utf-8")
    read_end, write_end = os.pipe()
    try:
        if len(raw) > 4096:
            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, len(raw))
        os.set_blocking(write_end, False)
        view = memoryview(raw)
        while view:
            view = view[os.write(write_end, view):]
    except OSError as exc:
        os.close(read_end)
        raise RunnerError(f"stdin: cannot hold {len(raw)} bytes in a pipe ({exc.strerror})") from None
    finally:
        os.close(write_end)
    return read_end


def _checked(command: str | list[str] | None, env: dict[str, str]) -> str | list[str]:
    """The command, its program checked first so a missing one fails plainly rather than as exit 127."""
    if isinstance(command, str):
        return command
    if not command:
        raise RunnerError("no command to run")
    program = command[0]
    found = program if "/" in program else shutil.which(program, path=env.get("PATH", os.defpath))
    if found is None or not os.path.exists(found):
        raise RunnerError(f"{program!r}: not found (No such file or directory)")
    if os.path.isdir(found) or not os.access(found, os.X_OK):
        raise RunnerError(f"{program!r}: permission denied")
    return list(command)


async def _attach(pipe: Any) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=READ_CHUNK * 4)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    return reader


def _exit_future(pid: int, reap: Callable[[], int] | None) -> asyncio.Future[int | None]:
    """Resolves when the process ends: to `reap()` (our child's status), or to None (another's child).
    Watched through a pidfd on the loop (no thread per run); else polled on a thread."""
    loop = asyncio.get_running_loop()
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return asyncio.ensure_future(in_thread(reap or (lambda: _poll_until_gone(pid))))
    future: asyncio.Future[int | None] = loop.create_future()

    def exited() -> None:
        loop.remove_reader(fd)
        os.close(fd)
        if not future.done():
            future.set_result(reap() if reap else None)

    loop.add_reader(fd, exited)
    return future


def _poll_until_gone(pid: int) -> None:
    start = proc_start_time(pid)
    while start is not None and proc_start_time(pid) == start and not _zombie(pid):
        time.sleep(0.2)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except OSError:
        return True


def _base_env() -> dict[str, str]:
    """What a local job inherits: a sane PATH and home, not the scheduler's secrets."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME", "SHELL", "TMPDIR")
    return {k: os.environ[k] for k in keep if k in os.environ}


def process_environ(pid: int) -> dict[str, str]:
    """The environment a process was started with (empty if it cannot be read)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            raw = fh.read()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def _alive_pid(ref: str | None) -> int | None:
    """The pid in `ref` ("pid:starttime") if that very process still runs."""
    if not ref or ":" not in ref:
        return None
    pid_text, start = ref.split(":", 1)
    pid = int(pid_text)
    return pid if proc_start_time(pid) == start else None


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
