from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from panda_tui.store import StoreError, connect
from panda_tui.store import control, lease, ledger, logs, state
from panda_tui.store.db import SCHEMA_VERSION, Database, transaction
from panda_tui.store.ledger import Ledger, NewRun, RunStatus, Trigger
from panda_tui.store.missed import missed_since


@pytest.fixture
def book(db_path):
    db = Database(db_path)
    yield Ledger(db)
    db.close()


def test_migrates_an_empty_file_with_wal_and_owner_only_mode(db_path):
    conn = connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"runs", "logs", "job_state", "control", "lease", "meta", "outbox"} <= tables
    conn.close()
    assert connect(db_path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION  # idempotent


def test_insert_on_time_stamps_each_row_right_before_its_write_then_announces_them_in_order(book):
    events: list[str] = []  # what happened, in order
    stamps = iter([1000.5, 1001.5, 1070.0, 1003.5])
    announced: list[tuple[int, str, int]] = []
    book.subscribe_in_transaction(lambda change, conn: announced.append(
        (change.run.id, change.run.status, conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])))

    def now() -> float:
        events.append(f"stamp with {book.conn.execute('SELECT COUNT(*) FROM runs').fetchone()[0]} rows")
        return next(stamps)

    rows = [NewRun("a", 1000.0, Trigger.SCHEDULE, 0.0, started=True), NewRun("b", 1000.0, Trigger.SCHEDULE, 0.0),
            NewRun("c", 1000.0, Trigger.SCHEDULE, 0.0, started=True),  # stamped past its deadline (60 s)
            NewRun("a", 1000.0, Trigger.SCHEDULE, 0.0, started=True)]  # ("a", 1000.0) again
    written = book.insert_on_time(rows, [60.0] * 4, now, until=lambda: events.append("until"))
    assert events == ["until"] + [f"stamp with {n} rows" for n in range(4)]  # each right after the row before
    assert [stamp for stamp, _ in written] == [1000.5, 1001.5, 1070.0, 1003.5]
    runs = [run for _, run in written]
    assert runs[3] is None  # already in the ledger
    assert [(r.job, r.status, r.queued_at, r.started_at) for r in runs[:3]] == [
        ("a", "running", 1000.5, 1000.5), ("b", "queued", 1001.5, None), ("c", "queued", 1070.0, None)]
    assert [(r.status, r.queued_at, r.started_at) for r in (ledger.get(book.conn, i) for i in (1, 2, 3))] == [
        ("running", 1000.5, 1000.5), ("queued", 1001.5, None), ("queued", 1070.0, None)]
    assert announced == [(1, "queued", 3), (1, "running", 3), (2, "queued", 3), (3, "queued", 3)]


def test_slot_identity_prevents_a_second_run(book):
    first = book.insert("a", 1000.0, trigger="schedule", now=1000.0)
    assert first is not None
    assert book.insert("a", 1000.0, trigger="catchup", now=1001.0) is None
    assert book.insert("a", 1000.0, trigger="retry", attempt=2, now=1001.0) is not None
    assert book.insert("a", 1000.0, trigger="manual", now=1001.0) is not None  # manual is its own slot


def test_run_round_trip_and_forward_only_transitions(book):
    rid = book.insert("a", 1000.0, trigger="schedule", now=1000.0).id
    assert book.start(rid, 1000.25).status == RunStatus.RUNNING
    assert book.start(rid, 1000.5) is None  # only a queued run starts
    book.set_ref(rid, "pid:1")
    assert book.finish(rid, RunStatus.FAILED, 1003.25, exit_code=3, reason="exit 3")
    assert book.finish(rid, RunStatus.SUCCEEDED, 1004.0) is None  # already final
    run = ledger.get(book.conn, rid)
    assert (run.status, run.exit_code, run.duration_s, run.lateness, run.reason) == ("failed", 3, 3.0, 0.25, "exit 3")
    assert run.runner_ref == "pid:1" and ledger.history(book.conn, "a")[0] == run


