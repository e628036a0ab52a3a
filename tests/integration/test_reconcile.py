"""kill -9 of the daemon mid-run: on restart, no run stays running and logs are whole."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from panda_tui.store import connect, logs
from tests.integration.helpers import Daemon, ledger, wait_until
from tests.jobfiles import write_jobs


def all_lines(db: str, run_id: int, stream: str = "out") -> list[str]:
    conn = connect(db)
    try:
        return [l.text for l in logs.read(conn, run_id, 0, 1_000_000) if l.stream == stream]
    finally:
        conn.close()


def start_local_run_then_kill9(cfg: str, db: str) -> None:
    """A daemon starts job "l" (local, or a container) by hand; once it has printed "up" and its pid is
    recorded, kill -9."""
    from tests.conftest import run_cli
    first = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in first.output(), 20, what="daemon start")
        assert run_cli("trigger", "l", "--config", cfg, "--db", db).returncode == 0
        wait_until(lambda: all_lines(db, 1) == ["up"] and ledger(db, "l")[0].runner_ref, 20, what="run started")
    finally:
        first.kill9()


def restart_until_settled(cfg: str, db: str) -> None:
    second = Daemon(cfg, db)
    try:
        wait_until(lambda: ledger(db, "l")[0].status != "running", 30, what="run settled")
    finally:
        assert second.stop() == 0


@pytest.mark.parametrize("lines", [5_000, 40_000], ids=["ends-while-down", "blocks-on-a-full-pipe"])
def test_local_runs_are_adopted_after_sigkill_with_their_exit_code(tmp_path, lines):
    """The keeper holds the pipes: the job neither dies of SIGPIPE nor loses what it printed meanwhile.
    5,000 lines (~24 KB) fit the pipe, so the job ends while no daemon runs and its keeper waits to hand
    over the exit code; 40,000 (~230 KB) fill it, so the job waits for the next daemon to read."""
    pidfile, go = tmp_path / "keeper.pid", tmp_path / "go"
    cfg, db = write_jobs(tmp_path, f"""
        [jobs.l]
        schedule = "@yearly"
        command = "echo $$ > {pidfile}; echo up; while [ ! -e {go} ]; do sleep 0.05; done; seq 1 {lines}; exit 7"
        """)
    start_local_run_then_kill9(cfg, db)
    keeper = int(pidfile.read_text())  # $$ in the command is its keeper's pid
    go.touch()
    if lines == 5_000:
        wait_until(lambda: not [p for p in os.listdir("/proc") if p.isdigit() and _parent(p) == keeper], 10,
                   what="the job ended with no daemon")
    else:
        time.sleep(1.0)
        assert [p for p in os.listdir("/proc") if p.isdigit() and _parent(p) == keeper]  # waiting to write
    assert os.path.exists(f"/proc/{keeper}")  # the keeper waits for a daemon; nothing died of SIGPIPE
    restart_until_settled(cfg, db)
    run = ledger(db, "l")[0]
    assert (run.status, run.exit_code) == ("failed", 7), run
    assert all_lines(db, 1) == ["up"] + [str(i) for i in range(1, lines + 1)]
    notes = [text for text in all_lines(db, 1, "sys") if "took this run over" in text]
    assert notes == ["[panda] a new scheduler took this run over (the one that started it stopped: lines it read "
                     "just before may be missing)"]  # not a crash, which it may not have been
    assert not os.path.exists(f"{tmp_path}/.panda.db.runs/run-1")


def _parent(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_a_local_run_whose_keeper_was_killed_meanwhile_is_lost_with_a_reason(tmp_path):
    pidfile = tmp_path / "child.pid"
    cfg, db = write_jobs(tmp_path, f"""
        [jobs.l]
        schedule = "@yearly"
        command = "echo $$ > {pidfile}; echo up; sleep 120"
        """)
    start_local_run_then_kill9(cfg, db)
    keeper = int(ledger(db, "l")[0].runner_ref.split(":")[0])
    os.killpg(keeper, signal.SIGKILL)  # the whole run, keeper too, dies while nobody watches
    wait_until(lambda: not os.path.exists(f"/proc/{int(pidfile.read_text())}"), 10, what="run gone")
    restart_until_settled(cfg, db)
    run = ledger(db, "l")[0]
    assert run.status == "lost" and run.exit_code is None
    assert "exit code is unknown" in run.reason


def test_an_adopted_local_run_can_still_be_killed(tmp_path):
    pidfile = tmp_path / "child.pid"
    cfg, db = write_jobs(tmp_path, f"""
        [jobs.l]
        schedule = "@every 3600s"
        command = "echo $$ > {pidfile}; echo up; sleep 120"
        kill_grace = "2s"
        """)
    from tests.conftest import run_cli
    start_local_run_then_kill9(cfg, db)
    child = int(pidfile.read_text())
    with connect(db) as conn:  # as if killed after the spawn but before the pid was recorded
        conn.execute("UPDATE runs SET runner_ref=NULL")
    second = Daemon(cfg, db)
    try:
        wait_until(lambda: '"adopted"' in second.output(), 20, what="run adopted")
        assert ledger(db, "l")[0].status == "running"
        assert run_cli("kill", "l", "--config", cfg, "--db", db).returncode == 0
        wait_until(lambda: ledger(db, "l")[0].status != "running", 30, what="run killed")
    finally:
        assert second.stop() == 0
    run = ledger(db, "l")[0]
    assert (run.status, run.exit_code) == ("killed", 143), run
    wait_until(lambda: not os.path.exists(f"/proc/{child}") or open(f"/proc/{child}/stat").read().split()[2] == "Z",
               10, what="process ended")


def group_left(pgid: int) -> list[str]:
    """The command lines of the processes still alive (not zombies) in a run's process group."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\0")
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(" ".join(a.decode() for a in argv[:2] if a)[:40])
    return found


