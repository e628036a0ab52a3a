"""A local run that outlives its scheduler.

Each local run is started under a tiny `sh` keeper, and its output goes through named pipes in a private
run directory instead of anonymous pipes. If the scheduler dies (kill -9, OOM), the keeper still holds a
read end of each pipe, so the job never dies of SIGPIPE: once a pipe is full its writes wait. When the job
ends, the keeper hands its exit code over the `status` pipe, and that open waits until a scheduler reads it.
A restarted scheduler reopens the three pipes, reads the rest of the output, and records the real exit code.
Output stays in kernel pipe buffers; on disk are only the pipes' names and, once the job ended, a small
`exit` file with its code and end time (for a scheduler that died after reading `status`).
The keeper also bounds the run by its timeout, whether or not a scheduler watches (its watchdog, below).
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass

# the run directory and the files the keeper leaves there: the read side reads them too (store.run_dirs)
from panda_tui.store.run_dirs import ENDED as ENDED, TIMED_OUT as TIMED_OUT, left_behind as left_behind
from panda_tui.store.run_dirs import parse, run_dir as run_dir, runs_dir as runs_dir, timed_out as timed_out

# $1 is the run directory, $2 the run's timeout and $3 its stop grace (whole seconds), $4 "shell" (then $5 is
# a command string) or "exec" (then the rest is an argv).
# `trap :` (a handler, not an ignore) lets the keeper outlive a SIGTERM to the process group, while the
# command, whose traps are reset, still gets the default action. A command string runs in a subshell
# with no positional parameters, as under `sh -c`, which saves a second shell per run.
# The watchdog (a subshell and its `sleep`, holding none of the run's pipes) enforces the timeout while no
# scheduler does: at the deadline it leaves the `timeout` file and TERMs the group, and after the grace KILLs
# it (the keeper too: the file then says what happened). When the command ends, the keeper tells the
# watchdog (USR1), whose trap ends its `sleep` wherever it is, and waits for it: nothing of it is left. A job
# quicker than the watchdog's trap ends it by that signal, which `wait` would report on the run's stderr.
# `exit` is written first: a watchdog that comes to its deadline meanwhile ends without a signal.
KEEPER = """\
dir=$1 limit=$2 grace=$3 mode=$4; shift 4
exec 3<"$dir/out" 4<"$dir/err"
trap : TERM INT HUP
(s= over=; trap 'over=1; [ -z "$s" ] || kill "$s" 2>/dev/null' USR1
 nap() { sleep "$1" & s=$!; [ "$over" ] || wait "$s"; [ -z "$over" ] || kill "$s" 2>/dev/null; wait "$s"; s=
         [ -z "$over" ] && [ ! -e "$dir/exit" ]; }
 nap "$limit" || exit 0; trap : TERM; echo TERM >"$dir/timeout"; kill -TERM 0
 nap "$grace" || exit 0; echo KILL >"$dir/timeout"; kill -KILL 0) 3<&- 4<&- </dev/null >/dev/null 2>&1 &
dog=$!
if [ "$mode" = shell ]; then (__panda_cmd=$1; set --; eval "$__panda_cmd") 3<&- 4<&-; else "$@" 3<&- 4<&-; fi
code=$? end=$(date +%s.%N)
echo "$code $end" >"$dir/exit"
kill -USR1 "$dog" 2>/dev/null; wait "$dog" 2>/dev/null
echo "$code $end" >"$dir/status"
exit "$code"
"""
NAMES = ("out", "err", "status")
LATER = 2  # seconds the watchdog gives a live scheduler past the deadline: with it equal, `Terminated` came first






def keeper_argv(directory: str, command: str | list[str], timeout: float, grace: float) -> list[str]:
    """The keeper's argv for a command string (run as by `sh -c`) or an exec-form argv. The timeout and grace
    are rounded up to whole seconds (POSIX `sleep`), and the watchdog waits LATER past the deadline: a live
    scheduler acts first and says why before its signal, though its timer starts after the spawn and the
    store write that records it, and a busy loop (a console drawing) may fire it late."""
    limit = math.ceil(timeout) + LATER
    head = ["/bin/sh", "-c", KEEPER, "panda-keeper", directory, str(limit), str(math.ceil(grace))]
    return [*head, "shell", command] if isinstance(command, str) else [*head, "exec", *command]


@dataclass
class Pipes:
    """The scheduler's read ends of one run's pipes."""
    directory: str
    out: int
    err: int
    status: int

    def report(self) -> tuple[int | None, float | None]:
        """What the keeper reported once it ended: the exit code, and when (for a run that ended while no
        scheduler watched). (None, None) if it was killed before it could say."""
        try:
            data = os.read(self.status, 64)
        except BlockingIOError:
            return left_behind(self.directory)
        return parse(data) if data else left_behind(self.directory)

    def close(self) -> None:
        """Close the status end (the output ends belong to their readers) and remove the directory."""
        try:
            os.close(self.status)
        except OSError:
            pass
        shutil.rmtree(self.directory, ignore_errors=True)


def create(directory: str) -> tuple[Pipes, int, int]:
    """Make the run's pipes. Returns the read ends, and the write ends for the child's stdout and stderr."""
    os.makedirs(os.path.dirname(directory), mode=0o700, exist_ok=True)
    shutil.rmtree(directory, ignore_errors=True)  # a leftover of a run id reused by a rebuilt database
    os.mkdir(directory, 0o700)
    for name in NAMES:
        os.mkfifo(os.path.join(directory, name), 0o600)
    pipes = reopen(directory)
    writers: list[int] = []
    try:  # a reader exists now, so opening the write ends does not block
        for name in ("out", "err"):
            writers.append(os.open(os.path.join(directory, name), os.O_WRONLY | os.O_CLOEXEC))
    except BaseException:
        for fd in (*writers, pipes.out, pipes.err):
            os.close(fd)
        pipes.close()
        raise
    return pipes, writers[0], writers[1]


def reopen(directory: str) -> Pipes:
    """Open the read ends (without waiting for a writer). Raises OSError if the directory is gone."""
    fds: list[int] = []
    try:
        for name in NAMES:
            fds.append(os.open(os.path.join(directory, name), os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC))
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return Pipes(directory, *fds)








def exists(directory: str) -> bool:
    return all(os.path.exists(os.path.join(directory, name)) for name in NAMES)


def find(directory: str) -> int | None:
    """The pid of the keeper of `directory`, if one runs: for a scheduler killed after the spawn but before
    it could record the pid."""
    wanted = b"\0panda-keeper\0" + os.fsencode(directory) + b"\0"
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                if wanted in fh.read():
                    return int(entry)
        except OSError:
            continue
    return None
