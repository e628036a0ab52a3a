"""`panda-tui exec JOB -- COMMAND` with real processes: what cron sees (output, exit code, stdin) is what it
saw before, and the run is recorded as JOB's, with or without a scheduler, through a scheduler restart,
a kill -9 of exec itself, a kill request, and a signal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import run_cli
from tests.integration.helpers import Daemon, ledger, wait_until
from tests.integration.http_server import Recorder
from tests.jobfiles import job, write_jobs
from tests.procs import spawn

SECRET = "s3cret-token-value"


def exec_cli(cfg: str, db: str, name: str, *command: str, input: str | None = None, env: dict | None = None):
    return run_cli("exec", name, "--config", cfg, "--db", db, "--", *command, input=input,
                   env={"TOKEN": SECRET, **(env or {})})


def start_exec(cfg: str, db: str, name: str, script: str) -> subprocess.Popen:
    """An exec in the background; returns once its command has printed its first line ("up")."""
    proc = spawn([sys.executable, "-m", "panda_tui", "exec", name, "--config", cfg, "--db", db, "--",
                  "sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                 env={**os.environ, "PYTHONUNBUFFERED": "1", "TOKEN": SECRET})
    assert proc.stdout.readline() == b"up\n"
    return proc


def heartbeat(db: str) -> list[float]:
    """The lease's last heartbeat (set when taken, renewed every 2 s by the scheduler's loop)."""
    from panda_tui.store import connect
    conn = connect(db)
    try:
        return [beat for (beat,) in conn.execute("SELECT heartbeat_at FROM lease")]
    finally:
        conn.close()


def stored(db: str, run_id: int) -> list[tuple[str, str]]:
    from panda_tui.store import connect, logs
    conn = connect(db)
    try:
        return [(line.stream, line.text) for line in logs.read(conn, run_id, 0, 100_000)]
    finally:
        conn.close()


@pytest.fixture
def files(tmp_path):
    return write_jobs(tmp_path, "[defaults]\ntimeout = \"1s\"\n",
                      job("backup", command="false", secrets=["TOKEN"], env={"WHERE": "panda"}, timeout="30s"))


def test_output_stdin_and_exit_code_pass_through_and_the_run_is_recorded_masked(files):
    cfg, db = files
    done = exec_cli(cfg, db, "backup", "sh", "-c",
                    'printf "out $WHERE $TOKEN\\nno newline"; printf "err\\n" >&2; cat; exit 7',
                    input="from cron\n%line two")
    assert done.returncode == 7, done.stderr
    assert done.stdout == f"out panda {SECRET}\nno newlinefrom cron\n%line two"  # raw, byte for byte
    assert done.stderr == "err\n"  # nothing of panda-tui's own for an ordinary exit
    [run] = ledger(db, "backup")
    assert (run.status, run.exit_code, run.trigger, run.owner) == ("failed", 7, "external", run.owner)
    assert run.duration_s is not None and run.duration_s < 10
    lines = stored(db, run.id)
    assert ("out", "out panda ***") in lines and ("err", "err") in lines and ("out", "%line two") in lines
    assert not any(SECRET in text for _, text in lines)
    history = json.loads(run_cli("executions", "backup", "--db", db, "--json").stdout)
    assert history[0]["trigger"] == "external" and history[0]["exit_code"] == 7


def test_a_job_not_in_jobs_toml_gets_the_defaults(files):
    cfg, db = files
    done = exec_cli(cfg, db, "adhoc", "sh", "-c", "echo $PANDA_JOB $PANDA_TRIGGER; sleep 5")
    assert done.returncode == 124, done.stderr  # [defaults] timeout = 1s, as timeout(1) says it
    assert done.stdout == "adhoc external\n" and "timed out after 1s" in done.stderr
    [run] = ledger(db, "adhoc")
    assert (run.status, run.trigger) == ("timed_out", "external")


def test_a_missing_command_fails_as_a_shell_would_and_says_why(files):
    cfg, db = files
    done = exec_cli(cfg, db, "backup", "/no/such/program", "arg")
    assert done.returncode == 127 and "not found" in done.stderr
    assert ledger(db, "backup")[0].status == "failed"


def test_when_panda_cannot_record_the_command_still_runs(tmp_path):
    cfg = tmp_path / "jobs.toml"
    cfg.write_text("[jobs.broken\n")
    done = run_cli("exec", "backup", "--config", str(cfg), "--db", str(tmp_path / "p.db"), "--",
                   "sh", "-c", "echo ran; exit 3")
    assert (done.returncode, done.stdout) == (3, "ran\n")
    assert "TOML syntax error" in done.stderr and "running the command without recording it" in done.stderr


@pytest.mark.parametrize("where", ["group-option", "environment", "working-directory"])
def test_the_jobs_file_is_found_as_for_every_other_command(files, tmp_path, where):
    """`panda-tui --config F exec`, PANDA_CONFIG=F (the crontab form the README shows), or ./jobs.toml."""
    cfg, db = files
    args = ["exec", "backup", "--db", db, "--", "sh", "-c", "echo $WHERE"]
    env = {"TOKEN": SECRET, **({"PANDA_CONFIG": cfg} if where == "environment" else {})}
    if where == "group-option":
        args = ["--config", cfg, *args]
    done = run_cli(*args, env=env, cwd=os.path.dirname(cfg) if where == "working-directory" else str(tmp_path))
    assert (done.returncode, done.stdout) == (0, "panda\n"), done.stderr  # backup's own env reached it
    assert ledger(db, "backup")[0].status == "succeeded"


def test_with_no_jobs_file_anywhere_the_command_runs_with_the_defaults(tmp_path):
    db = str(tmp_path / "p.db")
    done = run_cli("exec", "adhoc", "--db", db, "--", "sh", "-c", "echo ran", cwd=str(tmp_path))
    assert (done.returncode, done.stdout, done.stderr) == (0, "ran\n", "")
    assert ledger(db, "adhoc")[0].status == "succeeded"


def test_ctrl_c_exits_130_as_a_shell_reports_it(files):
    cfg, db = files
    proc = start_exec(cfg, db, "backup", "echo up; sleep 60")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 130
    assert (ledger(db, "backup")[0].status, ledger(db, "backup")[0].reason) == ("killed", "interrupted (SIGINT)")


@pytest.mark.parametrize("with_daemon", [False, True], ids=["no-scheduler", "scheduler-running"])
def test_sigterm_stops_the_command_and_records_killed(files, with_daemon):
    cfg, db = files
    daemon = Daemon(cfg, db) if with_daemon else None
    try:
        if daemon:
            wait_until(lambda: "lease_acquired" in daemon.output(), 20, what="daemon start")
        proc = start_exec(cfg, db, "backup", "echo up; sleep 60")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 143
        assert b"stopped by SIGTERM" in proc.stderr.read()
    finally:
        if daemon:
            assert daemon.stop() == 0
    [run] = ledger(db, "backup")
    assert (run.status, run.reason, run.exit_code) == ("killed", "stopped by SIGTERM", 143)
    if daemon:
        assert '"adopted"' not in daemon.output()


def test_a_scheduler_that_starts_or_restarts_meanwhile_leaves_the_run_to_exec(files, tmp_path):
    cfg, db = files
    go = tmp_path / "go"
    proc = start_exec(cfg, db, "backup", f"echo up; while [ ! -e {go} ]; do sleep 0.05; done; seq 1 3000; exit 3")
    first = Daemon(cfg, db)  # starts while exec runs: reconcile sees a running run
    try:
        wait_until(lambda: "lease_acquired" in first.output(), 20, what="daemon start")
    finally:
        first.kill9()  # and dies, as after a crash
    second = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in second.output(), 20, what="second daemon")
        # the orphan sweep runs in the loop's first pass (and every 5 s): a heartbeat renewed in a later pass
        # means it had its look at the live owner
        beats = set()
        wait_until(lambda: beats.update(heartbeat(db)) or len(beats) >= 3, 30, what="two passes of the loop")
        assert ledger(db, "backup")[0].status == "running"
        go.touch()
        out, err = proc.communicate(timeout=30)
    finally:
        assert second.stop() == 0
    assert proc.returncode == 3
    assert out.decode().split("\n")[:-1] == [str(i) for i in range(1, 3001)]  # "up" was read already
    [run] = ledger(db, "backup")
    assert (run.status, run.exit_code) == ("failed", 3)
    assert [t for s, t in stored(db, run.id) if s == "out"] == ["up"] + [str(i) for i in range(1, 3001)]
    for daemon in (first, second):
        assert '"adopted"' not in daemon.output() and '"lost"' not in daemon.output()


def test_after_a_kill_9_of_exec_the_running_scheduler_adopts_its_command(files, tmp_path):
    cfg, db = files
    go = tmp_path / "go"
    daemon = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in daemon.output(), 20, what="daemon start")
        proc = start_exec(cfg, db, "backup", f"echo up; while [ ! -e {go} ]; do sleep 0.05; done; echo done; exit 4")
        run_id = ledger(db, "backup")[0].id
        wait_until(lambda: ("out", "up") in stored(db, run_id), 10, what="the first line stored")
        proc.kill()
        proc.wait(10)
        wait_until(lambda: '"adopted"' in daemon.output(), 20, what="the command adopted")
        go.touch()
        wait_until(lambda: ledger(db, "backup")[0].status != "running", 20, what="run settled")
    finally:
        assert daemon.stop() == 0
    [run] = ledger(db, "backup")
    assert (run.status, run.exit_code, run.owner) == ("failed", 4, None)
    assert [t for s, t in stored(db, run.id) if s == "out"] == ["up", "done"]
    assert any("took this run over" in t for s, t in stored(db, run.id) if s == "sys")


def test_a_kill_request_reaches_the_exec_process(files):
    cfg, db = files
    daemon = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in daemon.output(), 20, what="daemon start")
        proc = start_exec(cfg, db, "backup", "echo up; sleep 60")
        run_id = ledger(db, "backup")[0].id
        answer = run_cli("kill", str(run_id), "--config", cfg, "--db", db)
        assert answer.returncode == 0 and f"asked process {proc.pid} to stop run {run_id}" in answer.stdout
        assert proc.wait(30) == 143
    finally:
        assert daemon.stop() == 0
    [run] = ledger(db, "backup")
    assert (run.status, run.reason) == ("killed", "killed on request (from a console or panda-tui kill)")


def test_with_no_scheduler_exec_sends_its_own_heartbeat_pings(tmp_path):
    server = Recorder()
    try:
        cfg, db = write_jobs(tmp_path, job("backup", command="false", heartbeat=f"{server.url}/ping/abc"))
        done = run_cli("exec", "backup", "--config", cfg, "--db", db, "--", "true")
        assert done.returncode == 0, done.stderr
        run_id = ledger(db, "backup")[0].id
        paths = [(r["path"], r["query"].get("rid")) for r in server.requests]
        assert paths == [("/ping/abc/start", [str(run_id)]), ("/ping/abc", [str(run_id)])]
    finally:
        server.close()


def test_cron_side_by_side_runs_show_in_status_declared_disabled_or_not_at_all(tmp_path):
    """The README's side by side: jobs imported disabled (cron still runs them through exec), and jobs
    exec runs that jobs.toml never names. Their failures count, and they are listed."""
    cfg, db = write_jobs(tmp_path, job("report", command="false", enabled=False))
    assert exec_cli(cfg, db, "report", "sh", "-c", "exit 3").returncode == 3
    proc = start_exec(cfg, db, "adhoc", "echo up; sleep 60")
    try:
        running = json.loads(run_cli("status", "--json", "--config", cfg, "--db", db).stdout)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    states = {j["job"]: (j["state"], j["enabled"], j["in_jobs_toml"]) for j in running["jobs"]}
    assert states == {"report": ("failing", False, True), "adhoc": ("running", False, False)}
    done = run_cli("status", "--config", cfg, "--db", db)
    assert done.returncode == 1
    rows = {line.split()[2]: line.split() for line in done.stdout.splitlines()[1:] if len(line.split()) > 3}
    assert rows["report"][1:4] == ["failing", "report", "off"]
    assert rows["adhoc"][1] == "external"  # only exec runs it; Ctrl-C killed it: a person's act, no verdict


@pytest.mark.parametrize("name", ["a b", "../etc", "x/../y", "\x1b[31mred\x1b[0m", "x" * 65, "-flag", ".hidden",
                                  "tab\there", "new\nline", "ünï"])
def test_exec_refuses_a_job_name_jobs_toml_would_refuse_and_records_nothing(tmp_path, name):
    cfg, db = write_jobs(tmp_path, job("known"))
    marker = tmp_path / "ran"
    out = exec_cli(cfg, db, name, "touch", str(marker))
    assert out.returncode == 2, out
    assert out.stderr.count("\n") == 1 and "expected 1-64 letters, digits, '-', '_' or '.'" in out.stderr
    assert "\x1b" not in out.stderr
    assert not marker.exists()  # a name that can never be recorded is a typo in the crontab line: say it
    assert not os.path.exists(db) or ledger(db, name) == []
    assert exec_cli(cfg, db, "known.ok-1_x", "true").returncode == 0  # what jobs.toml takes, exec takes
