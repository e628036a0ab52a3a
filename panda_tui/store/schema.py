"""Forward migrations. Index i takes the schema from version i to i + 1; never edit a shipped one."""

from __future__ import annotations

import sqlite_utils


def _v1(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            job TEXT NOT NULL,
            scheduled_at REAL NOT NULL,      -- the slot, epoch seconds UTC
            attempt INTEGER NOT NULL DEFAULT 1,
            trigger TEXT NOT NULL,           -- schedule | manual | retry | catchup
            status TEXT NOT NULL,            -- queued running succeeded failed timed_out killed skipped missed lost
            queued_at REAL,
            not_before REAL,                 -- a retry waits until then
            started_at REAL,
            finished_at REAL,
            duration_s REAL,
            exit_code INTEGER,
            reason TEXT,
            runner TEXT,                     -- docker | local
            runner_ref TEXT,                 -- container id, or pid:starttime
            engine TEXT,                     -- docker host for container runs
            out_lines INTEGER NOT NULL DEFAULT 0,   -- stdout lines consumed (committed with the logs)
            err_lines INTEGER NOT NULL DEFAULT 0,
            log_lines INTEGER NOT NULL DEFAULT 0,   -- lines stored
            log_bytes INTEGER NOT NULL DEFAULT 0,
            log_dropped INTEGER NOT NULL DEFAULT 0,
            logs_pruned INTEGER NOT NULL DEFAULT 0
        )""")
    db.execute("CREATE UNIQUE INDEX runs_slot ON runs(job, scheduled_at, attempt) WHERE trigger != 'manual'")
    db.execute("CREATE INDEX runs_job_newest ON runs(job, id DESC)")
    db.execute("CREATE INDEX runs_active ON runs(status) WHERE status IN ('queued', 'running')")
    db.execute("""
        CREATE TABLE logs (
            run_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            ts REAL NOT NULL,
            stream TEXT NOT NULL,            -- out | err | sys
            text TEXT NOT NULL,
            PRIMARY KEY (run_id, seq)
        ) WITHOUT ROWID""")
    db["job_state"].create({"job": str, "paused": int, "paused_at": float, "last_slot": float,
                            "updated_at": float}, pk="job", defaults={"paused": 0})
    db.execute("""
        CREATE TABLE control (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,              -- trigger pause resume kill reload
            job TEXT,
            run_id INTEGER,
            args TEXT NOT NULL DEFAULT '{}',
            requested_by TEXT,
            requested_at REAL NOT NULL,
            taken_at REAL,
            done_at REAL,
            outcome TEXT,
            error TEXT
        )""")
    db.execute("CREATE INDEX control_pending ON control(id) WHERE taken_at IS NULL")
    db.execute("""
        CREATE TABLE lease (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            owner TEXT NOT NULL,
            acquired_at REAL NOT NULL,
            heartbeat_at REAL NOT NULL,
            ttl REAL NOT NULL
        )""")
    db["meta"].create({"key": str, "value": str, "updated_at": float}, pk="key")
    db.execute("""
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            event TEXT NOT NULL,
            job TEXT,
            run_id INTEGER,
            target TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            delivered_at REAL,
            given_up_at REAL,
            last_status INTEGER,
            last_error TEXT
        )""")
    db.execute("CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE delivered_at IS NULL AND given_up_at IS NULL")
    db["alert_attempts"].create({"id": int, "outbox_id": int, "at": float, "status": int,
                                 "error": str, "elapsed_s": float}, pk="id")
    db["alert_attempts"].create_index(["outbox_id"])


def _v2(db: sqlite_utils.Database) -> None:
    """Missed/lost counts and a job's last failure, without scanning its history (1M-run stores)."""
    db.execute("CREATE INDEX runs_gone ON runs(job, scheduled_at) WHERE status IN ('missed', 'lost')")
    db.execute("CREATE INDEX runs_gone_all ON runs(scheduled_at) WHERE status IN ('missed', 'lost')")
    db.execute("CREATE INDEX runs_bad ON runs(job, id) WHERE status IN ('failed', 'timed_out', 'killed', 'lost')")


def _v3(db: sqlite_utils.Database) -> None:
    """Runs a foreground process carries out itself (`run`, `exec`) name it, so that a scheduler starting
    meanwhile leaves them to it; and runs started outside (`exec`) never hold a scheduled slot's key."""
    db.execute("ALTER TABLE runs ADD COLUMN owner TEXT")  # host:pid:starttime of that process
    db.execute("DROP INDEX runs_slot")
    db.execute("CREATE UNIQUE INDEX runs_slot ON runs(job, scheduled_at, attempt)"
               " WHERE trigger NOT IN ('manual', 'external')")


MIGRATIONS = [_v1, _v2, _v3]
