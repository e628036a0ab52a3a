"""What each run ran with: the job's effective spec (its config fields, env names each with a hash of the
value, secret names; never a value), stored once per distinct content and referenced from the run's row.

Written in the transaction that inserts the run (ledger.insert), so a run and its spec never part: two index
lookups when the spec was seen before, which is nearly always."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from panda_tui.config import Job

# Fields that do not change what a run does (how it is watched, kept or told of): left out of the spec.
NOT_RUN = frozenset({"name", "description", "enabled", "alerts", "heartbeat", "slow_after", "fast_before",
                     "repeat_after", "log_max_lines", "log_max_bytes", "log_keep_runs", "env", "secrets",
                     "secrets_env", "stdin", "schedule"})


def value_hash(value: str) -> str:
    """A short hash that says whether a value changed, and never what it is."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def job_spec(job: Job) -> dict[str, Any]:
    """The job as a run runs it, as plain JSON data."""
    out: dict[str, Any] = {}
    for f in fields(job):
        if f.name in NOT_RUN:
            continue
        value = getattr(job, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    out["runner"] = job.runner_kind
    out["schedule"] = job.schedule.expr
    out["timezone"] = job.schedule.tz
    out["env"] = {name: value_hash(value) for name, value in sorted(job.env.items())}
    out["secrets"] = sorted(job.secrets)
    out["secrets_env"] = sorted(job.secrets_env)
    if job.stdin is not None:
        out["stdin"] = value_hash(job.stdin)
    return out


def canonical(spec: Mapping[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)


def spec_id(conn: sqlite3.Connection, spec: Mapping[str, Any], now: float) -> int:
    """The row holding this spec, written on first sight. Call within the run's transaction."""
    text = canonical(spec)
    digest = hashlib.sha256(text.encode()).hexdigest()
    row = conn.execute("SELECT id FROM run_specs WHERE hash=?", (digest,)).fetchone()
    if row:
        return int(row[0])
    row = conn.execute("INSERT INTO run_specs(hash, spec, first_seen) VALUES (?,?,?) RETURNING id",
                       (digest, text, now)).fetchone()
    return int(row[0])


class SpecIds:
    """Each job's spec row, remembered per Job once its transaction committed (a spec row is never removed),
    so a slot that comes due costs no hashing and no lookup: a batch of fifty slots pays that fifty times."""

    LIMIT = 4096  # jobs remembered; a reload brings new Job objects, the old ones are let go past this

    def __init__(self, on_commit: Callable[[Callable[[], object]], None]):
        self._on_commit = on_commit  # store.db.Database.on_commit
        self._known: dict[int, tuple[Job, int]] = {}  # id(job) -> (job, its spec id); the job kept alive

    def of(self, conn: sqlite3.Connection, job: Job, now: float) -> int:
        """The job's spec id; call within the run's transaction."""
        known = self._known.get(id(job))
        if known is not None and known[0] is job:
            return known[1]
        found = spec_id(conn, job_spec(job), now)
        self._on_commit(lambda: self._remember(job, found))
        return found

    def _remember(self, job: Job, found: int) -> None:
        if len(self._known) >= self.LIMIT:
            self._known.clear()
        self._known[id(job)] = (job, found)


def get(conn: sqlite3.Connection, spec_id_: int | None) -> dict[str, Any] | None:
    """The spec a run ran with; None when the run predates recording it."""
    if spec_id_ is None:
        return None
    row = conn.execute("SELECT spec FROM run_specs WHERE id=?", (spec_id_,)).fetchone()
    if row is None:
        return None
    spec: dict[str, Any] = json.loads(row[0])
    return spec
