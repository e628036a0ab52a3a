"""Where a database's local runs keep their directories (beside it), and what a run's keeper leaves there
once the run ended: read by the runner that adopts it, and by `status` and the console while no scheduler runs
(runners/keeper.py writes them)."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass

ENDED = "exit"  # a plain file, the exit code and end time: kept for a scheduler that died reading `status`
TIMED_OUT = "timeout"  # a plain file the watchdog leaves at the deadline: TERM, then KILL once the grace ran out


@dataclass(frozen=True)
class KeeperEnd:
    """A run its keeper saw end while no scheduler recorded it."""
    code: int | None  # None: the keeper was killed with it (the KILL after the grace)
    ended_at: float | None
    stopped_at: float | None  # when its watchdog stopped it at its timeout, if it did


def runs_dir(db_path: str) -> str:
    """Where the run directories of one database live: beside it (the file itself, a symlink resolved), private
    to its owner."""
    head, tail = os.path.split(os.path.realpath(db_path))
    return os.path.join(head, f".{tail}.runs")


def run_dir(base: str, run_id: int) -> str:
    return os.path.join(base, f"run-{run_id}")


def left_behind(directory: str) -> tuple[int | None, float | None]:
    """The exit code and end time a keeper left in its `exit` file: for a run whose `status` a scheduler
    read, and died before it recorded it. (None, None) when there is none."""
    try:
        with open(os.path.join(directory, ENDED), "rb") as fh:
            return parse(fh.read(64))
    except OSError:
        return None, None


def timed_out(directory: str) -> float | None:
    """When the watchdog last acted on the run (its TERM, or its KILL after the grace), if it did."""
    try:
        return os.stat(os.path.join(directory, TIMED_OUT)).st_mtime
    except OSError:
        return None


def parse(data: bytes) -> tuple[int | None, float | None]:
    words = data.decode(errors="replace").split()
    code = int(words[0]) if words and words[0].isdigit() else None
    whole, _, fraction = (words[1] if len(words) > 1 else "").partition(".")
    ended = float(whole + "." + (fraction if fraction.isdigit() else "0")) if whole.isdigit() else None
    return code, ended


def keeper_ends(conn: sqlite3.Connection, run_ids: list[int]) -> dict[int, KeeperEnd]:
    """Those of `run_ids` (local runs `running` in the ledger of `conn`'s database) whose keeper saw them end:
    a stat and a small read each, for a reader while no scheduler runs."""
    row = conn.execute("PRAGMA database_list").fetchone()
    if not row or not row[2] or not run_ids:
        return {}
    base, found = runs_dir(row[2]), {}
    for run_id in run_ids:
        directory = run_dir(base, run_id)
        stopped = timed_out(directory)
        code, ended = left_behind(directory)
        if code is not None or stopped is not None:
            found[run_id] = KeeperEnd(code, ended if code is not None else stopped, stopped)
    return found
