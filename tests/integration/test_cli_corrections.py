"""The command line, corrected: what each command says and the code it exits with, as a script relies on."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from panda_tui.store import connect, state
from tests.conftest import run_cli
from tests.integration.helpers import Daemon, ledger, wait_until
from tests.jobfiles import job, write_jobs


@pytest.fixture
def daemon(tmp_path):
    cfg, db = write_jobs(tmp_path, job("ok"), job("bad", command="echo going; exit 3"),
                         job("far", "0 0 29 2 *"), job("tick", "@every 1s"))
    d = Daemon(cfg, db)
    wait_until(lambda: "lease_acquired" in d.output(), 20)
    yield d
    d.stop()


def cli(d: Daemon, *args: str):
    return run_cli(*args, "--config", d.cfg, "--db", d.db)


def test_init_makes_the_folders_it_needs(tmp_path):
    target = tmp_path / "etc" / "panda-tui" / "jobs.toml"
    result = run_cli("init", str(target))
    assert result.returncode == 0 and target.exists()
    assert run_cli("validate", "--config", str(target)).returncode == 0


@pytest.mark.parametrize("existing", [True, False], ids=["existing-folder", "new-folder/"])
def test_init_of_a_folder_writes_jobs_toml_in_it(tmp_path, existing):
    folder = tmp_path / "conf"
    if existing:
        folder.mkdir()
    result = run_cli("init", str(folder) + ("" if existing else "/"))
    assert result.returncode == 0, result.stderr
    assert (folder / "jobs.toml").is_file() and f"wrote {folder / 'jobs.toml'}" in result.stdout


def test_trigger_at_a_future_instant_schedules_the_run_for_then(daemon):
    at = time.time() + 10  # far enough that the CLI's own start on a loaded machine does not reach it
    stamp = datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="seconds")
    answer = cli(daemon, "trigger", "ok", "--at", stamp)
    assert answer.returncode == 0 and answer.stdout.startswith("run ") and "scheduled for" in answer.stdout
    (run,) = ledger(daemon.db, "ok")
    assert run.status == "queued" and run.trigger == "manual"
    wait_until(lambda: ledger(daemon.db, "ok")[0].status == "succeeded", 60, what="the run at its time")
    run = ledger(daemon.db, "ok")[0]
    assert run.started_at >= int(at) - 0.01 and run.lateness >= 0, run  # at its time, never before


def test_trigger_at_a_past_instant_runs_now_as_if_scheduled_then(daemon):
    answer = cli(daemon, "trigger", "ok", "--at", "2026-01-01T03:00:00Z")
    assert answer.returncode == 0 and answer.stdout.strip().endswith("started")
    assert ledger(daemon.db, "ok")[0].scheduled_at == datetime(2026, 1, 1, 3, tzinfo=timezone.utc).timestamp()


def test_logs_refuse_a_run_of_another_job_and_follow_exits_with_the_outcome(daemon):
    assert cli(daemon, "trigger", "bad").returncode == 0
    followed = cli(daemon, "logs", "bad", "--follow")
    run_id = ledger(daemon.db, "bad")[0].id
    assert followed.returncode == 3 and "going" in followed.stdout
    assert f"run {run_id}: failed (exit 3)" in followed.stderr
    other = cli(daemon, "logs", "ok", "--run", str(run_id))
    assert other.returncode == 2 and other.stderr.strip() == f'error: run {run_id} is a run of "bad", not of "ok"'


def test_executions_of_a_job_nobody_knows_exits_2_with_a_suggestion(daemon):
    typo = cli(daemon, "executions", "tik")
    assert typo.returncode == 2 and 'no job named "tik" (did you mean "tick"?)' in typo.stderr
    assert cli(daemon, "executions", "ok").returncode == 0


def test_status_exit_codes_holder_and_columns(daemon, tmp_path):
    wait_until(lambda: ledger(daemon.db, "tick"), 10)
    healthy = cli(daemon, "status")
    assert healthy.returncode == 0, healthy.stdout
    lines = healthy.stdout.splitlines()
    assert lines[0].startswith("scheduler: ") and ", pid " in lines[0] and ", since 20" in lines[0]
    rows = [line for line in lines if line.split()[:1] and line.split()[0] in ("✓", "·", "▶")]
    positions = {line.index(" in ") if " in " in line else None for line in rows} - {None}
    assert len(positions) == 1, rows  # "in 2y" and "in <1m" start in the same column
    assert cli(daemon, "trigger", "bad").returncode == 0
    wait_until(lambda: ledger(daemon.db, "bad") and ledger(daemon.db, "bad")[0].status == "failed", 10)
    assert cli(daemon, "status").returncode == 1
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    unreadable = run_cli("status", "--config", daemon.cfg, "--db", str(junk))
    assert unreadable.returncode == 2 and "Traceback" not in unreadable.stderr
    idle = str(tmp_path / "idle.db")
    connect(idle).close()  # a store no scheduler holds
    stopped = run_cli("status", "--config", daemon.cfg, "--db", idle)
    assert stopped.returncode == 1 and "scheduler: NOT RUNNING" in stopped.stdout
    assert " in " not in stopped.stdout and " stopped " in stopped.stdout  # no time that nothing keeps
    conn = connect(idle)
    state.put_meta(conn, "engines", {"local": {"up": True}}, time.time())  # what the last scheduler saw
    conn.close()
    assert "docker local: up (stale: no scheduler is checking it)" in run_cli(
        "status", "--config", daemon.cfg, "--db", idle).stdout


def test_status_reads_the_running_config_when_jobs_toml_is_broken(daemon):
    Path(daemon.cfg).write_text(Path(daemon.cfg).read_text().replace('"@daily"', '"@fortnightly"', 1))
    wait_until(lambda: '"reload_failed"' in daemon.output(), 10)
    shown = cli(daemon, "status")
    assert shown.returncode in (0, 1) and "jobs.toml refused: " in shown.stdout and " tick " in shown.stdout
    document = json.loads(cli(daemon, "status", "--json").stdout)
    assert {j["job"] for j in document["jobs"]} == {"ok", "bad", "far", "tick"}
    assert "unknown alias '@fortnightly'" in document["jobs_toml_refused"][0]


def test_validate_refuses_a_step_larger_than_its_range(tmp_path):
    cfg, _ = write_jobs(tmp_path, job("a", "*/70 * * * *"))
    result = run_cli("validate", "--config", cfg)
    assert result.returncode == 2 and result.stderr.strip() == (
        "jobs.toml: job \"a\": schedule: minute: step 70 is larger than the range 0-59 it steps over, so it "
        "would fire only at 0 in '*/70 * * * *'")


@pytest.mark.docker
def test_validate_warns_about_an_image_that_is_not_there_and_may_not_be_pulled(tmp_path, busybox_image):
    cfg, _ = write_jobs(tmp_path, job("here", image=busybox_image, pull="never"),
                        job("gone", image="panda-test-no-such:1", pull="never"))
    result = run_cli("validate", "--config", cfg)
    assert result.returncode == 0
    assert ("warning: job \"gone\": image: 'panda-test-no-such:1' is not on the local engine and pull = \"never\""
            in result.stderr) and '"here"' not in result.stderr


def test_export_warns_about_every_field_it_drops(tmp_path):
    cfg, _ = write_jobs(tmp_path, job("c", image="x", network_mode="none", pull="never", alerts=[], jitter="5s"),
                        job("e", "@every 30s", image="x"))
    result = run_cli("export", "kubernetes", "--config", cfg, "--db", str(tmp_path / "p.db"))
    assert result.returncode == 0
    for words in ("network_mode = 'none' has no CronJob equivalent", "pull = 'never' has no CronJob equivalent",
                  "jitter = '5s' has no CronJob equivalent", "'@every 30s' has no CronJob equivalent"):
        assert words in result.stderr, result.stderr


def test_a_failing_foreground_run_leaves_no_retry_behind(tmp_path):
    cfg, db = write_jobs(tmp_path, job("f", command="exit 5", retries=2, retry_delay="1s"))
    assert run_cli("run", "f", "--config", cfg, "--db", db).returncode == 5
    assert [(r.status, r.attempt) for r in ledger(db, "f")] == [("failed", 1)]


def test_follow_says_how_the_run_ended_and_which_code_that_makes(tmp_path):
    """New-user test: `logs --follow` of a run that ended exited 124, read as the follow itself timing out. It
    is the run's outcome (it timed out), as README and `--help` now spell out, and the last line says so."""
    cfg, db = write_jobs(tmp_path, job("slow", command="echo starting; sleep 30", timeout="1s", kill_grace="1s"))
    d = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in d.output(), 20)
        assert cli(d, "trigger", "slow").returncode == 0
        followed = cli(d, "logs", "slow", "--follow")
    finally:
        d.stop()
    run_id = ledger(db, "slow")[0].id
    assert followed.returncode == 124 and "starting" in followed.stdout
    assert followed.stderr.splitlines()[-1].startswith(f"# run {run_id}: timeout (")
    assert followed.stderr.splitlines()[-1].endswith("; panda-tui exits 124")
    assert "124 when it timed out" in " ".join(run_cli("logs", "--help").stdout.split())
