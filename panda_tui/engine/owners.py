"""Runs carried out by a foreground process (`panda-tui run`, `panda-tui exec`) name it as their owner, so a
scheduler neither adopts nor settles them while it lives, and takes them over once it is gone."""

from __future__ import annotations

import os
import signal
import socket

from panda_tui.runners.local import proc_start_time

STOP_SIGNAL = signal.SIGUSR1  # "stop the run you carry out": a kill from a console or the CLI, told apart


def this_process() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{proc_start_time(pid)}"


def pid_of(owner: str) -> int | None:
    try:
        return int(owner.split(":")[1])
    except (IndexError, ValueError):
        return None


def alive(owner: str | None) -> bool:
    """Whether that very process still runs (on this host, the same pid with the same start time)."""
    if not owner:
        return False
    parts = owner.split(":")
    pid = pid_of(owner)
    if len(parts) != 3 or pid is None or parts[0] != socket.gethostname():
        return False
    return proc_start_time(pid) == parts[2]


def ask_to_stop(owner: str) -> str | None:
    """STOP_SIGNAL to the owner, which then stops the run and records it killed on request. None, or why
    it failed."""
    pid = pid_of(owner)
    if pid is None or not alive(owner):
        return "its process has ended"
    try:
        os.kill(pid, STOP_SIGNAL)
    except PermissionError:
        return f"its process {pid} belongs to another user"
    except ProcessLookupError:
        return "its process has ended"
    return None
