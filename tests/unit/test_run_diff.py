"""What changed since the last good run: config fields, env names, image, where, ending, new log lines."""

from __future__ import annotations

from panda_tui.readmodel.diff import RunFacts, compare, new_lines, normalise

GOOD_SPEC = {"command": "backup.sh", "timeout": 600.0, "env": {"MODE": "full", "TARGET": "s3"},
             "secrets": ["DB_URL"], "image": "backup:1.4"}


def facts(run_id=2, status="failed", exit_code=3, duration=10.0, spec=None, image="sha256:aaa111", where=None):
    return RunFacts(run_id, status, exit_code, duration, spec, image, where)


def test_config_fields_env_names_and_secrets_that_differ():
    failed_spec = {**GOOD_SPEC, "timeout": 60.0, "env": {"MODE": "incremental", "REGION": "eu"},
                   "secrets": ["DB_URL", "TOKEN"]}
    diff = compare(facts(spec=failed_spec), facts(1, "succeeded", 0, spec=GOOD_SPEC), 10.0, [], [])
    lines = [c.line() for c in diff.changes]
    assert "timeout: 10m → 1m" in lines
    assert "env MODE: value changed" in lines  # the value itself is never shown
    assert "env REGION: added" in lines and "env TARGET: removed" in lines
    assert "secret TOKEN: added" in lines
    assert not any("incremental" in line or "full" in line for line in lines)
    assert "exit code: 0 → 3" in lines


def test_image_and_where_it_ran():
    diff = compare(facts(spec=GOOD_SPEC, image="sha256:bbb222ccc333ddd", where="node-2"),
                   facts(1, "succeeded", 0, spec=GOOD_SPEC, image="sha256:aaa111", where="node-1"), None, [], [])
    assert [c.line() for c in diff.changes] == ["image: aaa111 → bbb222ccc333", "ran on: node-1 → node-2",
                                                 "exit code: 0 → 3"]


def test_duration_far_from_the_median_is_a_change_and_near_it_is_not():
    slow = compare(facts(spec=GOOD_SPEC, duration=61.0), facts(1, "succeeded", 0, spec=GOOD_SPEC), 20.0, [], [])
    assert "duration: median 20.0s → 61.0s (3.0× the median)" in [c.line() for c in slow.changes]
    usual = compare(facts(spec=GOOD_SPEC, duration=25.0), facts(1, "succeeded", 0, spec=GOOD_SPEC), 20.0, [], [])
    assert not [c for c in usual.changes if c.what == "duration"]


def test_a_run_that_predates_recorded_config_says_so():
    diff = compare(facts(spec=None), facts(1, "succeeded", 0, spec=GOOD_SPEC), None, [], [])
    assert not diff.config_known and [c.what for c in diff.changes] == ["exit code"]


def test_normalising_numbers_hex_times_and_uuids():
    assert normalise("2026-12-02T03:00:01.123Z took 12.3s for 5 rows") == normalise(
        "2026-12-03T03:00:04.999Z took 9.8s for 51 rows")
    assert normalise("request 5f1e0c2a-1b2c-4d5e-8f90-1234567890ab at 0x7ffd12") == "request <uuid> at <hex>"
    assert normalise("commit deadbeef1234 ok") == "commit <hex> ok"
    assert normalise("connection refused") != normalise("connection reset")


def test_new_lines_are_the_failed_runs_lines_the_good_run_never_wrote_first_ones_first():
    good = ["start 2026-12-01 03:00:00", "fetched 120 rows", "wrote 120 rows", "done in 4.1s"]
    failed = ["start 2026-12-02 03:00:00", "fetched 98 rows", "ERROR connection reset by peer",
              "retrying in 5s", "ERROR connection reset by peer", "done in 9.9s"]
    lines, more = new_lines(failed, good)
    assert lines == ["ERROR connection reset by peer", "retrying in 5s"] and more == 0


def test_new_lines_are_capped_and_counted():
    lines, more = new_lines([f"problem {chr(97 + n)}" for n in range(26)], [], limit=5)
    assert len(lines) == 5 and more == 21


def test_a_job_that_never_succeeded_is_compared_with_nothing():
    diff = compare(facts(spec=GOOD_SPEC), None, None, ["boom"], [])
    assert diff.good is None and diff.new_lines == [] and diff.changes[-1].line() == "exit code: 3" and diff.as_dict()["good_run"] is None


