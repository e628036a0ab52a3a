"""Leftovers of the 3 AM answer on the command line: `logs` headers in one time format with a zone (a run
that never started says so), one lateness (from when the run was due: seconds in the decision log
and the API, `250ms` in `executions` as in the console), and the daemon's plain start-up line in a terminal."""

from __future__ import annotations

import io
import json
import os
import pty
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from panda_tui.engine.events import DecisionLog, EventLog
from panda_tui.store.ledger import RunStatus, Trigger
from tests.conftest import ledger_on, run_cli
from tests.jobfiles import job, write_jobs

SLOT = 1_796_000_000.0  # 2026-11-30T00:53:20Z


def test_logs_headers_use_one_time_format_and_a_run_that_never_started_says_so(tmp_path):
    cfg, db = write_jobs(tmp_path, job("backup"))
    with ledger_on(db) as book:
        ran = book.insert("backup", SLOT, trigger="schedule", now=SLOT)
        book.start(ran.id, SLOT + 2)
        book.finish(ran.id, RunStatus.FAILED, SLOT + 5, exit_code=1, reason="exit 1")
        missed = book.insert("backup", SLOT + 3600, trigger="schedule", now=SLOT + 4000, status=RunStatus.MISSED,
                             reason="scheduler down from 01:50 to 02:00")
    out = run_cli("logs", "backup", "--run", str(ran.id), "--config", cfg, "--db", db)
    assert out.stderr.splitlines()[0] == f"# run {ran.id} of backup · failed · started 2026-11-30T00:53:22Z"
    out = run_cli("logs", "backup", "--run", str(missed.id), "--config", cfg, "--db", db)
    assert out.stderr.splitlines()[0] == (f"# run {missed.id} of backup · missed · due 2026-11-30T01:53:20Z · "
                                          "never started: scheduler down from 01:50 to 02:00")
    assert "started 2" not in out.stderr
    # new-user test: stdout was empty, exit 0; the reason was only in the header on stderr
    assert out.returncode == 0 and out.stdout == "(no output: missed, scheduler down from 01:50 to 02:00)\n"
    with ledger_on(db) as book:
        quiet = book.insert("backup", SLOT + 7200, trigger="schedule", now=SLOT + 7200)
        book.start(quiet.id, SLOT + 7201)
        book.finish(quiet.id, RunStatus.SUCCEEDED, SLOT + 7202, exit_code=0)
    out = run_cli("logs", "backup", "--run", str(quiet.id), "--config", cfg, "--db", db)
    assert out.returncode == 0 and out.stdout == "(no output: the run wrote nothing)\n"


def test_a_retry_s_lateness_is_one_number_in_seconds_from_when_it_was_due(tmp_path):
    cfg, db = write_jobs(tmp_path, job("backup", retries=1))
    lines = io.StringIO()
    with ledger_on(db) as book:
        book.subscribe(DecisionLog(EventLog(lines)).on_change)
        first = book.insert("backup", SLOT, trigger="schedule", now=SLOT)
        book.start(first.id, SLOT)
        book.finish(first.id, RunStatus.FAILED, SLOT + 1, exit_code=1)
        retry = book.insert("backup", SLOT, trigger=Trigger.RETRY, now=SLOT + 1, attempt=2, not_before=SLOT + 13)
        book.start(retry.id, SLOT + 13.25)  # 12 s of backoff after the first attempt: due then, 0.25 s late
    started = [json.loads(x) for x in lines.getvalue().splitlines() if '"started"' in x]
    assert [e["lateness_s"] for e in started] == [0.0, 0.25]  # not 13.25: a retry is due after its backoff
    table = run_cli("executions", "backup", "--config", cfg, "--db", db, env={"TZ": "UTC"}).stdout.splitlines()
    assert table[1].split()[1:5] == ["Nov", "30", "00:53", "250ms"] and table[2].split()[4] == "0ms", table
    runs = json.loads(run_cli("executions", "backup", "--json", "--config", cfg, "--db", db).stdout)
    assert [r["lateness_s"] for r in runs] == [0.25, 0.0]


IN_80_COLUMNS = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "80"}


def unwrapped(rows: list[str], width: int = 80) -> list[str]:
    """Lines wrapped between words to `width` (cli.common.say: continuations indented), joined back; each row
    fits and ends and begins on a whole word."""
    lines: list[str] = []
    for row in rows:
        assert len(row) <= width, row
        if row.startswith("    ") and lines:
            lines[-1] += " " + row.strip()
        else:
            lines.append(row)
    return lines


def second_daemon_in_a_terminal(cfg: str, db: str) -> list[str]:
    """What a daemon refused by the lease prints on its terminal (80 columns), line by line."""
    main, side = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "panda_tui", "daemon", "--config", cfg, "--db", db],
                            stdout=subprocess.PIPE, stderr=side, env=IN_80_COLUMNS)
    os.close(side)
    assert proc.wait(60) == 1
    with io.FileIO(main, "rb") as tty:
        return tty.read(65536).decode().replace("\r", "").splitlines()


