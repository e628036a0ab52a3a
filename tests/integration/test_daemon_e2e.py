"""A real daemon process, steered and read through the real CLI."""

from __future__ import annotations

import json
import signal
import textwrap
import time

import pytest

from tests.conftest import run_cli
from tests.integration.helpers import Daemon, ledger, wait_until

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
    cfg = tmp_path / "jobs.toml"
    cfg.write_text(textwrap.dedent(JOBS))
    db = str(tmp_path / "panda.db")
    d = Daemon(str(cfg), db)
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
    time.sleep(2.5)
    assert ledger(daemon.db, "tick")[-1].status == "skipped" and ledger(daemon.db, "tick")[-1].reason == "paused"
    assert cli(daemon, "resume", "tick").stdout.strip() == "tick resumed"

    unknown = cli(daemon, "trigger", "nope")
    assert unknown.returncode == 1 and 'no job named "nope"' in unknown.stderr
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
    time.sleep(2.2)
    assert len(ledger(daemon.db, "tick")) >= before + 2  # the last good config keeps firing
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
    assert all(r.status not in ("running", "queued") for r in ledger(daemon.db))


def test_without_a_scheduler_the_cli_says_so(tmp_path):
    cfg = tmp_path / "jobs.toml"
    cfg.write_text(textwrap.dedent(JOBS))
    result = run_cli("trigger", "tick", "--config", str(cfg), "--db", str(tmp_path / "x.db"))
    assert result.returncode == 1
    assert "no scheduler is running" in result.stderr and "panda-tui run tick" in result.stderr


def test_run_in_the_foreground_streams_and_exits_with_the_job_code(tmp_path):
    cfg = tmp_path / "jobs.toml"
    cfg.write_text('[jobs.x]\nschedule = "@daily"\ncommand = "echo hello; echo oops >&2; exit 4"\n')
    result = run_cli("run", "x", "--config", str(cfg), "--db", str(tmp_path / "p.db"))
    assert result.returncode == 4
    assert result.stdout == "hello\n"
    assert result.stderr.startswith("oops\n[panda] failed: exit 4\n") and "run 1: failed (exit 4)" in result.stderr
    logs = run_cli("logs", "x", "--config", str(cfg), "--db", str(tmp_path / "p.db"))
    assert logs.stdout.splitlines() == ["  hello", "! oops", "# [panda] failed: exit 4"]