def test_every_status_change_is_announced_in_and_after_its_transaction(book):
    inside, after = [], []
    book.subscribe_in_transaction(lambda change, conn: inside.append((change.run.status, change.previous,
                                                                      conn.in_transaction)))
    book.subscribe(lambda change: after.append((change.run.id, change.run.status, change.previous)))
    with book.transaction():
        rid = book.insert("a", 1.0, trigger="schedule", now=1.0).id
        book.start(rid, 1.5)
        assert after == []  # nothing is told before the commit
    book.finish(rid, RunStatus.KILLED, 2.0, reason="killed on request")
    assert inside == [("queued", None, True), ("running", "queued", True), ("killed", "running", True)]
    assert after == [(rid, "queued", None), (rid, "running", "queued"), (rid, "killed", "running")]


def test_a_rolled_back_change_is_never_announced_and_a_failing_subscriber_never_undoes_one(book):
    after, errors = [], []
    book.subscribe(lambda change: after.append(change.run.id))
    with pytest.raises(RuntimeError):
        with book.transaction():
            book.insert("a", 1.0, trigger="schedule", now=1.0)
            raise RuntimeError("disk on fire")
    assert after == [] and ledger.history(book.conn, "a") == []
    book.on_error = lambda who, exc: errors.append(str(exc))
    book.subscribe_in_transaction(lambda change, conn: 1 / 0)
    rid = book.insert("a", 2.0, trigger="schedule", now=2.0).id
    assert after == [rid] and errors == ["division by zero"]
    assert ledger.get(book.conn, rid).status == RunStatus.QUEUED


def test_log_writer_batches_and_pages(db_path, book):
    conn = book.conn
    rid = book.insert("a", 1.0, trigger="manual", now=1.0).id
    writer = logs.LogWriter(db_path)
    sink = logs.RunLog(writer, rid)
    for i in range(2500):
        sink.line("out" if i % 2 else "err", f"line {i}")
    assert sink.close()
    writer.close()
    assert [l.text for l in logs.read(conn, rid, 0, 3)] == ["line 0", "line 1", "line 2"]
    assert [l.seq for l in logs.read_before(conn, rid, 2501, 2)] == [2499, 2500]
    assert [l.stream for l in logs.tail(conn, rid, 2)] == ["err", "out"]
    run = ledger.get(conn, rid)
    assert (run.out_lines, run.err_lines, run.log_lines) == (1250, 1250, 2500)


def test_log_cap_ends_with_a_marker_saying_how_much_was_dropped(db_path, book):
    conn = book.conn
    rid = book.insert("a", 1.0, trigger="manual", now=1.0).id
    writer = logs.LogWriter(db_path)
    sink = logs.RunLog(writer, rid, max_lines=10)
    for i in range(100):
        sink.line("out", f"line {i}")
    sink.close()
    writer.close()
    lines = logs.read(conn, rid, 0, 1000)
    assert len([l for l in lines if l.stream == "out"]) == 10
    assert "90 lines" in lines[-1].text and lines[-1].stream == "sys"


def test_retention_keeps_ledger_rows(db_path, book):
    conn = book.conn
    writer = logs.LogWriter(db_path)
    ids = []
    for n in range(5):
        rid = book.insert("a", float(n), trigger="schedule", now=float(n)).id
        sink = logs.RunLog(writer, rid)
        sink.line("out", "x")
        sink.close()
        ids.append(rid)
    writer.close()
    pruned = sum(logs.prune(conn, "a", keep_runs=k) for k in (4, 3, 2))  # as runs finish one by one
    assert pruned == 3
    assert [bool(logs.read(conn, i)) for i in ids] == [False, False, False, True, True]
    assert logs.prune(conn, "a", keep_runs=2) == 0
    assert len(ledger.history(conn, "a")) == 5


def test_control_requests_round_trip(db_path):
    conn = connect(db_path)
    rid = control.submit(conn, "trigger", job="a", args={"at": 5.0}, now=10.0)
    with transaction(conn):
        taken = control.take_pending(conn, 11.0)
    assert [(r.id, r.kind, r.job, r.args) for r in taken] == [(rid, "trigger", "a", {"at": 5.0})]
    assert control.take_pending(conn, 12.0) == []
    control.complete(conn, rid, 12.0, outcome="run 7 queued")
    assert control.wait_done(conn, rid, 0.1).outcome == "run 7 queued"


