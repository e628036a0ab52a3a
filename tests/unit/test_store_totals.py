"""The totals kept by triggers always equal what a full scan of the ledger says, and migrating fills them."""

from __future__ import annotations

import math
import random
import sqlite3

import sqlite_utils

from panda_tui.store import connect, totals
from panda_tui.store.db import Database
from panda_tui.store.ledger import ACTIVE, FINAL, Ledger, RunStatus
from panda_tui.store.schema import MIGRATIONS

BOUNDS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400, math.inf)


def scanned(conn: sqlite3.Connection) -> tuple[dict, dict]:
    """What the triggers should have kept, computed the slow way."""
    counts: dict = {}
    for job, status, n, last in conn.execute(
            "SELECT job, status, COUNT(*), MAX(finished_at) FROM runs GROUP BY job, status"):
        counts[(job, status)] = (n, last)
    buckets: dict = {}
    for job, duration in conn.execute("SELECT job, duration_s FROM runs WHERE duration_s IS NOT NULL"):
        le = next(b for b in BOUNDS if duration <= b)
        n, total = buckets.get((job, le), (0, 0.0))
        buckets[(job, le)] = (n + 1, total + duration)
    return counts, buckets


def kept(conn: sqlite3.Connection) -> tuple[dict, dict]:
    counts = {(t.job, t.status): (t.n, t.last_finished_at) for t in totals.totals(conn) if t.n}
    buckets = {(b.job, b.le): (b.n, b.sum_s) for b in totals.duration_buckets(conn) if b.n}
    return counts, buckets


def same(a: tuple[dict, dict], b: tuple[dict, dict]) -> bool:
    counts_a, buckets_a = a
    counts_b, buckets_b = b
    if {k: v[0] for k, v in counts_a.items()} != {k: v[0] for k, v in counts_b.items()}:
        return False
    if buckets_a.keys() != buckets_b.keys():
        return False
    return all(buckets_a[k][0] == buckets_b[k][0] and math.isclose(buckets_a[k][1], buckets_b[k][1], abs_tol=1e-6)
               for k in buckets_a)


def test_totals_follow_every_verb_of_the_ledger(db_path):
    db = Database(db_path)
    book = Ledger(db)
    rnd = random.Random(3)
    now = 1000.0
    live: list[int] = []
    for step in range(600):
        now += rnd.uniform(0.01, 40)
        action = rnd.random()
        if action < 0.35 or not live:
            status = rnd.choice([RunStatus.QUEUED] * 4 + [RunStatus.MISSED, RunStatus.SKIPPED])
            run = book.insert(rnd.choice("abc"), now, trigger="schedule", now=now, status=status)
            if run is not None and status == RunStatus.QUEUED:
                live.append(run.id)
        else:
            rid = rnd.choice(live)
            if rnd.random() < 0.4:
                book.start(rid, now)
            else:
                book.finish(rid, rnd.choice([s for s in FINAL if s not in ("skipped", "missed")]),
                            now + rnd.choice([0.05, 0.3, 4, 70, 5000, 200000]))
                live.remove(rid)
    expected = scanned(db.conn)
    assert same(kept(db.conn), expected)
    # the newest finish per status is kept too
    for (job, status), (n, last) in kept(db.conn)[0].items():
        if status in FINAL:
            assert last == expected[0][(job, status)][1]
    assert sum(t.n for t in totals.totals(db.conn) if t.status in ACTIVE) == len(live)
    db.close()


def test_raw_inserts_updates_and_deletes_are_counted_too(db_path):
    conn = connect(db_path)
    conn.execute("INSERT INTO runs(job, scheduled_at, trigger, status, started_at, finished_at, duration_s)"
                 " VALUES ('x', 1, 'manual', 'succeeded', 1, 3, 2), ('x', 2, 'manual', 'failed', 2, 2.05, 0.05)")
    conn.execute("UPDATE runs SET job='y', duration_s=0.7 WHERE scheduled_at=1")
    conn.execute("UPDATE runs SET log_lines=10")  # not a counted column: no change
    conn.execute("DELETE FROM runs WHERE scheduled_at=2")
    assert same(kept(conn), scanned(conn))
    assert kept(conn)[0] == {("y", "succeeded"): (1, 3.0)}
    conn.close()


def test_migrating_an_older_store_fills_the_totals_from_its_history(db_path):
    raw = sqlite3.connect(db_path, isolation_level=None)
    db = sqlite_utils.Database(raw)
    for migration in MIGRATIONS[:2]:
        migration(db)
    raw.execute("PRAGMA user_version=2")
    raw.execute("""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 4999)
        INSERT INTO runs(job, scheduled_at, trigger, status, finished_at, duration_s)
        SELECT 'job-' || (i % 7), i, 'schedule', CASE WHEN i % 9 = 0 THEN 'failed' ELSE 'succeeded' END,
               i + 1, (i % 500) / 3.0 FROM n""")
    raw.close()
    conn = connect(db_path)  # migrates to the newest version
    assert same(kept(conn), scanned(conn))
    assert sum(t.n for t in totals.totals(conn)) == 5000
    conn.close()