def killed_mid_run(tmp_path, fields: str) -> tuple[str, str]:
    """Job "l" with `fields` (TOML lines), started by a daemon killed -9 once it printed "up": (config, db)."""
    cfg, db = write_jobs(tmp_path, f'[jobs.l]\nschedule = "@yearly"\n{fields}\n')
    start_local_run_then_kill9(cfg, db)
    return cfg, db


@pytest.mark.parametrize("command, code", [("sleep 120", 143), ("trap '' TERM; sleep 120", None)],
                         ids=["ends-on-term", "killed-after-the-grace"])
def test_a_local_run_past_its_timeout_with_no_scheduler_is_ended_by_its_keeper(tmp_path, command, code):
    """The scheduler died (kill -9) with a run going: its keeper ends it at its deadline (SIGTERM, then SIGKILL
    after the grace, which ends the keeper too), with no `sleep` of its watchdog left behind; the next scheduler
    records it timed out, with the usual reason (not `failed` with 143)."""
    cfg, db = killed_mid_run(tmp_path, f'command = "echo up; {command}"\ntimeout = "3s"\nkill_grace = "1s"')
    keeper = int(ledger(db, "l")[0].runner_ref.split(":")[0])
    left = ["/bin/sh -c"] if code else []  # the keeper, waiting for a scheduler to take the exit code
    wait_until(lambda: group_left(keeper) == left, 30, what="the run ended at its deadline with no scheduler")
    restart_until_settled(cfg, db)
    run = ledger(db, "l")[0]
    assert (run.status, run.reason, run.exit_code) == ("timed_out", "timed out after 3s", code), run
    assert all_lines(db, 1) == ["up"]
    said = all_lines(db, 1, "sys")  # New-user test: `# [panda] timed_out: timed out after 20s`, who stopped it unsaid
    stopped = r"\[panda\] timed out after 3s: stopped at \d\d:\d\d:\d\d while no scheduler ran"
    assert re.fullmatch(stopped, said[-1]), said
    assert not [text for text in said if "timed_out" in text], said