def test_the_summary_puts_what_changed_first_then_the_first_new_line():
    failed_spec = {**GOOD_SPEC, "command": "backup.sh --fast"}
    diff = compare(facts(spec=failed_spec), facts(1, "succeeded", 0, spec=GOOD_SPEC), None,
                   ["ERROR disk full"], ["ok"])
    assert diff.summary() == ["command: backup.sh → backup.sh --fast", "exit code: 0 → 3",
                              "new in the log: ERROR disk full"]


# --- wired to the store: readmodel.run_diff ------------------------------------------------------------
def test_diff_for_run_compares_with_the_last_good_run_before_it_from_the_store(tmp_path):
    from panda_tui.config import build_config
    from panda_tui.readmodel.run_diff import diff_for_run, summary_for_run
    from panda_tui.store.db import Database
    from panda_tui.store.ledger import Ledger, RunStatus
    from panda_tui.store.specs import job_spec

    def spec(timeout: str, mode: str):
        config = build_config({"jobs": {"j": {"schedule": "@daily", "command": "true", "timeout": timeout,
                                              "env": {"MODE": mode}}}}, "jobs.toml")
        return job_spec(config.jobs["j"])

    db = Database(str(tmp_path / "p.db"))
    book = Ledger(db)
    try:
        ids = []
        for n, (status, job_spec_, duration) in enumerate([
                (RunStatus.SUCCEEDED, None, 10), (RunStatus.SUCCEEDED, spec("10m", "a"), 12),
                (RunStatus.FAILED, spec("1m", "b"), 60)]):
            run = book.insert("j", 1000.0 * (n + 1), trigger="schedule", now=1000.0 * (n + 1), spec=job_spec_)
            book.start(run.id, run.scheduled_at)
            book.finish(run.id, status, run.scheduled_at + duration, exit_code=0 if status == "succeeded" else 2)
            ids.append(run.id)
        diff = diff_for_run(db.conn, ids[2])
        assert (diff.good.run_id, diff.config_known) == (ids[1], True)
        lines = [c.line() for c in diff.changes]
        assert lines == ["timeout: 10m → 1m", "env MODE: value changed", "exit code: 0 → 2",
                         "duration: median 11.0s → 60.0s (5.5× the median)"]
        old = diff_for_run(db.conn, ids[2], against=ids[0])  # a run from before specs were recorded
        assert old.config_known is False and [c.what for c in old.changes] == ["exit code", "duration"]
        assert summary_for_run(db.conn, ids[2], limit=2) == lines[:2]
        assert summary_for_run(db.conn, ids[0])[0] == "no successful run to compare with"
        assert diff_for_run(db.conn, 999) is None and summary_for_run(db.conn, 999) == []
    finally:
        db.close()


def test_a_slot_that_never_started_says_so_not_that_no_line_is_new(tmp_path):
    from panda_tui.readmodel.run_diff import describe, diff_for_run
    from panda_tui.store.db import Database
    from panda_tui.store.ledger import Ledger, RunStatus

    db = Database(str(tmp_path / "p.db"))
    book = Ledger(db)
    try:
        good = book.insert("j", 1000.0, trigger="schedule", now=1000.0)
        book.start(good.id, 1000.0)
        book.finish(good.id, RunStatus.SUCCEEDED, 1001.0, exit_code=0)
        missed = book.insert("j", 2000.0, trigger="schedule", now=2600.0, status=RunStatus.MISSED,
                             reason="scheduler down")
        lines = describe(diff_for_run(db.conn, missed.id))
        assert "it never started: it has no log" in lines and "no line in the log is new" not in lines
    finally:
        db.close()


def test_a_skipped_or_missed_run_has_no_exit_code_and_says_so_plainly():
    """Not `exit code: 0 → none (skipped)`, as if it had ended some other way than the good run."""
    good = facts(run_id=1, status="succeeded", exit_code=0)
    for status in ("skipped", "missed"):
        diff = compare(facts(status=status, exit_code=None, duration=None), good, 10.0, [], [])
        assert [c.line() for c in diff.changes if c.what == "exit code"] == [f"exit code: none, it was {status} "
                                                                               "and never ran"]
    ended = compare(facts(status="killed", exit_code=None), good, 10.0, [], [])
    assert [c.line() for c in ended.changes if c.what == "exit code"] == ["exit code: 0 → none (killed)"]