def test_lease_is_exclusive_until_it_expires(db_path):
    a, b = connect(db_path), connect(db_path)
    assert lease.try_acquire(a, "host:1:0:daemon", now=100.0, ttl=10) is None
    holder = lease.try_acquire(b, "host:2:0:daemon", now=105.0, ttl=10)
    assert holder is not None and holder.owner == "host:1:0:daemon"
    assert lease.heartbeat(a, "host:1:0:daemon", now=108.0)
    assert lease.try_acquire(b, "host:2:0:daemon", now=117.0, ttl=10) is not None
    assert lease.try_acquire(b, "host:2:0:daemon", now=118.5, ttl=10) is None  # expired: taken over
    assert not lease.heartbeat(a, "host:1:0:daemon", now=119.0)


def test_paused_and_last_slot_survive_reopen(db_path):
    conn = connect(db_path)
    state.set_paused(conn, "a", True, 1.0)
    state.set_last_slot(conn, "a", 50.0, 1.0)
    state.set_last_slot(conn, "a", 40.0, 2.0)  # never goes back
    conn.close()
    conn = connect(db_path)
    assert state.paused_jobs(conn) == {"a"}
    assert state.last_slots(conn) == {"a": 50.0}


def test_not_sqlite_is_refused_and_untouched(tmp_path):
    path = tmp_path / "x.db"
    path.write_bytes(b"hello, I am not a database" * 100)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a panda-tui database"):
        connect(str(path))
    assert path.read_bytes() == before


def test_newer_schema_is_refused(db_path):
    connect(db_path).execute("PRAGMA user_version=99")
    with pytest.raises(StoreError, match="newer than this panda-tui supports"):
        connect(db_path)


def test_readonly_connection_reads(db_path, book):
    book.insert("a", 1.0, trigger="manual", now=1.0)
    ro = connect(db_path, readonly=True)
    assert len(ledger.history(ro, "a")) == 1
    with pytest.raises(sqlite3.OperationalError):
        state.set_paused(ro, "a", True, 2.0)


def test_migrates_forward_from_version_1(db_path):
    import sqlite3 as sq
    import sqlite_utils
    from panda_tui.store.schema import MIGRATIONS
    raw = sq.connect(db_path, isolation_level=None)
    MIGRATIONS[0](sqlite_utils.Database(raw))
    raw.execute("PRAGMA user_version=1")
    raw.execute("INSERT INTO runs(job, scheduled_at, trigger, status) VALUES ('a', 1.0, 'schedule', 'missed')")
    raw.close()
    conn = connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert missed_since(conn, 0.0, "a") == 1
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "runs_gone" in names


def _open_each(paths: list[str], start, answers) -> None:
    """Open each new file in turn, together with the other processes: all wait at `start` before each one."""
    for path in paths:
        start.wait()
        try:
            connect(path).close()
            answers.put("ok")
        except StoreError as exc:
            answers.put(str(exc))


@pytest.mark.slow  # 600 opens: 5-15 s
def test_processes_creating_one_new_database_at_once_all_open_it(tmp_path):
    """Two daemons started together on a fresh file once met "database is locked" (a few rounds in 200):
    SQLite answers BUSY without its busy handler while the other turns the file to WAL. Three processes open
    200 new files, released together at a barrier for each (forked once, not once per file)."""
    import multiprocessing
    context = multiprocessing.get_context("fork")
    answers, start = context.Queue(), context.Barrier(3)
    paths = [str(tmp_path / f"{round_}.db") for round_ in range(200)]
    openers = [context.Process(target=_open_each, args=(paths, start, answers)) for _ in range(3)]
    for process in openers:
        process.start()
    said = [answers.get(timeout=60) for _ in range(3 * len(paths))]
    for process in openers:
        process.join(60)
    assert [s for s in said if s != "ok"] == []


def test_waiting_for_a_run_to_end_returns_it_final_or_none_by_the_deadline(db_path, book):
    run = book.insert("j", 1000.0, trigger="manual", now=1000.0)
    book.start(run.id, 1000.0)
    conn = connect(db_path, readonly=True)
    assert ledger.wait_final(conn, run.id, timeout=0.2, interval=0.05) is None  # still running
    book.finish(run.id, RunStatus.KILLED, 1001.0, reason="killed on request")
    assert ledger.wait_final(conn, run.id, timeout=5).status == "killed"
    assert ledger.wait_final(conn, 999, timeout=5) is None
    conn.close()
