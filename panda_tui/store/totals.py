"""Running totals of the ledger, kept by triggers (schema v3): what `/metrics` reads instead of `runs` itself.

Each read touches a few rows per job, however long the history: one million runs cost what ten do."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass

from panda_tui.store.schema import DURATION_BUCKETS_V3

# The upper bounds the triggers sort durations into (a later migration that changes them changes this too).
DURATION_BUCKETS: tuple[float, ...] = tuple(float(b) for b in DURATION_BUCKETS_V3) + (math.inf,)


@dataclass(frozen=True)
class Total:
    """Runs of `job` whose status is `status` now (queued and running ones too: those go up and down)."""
    job: str
    status: str
    n: int
    last_finished_at: float | None


@dataclass(frozen=True)
class Bucket:
    job: str
    le: float  # upper bound in seconds (inf for the last); counts are per bucket, not cumulative
    n: int
    sum_s: float


def totals(conn: sqlite3.Connection) -> list[Total]:
    return [Total(*r) for r in conn.execute(
        "SELECT job, status, n, last_finished_at FROM run_totals ORDER BY job, status")]


def duration_buckets(conn: sqlite3.Connection) -> list[Bucket]:
    return [Bucket(*r) for r in conn.execute("SELECT job, le, n, sum_s FROM run_durations ORDER BY job, le")]

