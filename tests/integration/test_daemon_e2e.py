"""A real daemon process, steered and read through the real CLI."""

from __future__ import annotations

import json
import signal

import pytest

from panda_tui.store import connect
from panda_tui.store import ledger as store_ledger
from tests.conftest import run_cli
from tests.integration.helpers import Daemon, ledger, wait_until
from tests.jobfiles import QUICK_STOP, job, write_jobs

JOBS = """
[jobs.tick]
schedule = "@every 1s"
command = "echo tick $PANDA_SCHEDULED_AT"

[jobs.sleeper]
schedule = "@daily"
command = "echo sleeping; sleep 30"
kill_grace = "1s"
"""


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(*write_jobs(tmp_path, JOBS, QUICK_STOP))
    wait_until(lambda: "lease_acquired" in d.output(), 20, what="daemon start")
    yield d
    d.stop()


def cli(d: Daemon, *args: str):
    return run_cli(*args, "--config", d.cfg, "--db", d.db)


def test_every_second_job_records_one_run_per_second_with_lateness(daemon):
    wait_until(lambda: len(ledger(daemon.db, "tick")) >= 5, 15, what="five runs")
    result = cli(daemon, "executions", "tick", "--json", "--limit", "5")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {"id", "job", "scheduled_at", "started_at", "finished_at", "duration_s", "status", "exit_code",
            "attempt", "trigger", "reason", "lateness_s"} <= set(rows[0])
    slots = [r["scheduled_at"] for r in rows]
    assert len(set(slots)) == 5
    ledger_rows = [r for r in ledger(daemon.db, "tick") if r.status == "succeeded"]
    gaps = {round(b.scheduled_at - a.scheduled_at) for a, b in zip(ledger_rows, ledger_rows[1:])}
    assert gaps == {1}
    assert all(0 <= r["lateness_s"] < 0.5 for r in rows if r["lateness_s"] is not None)
    events = [json.loads(line) for line in daemon.output().splitlines() if line.startswith("{")]
    assert {"lease_acquired", "scheduled", "started", "finished"} <= {e["event"] for e in events}


def test_control_requests_through_the_cli(daemon):
    out = cli(daemon, "trigger", "sleeper")
    assert out.returncode == 0 and out.stdout.strip().endswith("started"), out
    wait_until(lambda: ledger(daemon.db, "sleeper") and ledger(daemon.db, "sleeper")[-1].status == "running", 10)
    assert "skipped: overlap" in cli(daemon, "trigger", "sleeper").stdout
    killed = cli(daemon, "kill", "sleeper")
    assert killed.returncode == 0 and "killing run" in killed.stdout
    wait_until(lambda: ledger(daemon.db, "sleeper")[0].status == "killed", 10, what="killed")

    assert "paused" in cli(daemon, "pause", "tick").stdout
    wait_until(lambda: (ledger(daemon.db, "tick")[-1].status, ledger(daemon.db, "tick")[-1].reason)
               == ("skipped", "paused"), 10, what="a slot skipped while paused")
    assert cli(daemon, "resume", "tick").stdout.strip() == "tick resumed"

    unknown = cli(daemon, "trigger", "nope")  # a typo: exit 2, as for every bad input
    assert unknown.returncode == 2 and 'no job named "nope"' in unknown.stderr
    assert cli(daemon, "kill", "99999").stderr.strip() == "error: no run 99999"


def test_reload_refuses_a_broken_file_and_keeps_running(daemon):
    good = open(daemon.cfg).read()
    with open(daemon.cfg, "w") as fh:
        fh.write(good.replace('"@every 1s"', '"@every nonsense"'))
    bad = cli(daemon, "reload")
    assert bad.returncode == 2 and "schedule" in bad.stderr
    daemon.proc.send_signal(signal.SIGHUP)  # the daemon itself must also refuse it
    wait_until(lambda: "reload_failed" in daemon.output(), 10, what="reload refused")
    before = len(ledger(daemon.db, "tick"))
    wait_until(lambda: len(ledger(daemon.db, "tick")) >= before + 2, 10, what="the last good config firing")
    with open(daemon.cfg, "w") as fh:
        fh.write(good + '\n[jobs.extra]\nschedule = "@daily"\ncommand = "true"\n')
    ok = cli(daemon, "reload")
    assert ok.returncode == 0 and ok.stdout.strip() == "reloaded: 3 jobs"


def test_second_daemon_refuses_and_sigterm_stops_cleanly(daemon):
    second = Daemon(daemon.cfg, daemon.db)
    assert second.proc.wait(20) == 1
    assert "another scheduler holds this database" in second.output()
    assert daemon.stop() == 0
    assert "stopped" in daemon.output().splitlines()[-1]
    conn = connect(daemon.db)
    assert store_ledger.active(conn) == []  # nothing left queued or running
    conn.close()


def test_without_a_scheduler_the_cli_says_so(tmp_path):
    cfg, _ = write_jobs(tmp_path, JOBS)
    result = run_cli("trigger", "tick", "--config", cfg, "--db", str(tmp_path / "x.db"))
    assert result.returncode == 1
    assert "no scheduler is running" in result.stderr and "panda-tui run tick" in result.stderr
    assert "panda-tui --embed" in result.stderr  # a plain console attaches where a daemon ran: it needs S


def test_run_in_the_foreground_streams_and_exits_with_the_job_code(tmp_path):
    cfg, db = write_jobs(tmp_path, job("x", command="echo hello; echo oops >&2; exit 4"))
    result = run_cli("run", "x", "--config", cfg, "--db", db)
    assert result.returncode == 4
    assert result.stdout == "hello\n"
    assert result.stderr.startswith("oops\n[panda] failed: exit 4\n") and "run 1: failed (exit 4)" in result.stderr
    logs = run_cli("logs", "x", "--config", cfg, "--db", db)
    assert logs.stdout.splitlines() == ["  hello", "! oops", "# [panda] failed: exit 4"]
    assert logs.stderr.startswith("# run 1 of x · failed · started 20")  # which run, on stderr: pipes stay clean


def test_a_stopping_daemon_gives_runs_the_stop_grace_of_its_config_then_stops_them(tmp_path):
    """[scheduler] stop_grace (10 s unless set): a run still going when it has passed is stopped, recorded
    killed; a run that ends within it is left to end."""
    cfg, db = write_jobs(tmp_path, '[scheduler]\nstop_grace = "2s"\n',
                         job("long", command="echo up; sleep 60", kill_grace="1s"),
                         job("short", command="echo up; sleep 1; echo done"))
    d = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in d.output(), 20, what="daemon start")
        for name in ("long", "short"):
            assert run_cli("trigger", name, "--config", cfg, "--db", db).returncode == 0
        wait_until(lambda: all(ledger(db, n) and ledger(db, n)[0].status == "running" for n in ("long", "short")),
                   20, what="both running")
    finally:
        assert d.stop() == 0
    stopping = [json.loads(line) for line in d.output().splitlines() if '"event": "stopping"' in line]
    assert [(e["waiting"], e["grace_s"]) for e in stopping] == [(2, 2.0)]
    long_run, short_run = ledger(db, "long")[0], ledger(db, "short")[0]
    assert (long_run.status, long_run.reason) == ("killed", "scheduler stopped")
    assert short_run.status == "succeeded"