def test_status_says_a_run_its_keeper_ended_ended_not_running_with_a_kill_to_offer(tmp_path):
    """New-user test: after the keeper ended a run at its timeout, `status` still said `run 1 running
    (unwatched) … then panda-tui kill 1 stops it`, for a run that had ended."""
    from tests.conftest import run_cli
    cfg, db = killed_mid_run(tmp_path, 'command = "echo up; sleep 120"\ntimeout = "1s"\nkill_grace = "1s"')
    keeper = int(ledger(db, "l")[0].runner_ref.split(":")[0])
    wait_until(lambda: group_left(keeper) == ["/bin/sh -c"], 30, what="the run ended at its deadline with no scheduler")
    said = run_cli("status", "--config", cfg, "--db", db, env={"COLUMNS": "200"}).stdout
    ended = r"l: run 1 ended \(timed out after 1s, its keeper stopped it at \d\d:\d\d:\d\d\) while no scheduler ran: " \
            r"the next scheduler records it"
    assert re.search(ended, said) and "kill 1" not in said, said
    row = next(line for line in said.splitlines() if line.split()[2:3] == ["l"])  # `⏱ ended l …`, not `▶ unwatched`
    assert row.split()[:2] == ["⏱", "ended"] and "0 running" in said, said
    restart_until_settled(cfg, db)  # and the next scheduler does
    assert ledger(db, "l")[0].status == "timed_out"

def test_a_local_run_that_ends_with_no_scheduler_leaves_no_watchdog_behind(tmp_path):
    """Its keeper's watchdog sleeps out the timeout beside the command: when the command ends, so does it (and
    its `sleep`), though the keeper waits for a scheduler to take the exit code."""
    go = tmp_path / "go"
    cfg, db = killed_mid_run(tmp_path, f'command = "echo up; while [ ! -e {go} ]; do sleep 0.05; done; exit 3"\n'
                                       'timeout = "1h"')
    keeper = int(ledger(db, "l")[0].runner_ref.split(":")[0])
    assert any(line.startswith("sleep 3602") for line in group_left(keeper))  # the watchdog (1h + LATER)
    go.touch()
    wait_until(lambda: group_left(keeper) == ["/bin/sh -c"], 10, what="only the keeper left")
    restart_until_settled(cfg, db)
    assert (ledger(db, "l")[0].status, ledger(db, "l")[0].exit_code) == ("failed", 3)


@pytest.mark.docker
def test_a_container_past_its_timeout_is_stopped_when_a_scheduler_returns(tmp_path, docker_client, busybox_image):
    """No keeper watches a container: the next scheduler, finding it past its deadline, stops it at once and
    records it timed out."""
    cfg, db = killed_mid_run(tmp_path, f'image = "{busybox_image}"\nnetwork_mode = "none"\n'
                                       'command = "echo up; sleep 300"\ntimeout = "2s"\nkill_grace = "1s"')
    container = docker_client.containers.get(ledger(db, "l")[0].runner_ref)
    wait_until(lambda: time.time() > (ledger(db, "l")[0].started_at or 0) + 3, 10, what="past the deadline")
    container.reload()
    assert container.status == "running"  # the deadline passed with nobody there: it runs on
    restart_until_settled(cfg, db)
    run = ledger(db, "l")[0]
    assert (run.status, run.reason) == ("timed_out", "timed out after 2s"), run


def test_a_run_that_ended_before_its_deadline_is_not_timed_out_by_a_scheduler_back_after_it(tmp_path):
    """It ended on time while no scheduler watched; the next one, back past the deadline, records its own end."""
    go = tmp_path / "go"
    cfg, db = killed_mid_run(tmp_path, f'command = "echo up; while [ ! -e {go} ]; do sleep 0.05; done; exit 0"\n'
                                       'timeout = "2s"')
    go.touch()
    wait_until(lambda: time.time() > (ledger(db, "l")[0].started_at or 0) + 3, 10, what="past the deadline")
    restart_until_settled(cfg, db)
    assert ledger(db, "l")[0].status == "succeeded"
