"""The typed vocabulary: decision-log lines are dataclasses that print the same JSON lines as before, a run's
trigger comes back from the store as a Trigger, and slow_after is parsed when jobs.toml is loaded."""

from __future__ import annotations

import io
import json

import pytest

from panda_tui import decisions as d
from panda_tui.config import load_config
from panda_tui.engine.events import DecisionLog, EventLog
from panda_tui.fields import TimesP95
from panda_tui.store import ledger
from panda_tui.store.db import Database
from panda_tui.store.ledger import Ledger, RunStatus, Trigger


@pytest.fixture
def book(db_path):
    db = Database(db_path)
    yield Ledger(db)
    db.close()


def lines_of(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_status_change_prints_its_line(book):
    out = io.StringIO()
    book.subscribe(DecisionLog(EventLog(out)).on_change)
    run = book.insert("a", 1000.0, trigger="schedule", now=1000.0)
    book.start(run.id, 1000.5)
    book.finish(run.id, RunStatus.FAILED, 1003.0, exit_code=3, reason="exit 3")
    book.insert("a", 1000.0, trigger=Trigger.RETRY, attempt=2, now=1003.0, not_before=1033.0)
    skipped = book.insert("a", 2000.0, trigger="schedule", now=2000.0, status=RunStatus.SKIPPED, reason="paused")
    lines = lines_of(out)
    assert [(line["event"], line["job"], line["run_id"]) for line in lines] == [
        ("scheduled", "a", run.id), ("started", "a", run.id), ("finished", "a", run.id),
        ("retried", "a", run.id + 1), ("skipped", "a", skipped.id)]
    assert [list(line)[2:] for line in lines] == [
        ["job", "run_id", "scheduled_at", "trigger", "attempt"],  # not_before only when there is one
        ["job", "run_id", "attempt", "trigger", "lateness_s"],
        ["job", "run_id", "status", "exit_code", "reason", "duration_s"],
        ["job", "run_id", "scheduled_at", "trigger", "attempt", "not_before"],
        ["job", "run_id", "scheduled_at", "reason"]]  # a skip is named by its status, not a field
    assert lines[1]["trigger"] == "schedule" and lines[1]["lateness_s"] == 0.5
    assert lines[2]["status"] == "failed" and lines[2]["exit_code"] == 3 and lines[2]["duration_s"] == 2.5


def test_a_decision_without_a_run_prints_no_job_and_keeps_its_nulls():
    out = io.StringIO()
    log = EventLog(out)
    log.emit(d.Control(None, None, "reload", "reloaded: 2 jobs", None))
    log.emit(d.Adopted("a", 7, "abc"))
    log.emit(d.Adopted("a", 8, "def", owner="host:12"))
    log.emit(d.Stopped())
    control, adopted, adopted_owner, stopped = lines_of(out)
    assert list(control) == ["ts", "event", "kind", "outcome", "error"] and control["error"] is None
    assert "owner" not in adopted and adopted_owner["owner"] == "host:12"
    assert list(stopped) == ["ts", "event"] and stopped["event"] == "stopped"


def test_a_line_is_masked_field_by_field():
    out = io.StringIO()
    log = EventLog(out)
    log.redact = lambda text: text.replace("hunter2", "***")
    log.emit(d.ReloadFailed("SIGHUP", ["bad token hunter2"]))
    assert lines_of(out)[0]["errors"] == ["bad token ***"]


def test_a_runs_trigger_comes_back_typed(book):
    run = book.insert("a", 1.0, trigger="manual", now=1.0)
    stored = ledger.get(book.conn, run.id)
    assert type(run.trigger) is Trigger and type(stored.trigger) is Trigger
    assert stored.trigger == Trigger.MANUAL
    with pytest.raises(ValueError):
        book.insert("a", 2.0, trigger="whenever", now=2.0)


@pytest.mark.parametrize("text, parsed", [('"p95x2"', TimesP95(2.0)), ('"p95x1.5"', TimesP95(1.5)),
                                          ('"30s"', 30.0), ("90", 90.0)])
def test_slow_after_is_parsed_with_the_config(write_toml, text, parsed):
    config = load_config(write_toml(f"""
        [jobs.a]
        schedule = "@hourly"
        command = "true"
        slow_after = {text}
        """))
    assert config.jobs["a"].slow_after == parsed


def test_a_bad_slow_after_is_one_line_naming_the_field(write_toml):
    from panda_tui.config import ConfigError
    with pytest.raises(ConfigError) as caught:
        load_config(write_toml("""
            [jobs.a]
            schedule = "@hourly"
            command = "true"
            slow_after = "p95xlots"
            """))
    assert any('job "a"' in e and "slow_after" in e for e in caught.value.errors), caught.value.errors


def test_meta_has_a_typed_reader_and_writer_per_key(db_path):
    from panda_tui.store import state
    db = Database(db_path)
    try:
        assert state.engines(db.conn) == {} and state.config_errors(db.conn) == []
        with db.transaction() as conn:
            state.put_engines(conn, {"local": {"up": False, "error": "connection refused"}}, 5.0)
            state.record_reload(conn, 5.0, "SIGHUP", ['job "a": schedule: bad'])
        assert state.engines(db.conn) == {"local": {"up": False, "error": "connection refused", "checked_at": 5.0}}
        assert state.config_errors(db.conn) == ['job "a": schedule: bad']
        with db.transaction() as conn:
            state.put_meta(conn, "engines", ["not", "a", "table"], 6.0)  # a value an older version wrote
        assert state.engines(db.conn) == {}
    finally:
        db.close()


def test_a_line_s_time_is_iso_8601_utc_to_the_millisecond_like_every_other_time():
    from datetime import datetime, timedelta
    out = io.StringIO()
    EventLog(out).emit(d.Stopped())
    (line,) = lines_of(out)
    assert isinstance(line["ts"], str) and line["ts"].endswith("Z") and len(line["ts"]) == len("2026-12-02T03:00:00.123Z")
    at = datetime.fromisoformat(line["ts"].replace("Z", "+00:00"))
    assert at.utcoffset() == timedelta(0) and abs(at.timestamp() - __import__("time").time()) < 3600
