"""Forward migrations. Index i takes the schema from version i to i + 1; never edit a shipped one.

Plain SQL on a connection (anything with .execute). The tables v1 once made with sqlite-utils are written
out as the very statements it generated, so old and new stores hold the same schema text; importing
sqlite-utils at run time cost 0.1 s and ~10 MB (it pulls in numpy when that is installed)."""

from __future__ import annotations

import sqlite3

Db = sqlite3.Connection


def _v1(db: Db) -> None:
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
    db.execute('CREATE TABLE "job_state" (\n   "job" TEXT PRIMARY KEY,\n   "paused" INTEGER DEFAULT 0,\n'
               '   "paused_at" REAL,\n   "last_slot" REAL,\n   "updated_at" REAL\n)')
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
    db.execute('CREATE TABLE "meta" (\n   "key" TEXT PRIMARY KEY,\n   "value" TEXT,\n   "updated_at" REAL\n)')
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
    db.execute('CREATE TABLE "alert_attempts" (\n   "id" INTEGER PRIMARY KEY,\n   "outbox_id" INTEGER,\n'
               '   "at" REAL,\n   "status" INTEGER,\n   "error" TEXT,\n   "elapsed_s" REAL\n)')
    db.execute('CREATE INDEX "idx_alert_attempts_outbox_id"\n    ON "alert_attempts" ("outbox_id")')


def _v2(db: Db) -> None:
    """Missed/lost counts and a job's last failure, without scanning its history (1M-run stores)."""
    db.execute("CREATE INDEX runs_gone ON runs(job, scheduled_at) WHERE status IN ('missed', 'lost')")
    db.execute("CREATE INDEX runs_gone_all ON runs(scheduled_at) WHERE status IN ('missed', 'lost')")
    db.execute("CREATE INDEX runs_bad ON runs(job, id) WHERE status IN ('failed', 'timed_out', 'killed', 'lost')")


DURATION_BUCKETS_V3 = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)


def _v3_bucket(column: str) -> str:
    """The upper bound of the duration bucket `column` falls in (9e999 is +Inf in SQLite)."""
    cases = " ".join(f"WHEN {column} <= {le} THEN {le}" for le in DURATION_BUCKETS_V3)
    return f"(CASE {cases} ELSE 9e999 END)"


def _v3(db: Db) -> None:
    """Totals per job and status, and duration buckets per job, kept by triggers in the same transaction as
    every change to `runs`: `/metrics` reads a few hundred rows instead of scanning a million."""
    db.execute("""
        CREATE TABLE run_totals (
            job TEXT NOT NULL,
            status TEXT NOT NULL,
            n INTEGER NOT NULL,
            last_finished_at REAL,           -- the newest finished_at among runs that reached this status
            PRIMARY KEY (job, status)
        ) WITHOUT ROWID""")
    db.execute("""
        CREATE TABLE run_durations (
            job TEXT NOT NULL,
            le REAL NOT NULL,                -- bucket upper bound in seconds; not cumulative
            n INTEGER NOT NULL,
            sum_s REAL NOT NULL,
            PRIMARY KEY (job, le)
        ) WITHOUT ROWID""")
    db.execute("INSERT INTO run_totals(job, status, n, last_finished_at)"
               " SELECT job, status, COUNT(*), MAX(finished_at) FROM runs GROUP BY job, status")
    db.execute(f"INSERT INTO run_durations(job, le, n, sum_s) SELECT job, {_v3_bucket('duration_s')}, COUNT(*),"
               " SUM(duration_s) FROM runs WHERE duration_s IS NOT NULL GROUP BY 1, 2")

    def add(row: str) -> str:
        return f"""
            INSERT INTO run_totals(job, status, n, last_finished_at) VALUES ({row}.job, {row}.status, 1, {row}.finished_at)
              ON CONFLICT(job, status) DO UPDATE SET n = n + 1,
                last_finished_at = MAX(COALESCE(last_finished_at, excluded.last_finished_at),
                                       COALESCE(excluded.last_finished_at, last_finished_at));
            INSERT INTO run_durations(job, le, n, sum_s)
              SELECT {row}.job, {_v3_bucket(row + '.duration_s')}, 1, {row}.duration_s WHERE {row}.duration_s IS NOT NULL
              ON CONFLICT(job, le) DO UPDATE SET n = n + 1, sum_s = sum_s + excluded.sum_s;"""

    def remove(row: str) -> str:
        return f"""
            UPDATE run_totals SET n = n - 1 WHERE job = {row}.job AND status = {row}.status;
            UPDATE run_durations SET n = n - 1, sum_s = sum_s - {row}.duration_s
              WHERE {row}.duration_s IS NOT NULL AND job = {row}.job AND le = {_v3_bucket(row + '.duration_s')};"""

    db.execute(f"CREATE TRIGGER runs_totals_insert AFTER INSERT ON runs BEGIN {add('NEW')} END")
    db.execute(f"""CREATE TRIGGER runs_totals_update AFTER UPDATE OF job, status, duration_s, finished_at ON runs
        WHEN OLD.job IS NOT NEW.job OR OLD.status IS NOT NEW.status OR OLD.duration_s IS NOT NEW.duration_s
          OR OLD.finished_at IS NOT NEW.finished_at
        BEGIN {remove('OLD')} {add('NEW')} END""")
    db.execute(f"CREATE TRIGGER runs_totals_delete AFTER DELETE ON runs BEGIN {remove('OLD')} END")
    # `outbox.undelivered`: count the few undelivered rows, not every alert ever sent
    db.execute("CREATE INDEX outbox_undelivered ON outbox(id) WHERE delivered_at IS NULL AND attempts > 0")


def _v4(db: Db) -> None:
    """Runs a foreground process carries out itself (`run`, `exec`) name it, so that a scheduler starting
    meanwhile leaves them to it; and runs started outside (`exec`) never hold a scheduled slot's key."""
    db.execute("ALTER TABLE runs ADD COLUMN owner TEXT")  # host:pid:starttime of that process
    db.execute("DROP INDEX runs_slot")
    db.execute("CREATE UNIQUE INDEX runs_slot ON runs(job, scheduled_at, attempt)"
               " WHERE trigger NOT IN ('manual', 'external')")


def _v5(db: Db) -> None:
    """"engine" meant both the scheduler and the Docker Engine: the column says which."""
    db.execute("ALTER TABLE runs RENAME COLUMN engine TO docker_host")


def _v6(db: Db) -> None:
    """The machine that ran a run, when it is another than the engine's own (a Swarm node's hostname)."""
    db.execute("ALTER TABLE runs ADD COLUMN node TEXT")


def _v7(db: Db) -> None:
    """What each run ran with: the job's effective spec, stored once per distinct content (its hash) and
    referenced from every run that ran with it; and the image a container run started from."""
    db.execute("""
        CREATE TABLE run_specs (
            id INTEGER PRIMARY KEY,
            hash TEXT NOT NULL UNIQUE,       -- sha256 of the spec's canonical JSON
            spec TEXT NOT NULL,              -- JSON: config fields, env names with value hashes, secret names
            first_seen REAL NOT NULL
        )""")
    db.execute("ALTER TABLE runs ADD COLUMN spec_id INTEGER")  # run_specs.id; NULL for runs before v7
    db.execute("ALTER TABLE runs ADD COLUMN image_id TEXT")  # the image's id (sha256:...) when known


MIGRATIONS = [_v1, _v2, _v3, _v4, _v5, _v6, _v7]
