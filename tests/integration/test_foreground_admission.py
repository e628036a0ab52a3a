"""`run` and `exec` go through the job's admission rule, with a real store and real local processes: a
`forbid` job's second run is recorded skipped and runs nothing (exit 75), so is a paused job's `exec`;
`run --force` bypasses the rule. And an `exec` whose command ends while a long writer holds the database
stops on SIGTERM, leaving its run for the next one to settle."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import run_cli
from tests.integration.helpers import ledger, wait_until
from tests.jobfiles import job, write_jobs

SKIPPED = 75


@pytest.fixture
def files(tmp_path):
    return write_jobs(tmp_path, job("backup", command="true", concurrency="forbid", timeout="5m"),
                      job("many", command="true", concurrency="allow", max_concurrent=2, timeout="5m"))


def start_exec(cfg: str, db: str, name: str, script: str) -> subprocess.Popen:
    """An exec in the background; returns once its command has printed "up"."""
    proc = subprocess.Popen([sys.executable, "-m", "panda_tui", "exec", name, "--config", cfg, "--db", db, "--",
                             "sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout.readline() == b"up\n"
    return proc


def exec_cli(cfg: str, db: str, name: str, *command: str):
    return run_cli("exec", name, "--config", cfg, "--db", db, "--", *command)


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)


def test_exec_of_a_forbid_job_whose_run_is_going_records_a_skip_and_runs_nothing(files, tmp_path):
    cfg, db = files
    marker = tmp_path / "ran"
    first = start_exec(cfg, db, "backup", "echo up; sleep 60")
    try:
        second = exec_cli(cfg, db, "backup", "touch", str(marker))
        assert second.returncode == SKIPPED, second.stderr
        assert not marker.exists()
        assert "skipped, COMMAND not run: overlap: run 1 still running" in second.stderr
        runs = ledger(db, "backup")
        assert [(r.status, r.reason) for r in runs] == [("running", None),
                                                         ("skipped", "overlap: run 1 still running")]
        assert runs[1].trigger == "external"
    finally:
        stop(first)
    again = exec_cli(cfg, db, "backup", "touch", str(marker))  # once it has ended, the next one runs
    assert again.returncode == 0, again.stderr
    assert marker.exists()


def test_exec_of_an_allow_job_runs_up_to_max_concurrent(files, tmp_path):
    cfg, db = files
    first = start_exec(cfg, db, "many", "echo up; sleep 60")
    second = start_exec(cfg, db, "many", "echo up; sleep 60")
    try:
        third = exec_cli(cfg, db, "many", "true")
        assert third.returncode == SKIPPED
        assert ledger(db, "many")[2].reason == "overlap: max_concurrent 2 reached (runs 1, 2)"
    finally:
        stop(first)
        stop(second)


def test_a_paused_jobs_exec_records_a_skip_and_runs_nothing(files, tmp_path):
    cfg, db = files
    from panda_tui.store import connect, state
    conn = connect(db)
    try:
        with conn:
            state.set_paused(conn, "backup", True, time.time())
    finally:
        conn.close()
    marker = tmp_path / "ran"
    done = exec_cli(cfg, db, "backup", "touch", str(marker))
    assert done.returncode == SKIPPED, done.stderr
    assert not marker.exists()
    [run] = ledger(db, "backup")
    assert (run.status, run.reason, run.started_at) == ("skipped", "paused", None)


def test_run_says_plainly_when_admission_refuses_and_force_runs_it(files, tmp_path):
    cfg, db = files
    first = start_exec(cfg, db, "backup", "echo up; sleep 60")
    try:
        refused = run_cli("run", "backup", "--config", cfg, "--db", db)
        assert refused.returncode == SKIPPED
        assert ("run 2: not started: overlap: run 1 still running; `panda-tui run backup --force` runs it anyway"
                in refused.stderr)
        forced = run_cli("run", "backup", "--force", "--config", cfg, "--db", db)
        assert forced.returncode == 0, forced.stderr
        assert [r.status for r in ledger(db, "backup")] == ["running", "skipped", "succeeded"]
    finally:
        stop(first)


def test_with_the_store_locked_when_the_command_ends_sigterm_ends_exec_and_the_next_exec_settles_the_run(
        files, tmp_path):
    cfg, db = files
    go = tmp_path / "go"
    proc = start_exec(cfg, db, "backup", f"echo up; while [ ! -e {go} ]; do sleep 0.05; done; exit 3")
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a long writer holds the database when the command ends
    try:
        go.touch()
        waiting = proc.stderr.readline()
        assert b"run 1 has ended; the store is busy: waiting up to 20 s" in waiting
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 3  # the command's own code, and no hang
        assert b"the store could not record its end (failed, exit 3)" in proc.stderr.read()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert ledger(db, "backup")[0].status == "running"  # left for whoever comes next
    after = exec_cli(cfg, db, "backup", "true")
    assert after.returncode == 0, after.stderr  # the dead exec's run no longer blocks the forbid job
    first, second = ledger(db, "backup")
    assert (first.status, first.exit_code, second.status) == ("failed", 3, "succeeded")


def test_after_a_kill_9_of_exec_with_no_scheduler_the_next_exec_waits_for_its_command_then_settles_it(
        files, tmp_path):
    cfg, db = files
    go = tmp_path / "go"
    dead = start_exec(cfg, db, "backup", f"echo up; while [ ! -e {go} ]; do sleep 0.05; done; echo bye; exit 4")
    dead.kill()  # the command goes on under its keeper
    dead.wait(60)
    second = exec_cli(cfg, db, "backup", "echo", "second")
    assert second.returncode == SKIPPED, second.stderr
    assert second.stderr == "panda-tui exec: run 2 skipped, COMMAND not run: overlap: run 1 still running\n"
    go.touch()
    wait_until(lambda: _keeper_left_a_code(db, 1), 60, what="the command's end")
    third = exec_cli(cfg, db, "backup", "echo", "third")
    assert (third.returncode, third.stdout) == (0, "third\n"), third.stderr
    first = ledger(db, "backup")[0]
    assert (first.status, first.exit_code) == ("failed", 4)


def _keeper_left_a_code(db: str, run_id: int) -> bool:
    from panda_tui.runners import keeper
    return keeper.left_behind(keeper.run_dir(keeper.runs_dir(db), run_id))[0] is not None
