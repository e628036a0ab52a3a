"""One unit of work on a real SQLite file: nested units are SAVEPOINTs, actions follow the outermost
commit or rollback, a ledger verb in any unit is announced, and store errors are classified in one place."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from panda_tui.store.db import Database
from panda_tui.store.errors import Trouble, classify, is_fatal
from panda_tui.store.ledger import Ledger, RunStatus
from panda_tui.store.ledger import get as ledger_get


class Boom(Exception):
    pass


@pytest.fixture
def db(tmp_path):
    database = Database(str(tmp_path / "panda.db"))
    database.conn.execute("CREATE TABLE t(x)")
    yield database
    database.close()


def values(db: Database) -> list[int]:
    return [r[0] for r in db.conn.execute("SELECT x FROM t ORDER BY x")]


def test_a_nested_unit_that_fails_is_undone_and_the_outer_work_is_kept(db):
    with db.unit() as outer:
        outer.conn.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(Boom):
            with db.unit() as inner:
                inner.conn.execute("INSERT INTO t VALUES (2)")
                raise Boom
        outer.conn.execute("INSERT INTO t VALUES (3)")
    assert values(db) == [1, 3]


def test_on_commit_runs_once_after_the_outermost_commit_and_never_after_a_rollback(db):
    seen: list[str] = []
    with db.unit() as outer:
        outer.on_commit(lambda: seen.append("outer"))
        with db.unit() as kept:
            kept.on_commit(lambda: seen.append("kept"))
        with pytest.raises(Boom):
            with db.unit() as undone:
                undone.on_commit(lambda: seen.append("undone"))
                raise Boom
        assert seen == []  # nothing before the outermost commit
        assert db.conn.in_transaction
    assert seen == ["outer", "kept"]
    with pytest.raises(Boom):
        with db.unit() as failed:
            failed.on_commit(lambda: seen.append("rolled back"))
            raise Boom
    assert seen == ["outer", "kept"]
    db.on_commit(lambda: seen.append("no unit: at once"))
    assert seen[-1] == "no unit: at once"


def test_an_action_that_fails_does_not_keep_the_others_from_running(db):
    seen: list[str] = []

    def broken() -> None:
        raise Boom

    with pytest.raises(Boom):
        with db.unit() as unit:
            unit.on_commit(broken)
            unit.on_commit(lambda: seen.append("after the broken one"))
    assert seen == ["after the broken one"]
    assert not db.conn.in_transaction


def test_on_rollback_undoes_what_went_with_the_work_newest_first(db):
    undone: list[str] = []
    with pytest.raises(Boom):
        with db.unit() as outer:
            outer.on_rollback(lambda: undone.append("outer"))
            with db.unit() as inner:
                inner.on_rollback(lambda: undone.append("inner, kept until the outer failed"))
            with pytest.raises(Boom):
                with db.unit() as failing:
                    failing.on_rollback(lambda: undone.append("failing, at once"))
                    raise Boom
            assert undone == ["failing, at once"]
            raise Boom
    assert undone == ["failing, at once", "inner, kept until the outer failed", "outer"]
    assert not db.conn.in_transaction


def test_a_ledger_verb_in_a_bare_unit_is_announced_after_commit_and_never_when_undone(db):
    ledger = Ledger(db)
    announced: list[tuple[str, RunStatus]] = []
    ledger.subscribe(lambda change: announced.append((change.run.job, change.run.status)))
    with db.unit():  # not the ledger's own transaction
        ledger.insert("a", 1.0, trigger="manual", now=1.0)
        assert announced == []
    assert announced == [("a", RunStatus.QUEUED)]
    with pytest.raises(Boom):
        with db.unit():
            ledger.insert("b", 1.0, trigger="manual", now=1.0)
            raise Boom
    with db.unit():
        with pytest.raises(Boom):
            with db.unit():
                ledger.insert("c", 1.0, trigger="manual", now=1.0)
                raise Boom
        ledger.insert("d", 1.0, trigger="manual", now=1.0)
    with db.transaction():  # the connection-only form is the same unit
        ledger.insert("e", 1.0, trigger="manual", now=1.0)
    assert announced == [("a", RunStatus.QUEUED), ("d", RunStatus.QUEUED), ("e", RunStatus.QUEUED)]
    assert [r[0] for r in db.conn.execute("SELECT job FROM runs ORDER BY id")] == ["a", "d", "e"]


def test_rows_an_in_transaction_subscriber_writes_go_with_the_change(db):
    ledger = Ledger(db)
    ledger.subscribe_in_transaction(lambda change, conn: conn.execute("INSERT INTO t VALUES (?)",
                                                                      (change.run.id,)))
    with db.unit():
        kept = ledger.insert("a", 1.0, trigger="manual", now=1.0)
        with pytest.raises(Boom):
            with db.unit():
                ledger.insert("b", 1.0, trigger="manual", now=1.0)
                raise Boom
    assert values(db) == [kept.id]


def test_a_run_started_at_insert_is_one_row_announced_as_insert_then_start(db):
    ledger = Ledger(db)
    within: list[tuple[RunStatus | None, RunStatus, float | None]] = []
    after: list[tuple[RunStatus | None, RunStatus]] = []
    ledger.subscribe_in_transaction(lambda c, conn: within.append((c.previous, c.run.status, c.run.started_at)))
    ledger.subscribe(lambda c: after.append((c.previous, c.run.status)))
    with db.unit():
        run = ledger.insert("a", 1.0, trigger="schedule", now=2.5, started=True)
        assert after == []
    assert run is not None and run.status == RunStatus.RUNNING and run.started_at == 2.5
    assert within == [(None, RunStatus.QUEUED, None), (RunStatus.QUEUED, RunStatus.RUNNING, 2.5)]
    assert after == [(None, RunStatus.QUEUED), (RunStatus.QUEUED, RunStatus.RUNNING)]
    assert ledger_get(db.conn, run.id) == run  # the row is what was announced
    assert db.conn.execute("SELECT n FROM run_totals WHERE job='a' AND status='running'").fetchone() == (1,)
    assert ledger.insert("a", 1.0, trigger="schedule", now=3.0, started=True) is None  # the slot is taken
    assert len(after) == 2


def test_a_jobs_spec_id_is_remembered_only_once_its_row_is_committed(tmp_path, db):
    from panda_tui.config import build_config
    from panda_tui.store import specs

    config = build_config({"jobs": {"a": {"schedule": "@daily", "command": "true"},
                                    "b": {"schedule": "@daily", "command": "false"}}}, "jobs.toml")
    a, b = config.jobs["a"], config.jobs["b"]
    ledger = Ledger(db)
    with pytest.raises(Boom):
        with db.unit() as unit:
            ledger.specs.of(unit.conn, a, 1.0)
            raise Boom
    with db.unit() as unit:
        taken = ledger.specs.of(unit.conn, b, 1.0)  # may take the id a's undone row had
    with db.unit() as unit:
        found = ledger.specs.of(unit.conn, a, 1.0)
    assert found != taken and specs.get(db.conn, found) == specs.job_spec(a)
    with db.unit() as unit:
        unit.conn.execute("DELETE FROM run_specs")  # never done by panda-tui: shows the id is remembered
        assert ledger.specs.of(unit.conn, a, 2.0) == found


def test_another_thread_waits_for_the_unit_instead_of_joining_it(db):
    entered = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def other() -> None:
        entered.wait()
        with db.unit() as unit:
            order.append("other")
            unit.conn.execute("INSERT INTO t VALUES (2)")

    thread = threading.Thread(target=other)
    thread.start()
    with pytest.raises(Boom):
        with db.unit() as unit:
            unit.conn.execute("INSERT INTO t VALUES (1)")
            entered.set()
            release.wait(0.2)  # room for the other thread to try: joining would put its row in our rollback
            order.append("first")
            raise Boom
    thread.join()
    assert order == ["first", "other"]
    assert values(db) == [2]  # its row was not rolled back with ours


def test_a_unit_waits_for_this_processs_other_writer_only_as_long_as_the_busy_timeout(db):
    db.busy_timeout = 0.05
    db.lock.acquire()  # the log writer thread, stuck on a busy store
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            with db.unit():
                pass
        assert classify(caught.value) == Trouble.BUSY
    finally:
        db.lock.release()


@pytest.mark.parametrize("message, trouble, fatal", [
    ("database is locked", Trouble.BUSY, False),
    ("database or disk is full", Trouble.FULL, False),
    ("attempt to write a readonly database", Trouble.READ_ONLY, True),
    ("database disk image is malformed", Trouble.CORRUPT, True),
    ("file is not a database", Trouble.CORRUPT, True),
    ("unable to open database file", Trouble.UNAVAILABLE, True),
    ("disk I/O error", Trouble.OTHER, False),
])
def test_store_errors_are_classified_in_one_place(message, trouble, fatal):
    exc = sqlite3.OperationalError(message)
    assert (classify(exc), is_fatal(exc)) == (trouble, fatal)


def test_sqlites_own_result_code_classifies_a_real_error(tmp_path):
    path = tmp_path / "x.db"
    path.write_bytes(b"this is not sqlite" * 100)
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError) as caught:
        conn.execute("SELECT * FROM sqlite_master").fetchall()
    assert classify(caught.value) == Trouble.CORRUPT