@pytest.fixture
def short_path():
    """A folder whose paths fit an 80-column row whole: pytest's own, longer than a row on a busy worker, wrap
    inside themselves, as any word longer than the row does."""
    with tempfile.TemporaryDirectory(prefix="p", dir="/tmp") as folder:
        yield Path(folder)


def test_the_daemon_in_a_terminal_prints_one_plain_line_before_its_json(short_path):
    """New-user test: at 80 columns the line wrapped in the middle of words (`6 jobs (6 s` / `cheduled)`)."""
    cfg, db = write_jobs(short_path, job("a"), job("b", enabled=False))
    main, side = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "panda_tui", "daemon", "--config", cfg, "--db", db],
                            stdout=subprocess.PIPE, stderr=side, env=IN_80_COLUMNS)
    os.close(side)
    try:
        first_json = json.loads(proc.stdout.readline())  # the plain line is on the terminal before it
        rows = os.read(main, 65536).decode().replace("\r", "").splitlines()
        plain, = unwrapped(rows)
        refused = unwrapped(second_daemon_in_a_terminal(cfg, db), 10**6)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert plain == (f"panda-tui daemon: config {cfg} · db {os.path.realpath(db)} · 2 jobs (1 scheduled) · "
                     "lease free: taking it; decisions follow as JSON lines on stdout")
    assert first_json["event"] == "lease_acquired"
    assert refused[0].endswith(f"· lease held by {first_json['owner']}: not starting"), refused
    assert refused[1].startswith("error: ") and len(refused) == 2, refused
    piped = subprocess.Popen([sys.executable, "-m", "panda_tui", "daemon", "--config", cfg, "--db", db],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert json.loads(piped.stdout.readline())["event"] == "lease_acquired"
    finally:
        piped.send_signal(signal.SIGTERM)
        _out, err = piped.communicate(timeout=30)
    assert b"panda-tui daemon: config" not in err  # not a terminal (a service's journal): JSON only


HOLD_AS_CONSOLE = """
import os, sys, time
from panda_tui.store import connect, lease
os.setsid()
os.open(sys.argv[2], os.O_RDWR)  # its controlling terminal, as a console in a terminal has
conn = connect(sys.argv[1])
assert lease.claim(conn, "console", time.time()) is not None
print("held", flush=True)
sys.stdin.read()
"""


def test_a_daemon_refused_by_a_console_says_which_one_and_how_to_hand_over(tmp_path):
    import getpass
    cfg, db = write_jobs(tmp_path, job("a"))
    main, side = pty.openpty()
    pts = os.ttyname(side)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_AS_CONSOLE, db, pts], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        refused = run_cli("daemon", "--config", cfg, "--db", db)
    finally:
        holder.stdin.close()
        holder.wait(30)
        os.close(side)
        os.close(main)
    assert refused.returncode == 1
    [line] = refused.stderr.splitlines()
    assert line.startswith(f"error: a console (pid {holder.pid}, user {getpass.getuser()}, "
                           f"tty {pts.removeprefix('/dev/')}, on ")
    assert f"holds the scheduler of {os.path.realpath(db)}" in line
    assert "to hand over, quit that console with q, then start the daemon" in line


def test_kill_of_a_job_removed_from_jobs_toml_says_so_and_exits_2_as_an_unknown_name_does(tmp_path):
    """New-user test: `kill long-sleep` after its job left jobs.toml (its run killed) said `no job named` with
    exit 1, while `kill nosuch` exits 2."""
    cfg, db = write_jobs(tmp_path, job("hello"))
    with ledger_on(db) as book:
        run = book.insert("long-sleep", 1_800_000_000.0, trigger="schedule", now=1_800_000_000.0)
        book.start(run.id, 1_800_000_001.0)
        book.finish(run.id, RunStatus.KILLED, 1_800_000_009.0, reason="killed on request")
    gone = run_cli("kill", "long-sleep", "--config", cfg, "--db", db)
    assert gone.returncode == 2, gone.stderr
    assert "removed from jobs.toml and has no run going" in gone.stderr
    assert run_cli("kill", "nosuch", "--config", cfg, "--db", db).returncode == 2


def test_a_console_that_ran_the_scheduler_says_it_stopped_it_in_lines_that_wrap_between_words(tmp_path, capsys,
                                                                                             monkeypatch):
    """New-user test: at 80 columns the quit line wrapped in the middle of a word (`keep jobs run` / `ning`)."""
    from panda_tui.cli.console_cmd import embedded_mode, stop_embedded
    from panda_tui.config import load_config
    cfg, db = write_jobs(tmp_path, job("a"))
    monkeypatch.setenv("COLUMNS", "80")
    _mode, _reason, embedded = embedded_mode(load_config(cfg), db)
    assert embedded is not None
    stop_embedded(embedded)
    assert unwrapped(capsys.readouterr().err.splitlines()) == [
        "panda-tui: stopping the embedded scheduler",
        "panda-tui: embedded scheduler stopped; start `panda-tui daemon` to keep jobs running without the console"]
