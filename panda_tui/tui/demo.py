"""A small, fixed store for screenshots and console tests: every state a user must recognise."""

from __future__ import annotations

import random

from panda_tui.config import Config, build_config
from panda_tui.store import lease, logs, outbox, specs, state
from panda_tui.store.db import Database
from panda_tui.store.ledger import Ledger, RunStatus
from panda_tui.text import iso

NOW = 1_795_000_000.0  # a fixed instant, so screens are the same every time

JOBS_TOML = {
    "jobs": {
        "db-backup": {"description": "Nightly database dump", "schedule": "*/15 * * * *",
                      "image": "busybox:latest", "command": ["sh", "-c", "backup"], "timeout": "10m"},
        "orders-sync": {"description": "Sync orders from the shop API", "schedule": "@every 60s",
                        "command": "sync-orders", "retries": 2},
        "report-mail": {"schedule": "0 7 * * 1-5", "timezone": "Europe/Berlin", "command": "mail-report"},
        "cache-warm": {"schedule": "*/5 * * * *", "command": "warm-cache"},
        "tmp-cleanup": {"schedule": "@hourly", "command": "find /tmp -mtime +7 -delete"},
        "legacy-export": {"schedule": "@daily", "command": "export", "enabled": False},
    }
}


def demo_config(path: str = "jobs.toml") -> Config:
    return build_config(JOBS_TOML, path)


def fill(db_path: str, now: float = NOW) -> None:
    """Write a history for each job; leaves one run 'running' and the lease held by a daemon on server1."""
    db = Database(db_path)
    conn = db.conn
    book = Ledger(db)
    writer = logs.LogWriter(db_path, lock=db.lock)
    rnd = random.Random(7)
    ran_with = {name: specs.job_spec(job) for name, job in demo_config().jobs.items()}
    # db-backup's last run ran with another database host and a new image: what `d` shows
    good_backup = dict(ran_with["db-backup"], env={"PGHOST": specs.value_hash("10.0.0.4")})
    ran_with["db-backup"] = dict(ran_with["db-backup"], env={"PGHOST": specs.value_hash("db")})
    try:
        _series(book, writer, rnd, "db-backup", now, every=900, count=40, base=42.0,
                fail_at={39: ("exit 1", 1)}, error_log=True, spec=good_backup, changed=ran_with["db-backup"])
        _series(book, writer, rnd, "orders-sync", now, every=60, count=60, base=3.2, running_last=True,
                spec=ran_with["orders-sync"])
        _series(book, writer, rnd, "report-mail", now, every=86400, count=12, base=8.0, missed_at={10, 11},
                spec=ran_with["report-mail"])
        _series(book, writer, rnd, "cache-warm", now, every=300, count=30, base=1.1, slow_at={27},
                spec=ran_with["cache-warm"])
        _series(book, writer, rnd, "tmp-cleanup", now, every=3600, count=24, base=0.4, skipped_from=21,
                spec=ran_with["tmp-cleanup"])
        state.set_paused(conn, "tmp-cleanup", True, now - 7200)
        lease.record(conn, "server1:4242:0:daemon", now - 86400, now, 3e9)
        state.put_meta(conn, "engines", {"local": {"up": False, "error":
                       "docker engine unreachable: no engine socket (is dockerd running?)"}}, now)
    finally:
        writer.close()
        db.close()


def missed_reason(slot: float) -> str:
    """What the scheduler stores for a slot that passed while it was down (engine/catchup.py)."""
    return f"scheduler down from {iso(slot - 1800)} to {iso(slot + 7 * 3600)}; catchup = none"


def _series(book: Ledger, writer, rnd, job: str, now: float, *, every: float, count: int, base: float,
            fail_at: dict | None = None, missed_at: set | None = None, slow_at: set | None = None,
            skipped_from: int | None = None, running_last: bool = False, error_log: bool = False,
            spec: dict | None = None, changed: dict | None = None) -> None:
    """`spec`: what the runs ran with; `changed`: what the failing ones ran with instead (and another image)."""
    start = now - every * count
    for i in range(count):
        slot = start + i * every
        if missed_at and i in missed_at:
            book.insert(job, slot, trigger="schedule", now=slot, status=RunStatus.MISSED,
                        reason=missed_reason(slot))
            continue
        if skipped_from is not None and i >= skipped_from:
            book.insert(job, slot, trigger="schedule", now=slot, status=RunStatus.SKIPPED, reason="paused")
            continue
        failing = bool(fail_at and i in fail_at)
        run = book.insert(job, slot, trigger="schedule", now=slot, spec=changed if failing and changed else spec)
        assert run is not None  # a fresh store: no slot is handled twice
        run_id = run.id
        late = rnd.uniform(0.001, 0.009)
        book.start(run_id, slot + late)
        image = ("sha256:9c1f4e2ab7d3" if failing else "sha256:41d0be7f5a98") if changed else None
        book.set_ref(run_id, f"{1000 + i}:1", image_id=image)
        sink = logs.RunLog(writer, run_id)
        sink.line("out", f'{{"level": "info", "msg": "{job} started", "slot": {i}}}', slot + late)
        if running_last and i == count - 1:
            sink.line("out", "fetched 120 orders from page 1", slot + 1)
            sink.close()
            continue
        duration = base * rnd.uniform(0.85, 1.2) * (4 if slow_at and i in slow_at else 1)
        if fail_at and i in fail_at:
            reason, code = fail_at[i]
            if error_log:
                sink.line("out", "dumping 14 tables", slot + 1)
                sink.line("err", "pg_dump: error: connection to server at \"db\" (10.0.0.5) failed: timeout", slot + 30)
                sink.line("out", '{"level": "error", "msg": "backup failed", "table": "orders"}', slot + 31)
            sink.system(f"[panda] failed: {reason}", slot + duration)
            sink.close()
            book.finish(run_id, RunStatus.FAILED, slot + late + duration, exit_code=code, reason=reason)
        else:
            sink.line("out", f"done in {duration:.1f}s", slot + duration)
            sink.close()
            book.finish(run_id, RunStatus.SUCCEEDED, slot + late + duration, exit_code=0)


def fill_alarms(db_path: str, now: float = NOW) -> None:
    """The demo store on a bad night: two engines down, jobs.toml refused, alerts that could not be sent."""
    fill(db_path, now)
    db = Database(db_path)
    try:
        with db.transaction() as conn:
            state.put_meta(conn, "engines", {
                "local": {"up": False, "error": "docker engine unreachable: connection refused"},
                "tcp://build-2:2376": {"up": False, "error": "the engine did not answer in time"}}, now)
            state.record_reload(conn, now - 300, "file changed", [
                'jobs.toml: job "report-mail": schedule: unknown alias \'@fortnightly\''])
            for n in range(3):
                outbox.enqueue(conn, "failed", "ops", {"job": "db-backup"}, now - 600 + n, "db-backup", n + 1)
            for item in outbox.due(conn, now):
                outbox.record(conn, item, now - 60, 503, "service unavailable", 0.2)
    finally:
        db.close()
