"""Per-job state (paused, last slot seen) and scheduler-wide key/values (engine up/down, config errors).

The `meta` table holds JSON values under fixed keys; each key has a typed reader and writer here, so no
caller spells a key or guesses a value's shape."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict, cast

from panda_tui.config import Config, ConfigError, Job, build_config


class EngineState(TypedDict):
    """A Docker Engine as the scheduler last found it (key "engines": host as configured -> this)."""

    up: bool
    error: str | None
    checked_at: NotRequired[float]
    missing: NotRequired[list[str]]  # images of pull = "never" jobs it does not hold


def paused_jobs(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT job FROM job_state WHERE paused=1")}


def set_paused(conn: sqlite3.Connection, job: str, paused: bool, now: float) -> None:
    conn.execute(
        "INSERT INTO job_state(job, paused, paused_at, updated_at) VALUES (?,?,?,?)"
        " ON CONFLICT(job) DO UPDATE SET paused=excluded.paused, paused_at=excluded.paused_at,"
        " updated_at=excluded.updated_at",
        (job, int(paused), now if paused else None, now))


def last_slots(conn: sqlite3.Connection) -> dict[str, float]:
    return {r[0]: r[1] for r in conn.execute("SELECT job, last_slot FROM job_state WHERE last_slot IS NOT NULL")}


SET_LAST_SLOT = ("INSERT INTO job_state(job, last_slot, updated_at) VALUES (?,?,?)"
                 " ON CONFLICT(job) DO UPDATE SET last_slot=MAX(COALESCE(last_slot, 0), excluded.last_slot),"
                 " updated_at=excluded.updated_at")


def set_last_slot(conn: sqlite3.Connection, job: str, slot: float, now: float) -> None:
    conn.execute(SET_LAST_SLOT, (job, slot, now))


def set_last_slots(conn: sqlite3.Connection, slots: list[tuple[str, float]], now: float) -> None:
    """set_last_slot for many jobs, in one statement."""
    conn.executemany(SET_LAST_SLOT, [(job, slot, now) for job, slot in slots])


def put_meta(conn: sqlite3.Connection, key: str, value: Any, now: float) -> None:
    conn.execute("INSERT OR REPLACE INTO meta(key, value, updated_at) VALUES (?,?,?)",
                 (key, json.dumps(value), now))


def get_meta(conn: sqlite3.Connection, key: str, default: Any = None) -> Any:
    row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    if row is None:
        return default
    try:
        return json.loads(row[0])
    except (TypeError, ValueError):
        return row[0]


def engines(conn: sqlite3.Connection) -> dict[str, EngineState]:
    """Each Docker Engine the scheduler watches, by host as configured ("local": the default one)."""
    value = get_meta(conn, "engines", {})
    return cast(dict[str, EngineState], value) if isinstance(value, dict) else {}


def image_missing(job: Job, found: Mapping[str, EngineState]) -> str | None:
    """The job's image, when the scheduler's last check found its engine without it and pull = "never": every
    run would fail (the row's `✗ no image`, `status`, and what an ack can cover)."""
    info = found.get(job.docker_host or "local") if job.image and job.pull == "never" else None
    return job.image if isinstance(info, dict) and info.get("up") and job.image in (info.get("missing") or ()) else None


def put_engines(conn: sqlite3.Connection, found: Mapping[str, EngineState], now: float) -> None:
    put_meta(conn, "engines", {host: {**info, "checked_at": now} for host, info in found.items()}, now)


def config_errors(conn: sqlite3.Connection) -> list[str]:
    """Why the scheduler refused the last jobs.toml it read (empty: it took it)."""
    value = get_meta(conn, "config_errors", [])
    return [str(e) for e in value] if isinstance(value, list) else []


def put_scheduler_started(conn: sqlite3.Connection, owner: str, now: float) -> None:
    put_meta(conn, "scheduler", {"owner": owner, "started_at": now}, now)


def put_last_scheduler(conn: sqlite3.Connection, owner: str, now: float) -> None:
    """The scheduler that held the lease, and when it was last seen holding it (see lease.last_seen)."""
    put_meta(conn, "last_scheduler", {"owner": owner, "seen_at": now}, now)


def put_stopping(conn: sqlite3.Connection, owner: str, runs: int, grace: float, now: float) -> None:
    """The scheduler `owner` is stopping: it gives `runs` runs up to `grace` seconds to end (stop_grace)."""
    put_meta(conn, "stopping", {"owner": owner, "runs": runs, "grace": grace, "since": now}, now)


def stopping(conn: sqlite3.Connection, holder: str | None) -> dict[str, Any] | None:
    """What put_stopping said, while the scheduler that said it still holds the lease (`holder`)."""
    value = get_meta(conn, "stopping", None)
    return value if isinstance(value, dict) and holder is not None and value.get("owner") == holder else None


def put_scheduler_heartbeat(conn: sqlite3.Connection, status: int | None, error: str | None, now: float) -> None:
    """The scheduler's own heartbeat ping: its HTTP status, or why it failed."""
    put_meta(conn, "scheduler_heartbeat", {"at": now, "status": status, "error": error}, now)


def put_running_config(conn: sqlite3.Connection, path: str, data: dict[str, Any], now: float) -> None:
    """The config the scheduler runs, as parsed from its file: job definitions and secret names, never a
    secret's value (those live in the secrets file or the environment). Consoles and `status` read it, so
    they show the running truth even when the local jobs.toml is broken, missing or different."""
    put_meta(conn, "running_config", {"path": path, "loaded_at": now, "data": data}, now)


def running_config(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """{"path", "loaded_at", "data"} as the scheduler last stored it, or None."""
    value = get_meta(conn, "running_config")
    return value if isinstance(value, dict) else None


def last_good_config(conn: sqlite3.Connection, secrets_file: str | None = None, *,
                     channels: bool = True) -> Config | None:
    """The running config as the scheduler last stored it, rebuilt; None when none was stored, or it was
    written by another version of panda-tui that knew other fields."""
    stored = running_config(conn)
    if not stored or not isinstance(stored.get("data"), dict):
        return None
    try:
        return build_config(stored["data"], stored.get("path") or "jobs.toml", secrets_file, channels=channels)
    except ConfigError:
        return None


def running_config_stamp(conn: sqlite3.Connection) -> float | None:
    """When the stored running config last changed: cheap to poll (no JSON parsed)."""
    row = conn.execute("SELECT updated_at FROM meta WHERE key='running_config'").fetchone()
    return row[0] if row else None


def record_reload(conn: sqlite3.Connection, now: float, why: str, errors: list[str]) -> None:
    """The last reload's result: consoles show a refused jobs.toml until a later one is accepted."""
    put_meta(conn, "config_errors", errors, now)
    put_meta(conn, "reload", {"at": now, "why": why, "ok": not errors, "errors": errors}, now)


def baseline_slots(conn: sqlite3.Connection, jobs: list[str], now: float) -> None:
    """A job the scheduler starts to run has been due since now: the slots it misses while no scheduler runs
    from here on are caught up or recorded missed, like any other job's."""
    conn.executemany(
        "INSERT INTO job_state(job, last_slot, updated_at) VALUES (?,?,?)"
        " ON CONFLICT(job) DO UPDATE SET last_slot=COALESCE(last_slot, excluded.last_slot)",
        [(job, now, now) for job in jobs])


OUTSIDE_KEPT = 35 * 86400.0  # a job run only from outside stays in view this long after its last run (monthly)


def note_outside_job(conn: sqlite3.Connection, job: str, now: float) -> None:
    """A job `panda-tui exec` ran that jobs.toml does not declare: consoles and `status` show it too."""
    seen = get_meta(conn, "outside_jobs", {}) or {}
    seen[job] = now
    put_meta(conn, "outside_jobs", {k: v for k, v in seen.items() if v > now - OUTSIDE_KEPT}, now)


def outside_jobs(conn: sqlite3.Connection, now: float) -> list[str]:
    """Jobs run from outside (exec) in the last OUTSIDE_KEPT seconds, declared in jobs.toml or not."""
    seen = get_meta(conn, "outside_jobs", {}) or {}
    return sorted(k for k, v in seen.items() if isinstance(v, (int, float)) and v > now - OUTSIDE_KEPT)


def forget_outside_job(conn: sqlite3.Connection, job: str, now: float) -> bool:
    """Stop showing a job only `exec` ran; False when it was not shown as one."""
    seen = get_meta(conn, "outside_jobs", {}) or {}
    if job not in seen:
        return False
    del seen[job]
    put_meta(conn, "outside_jobs", seen, now)
    return True
