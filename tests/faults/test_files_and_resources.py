"""Hostile files while the daemon runs, descriptors after failing spawns, a full disk, signals to `run`:
a failure in one job, one file or one disk never starves or freezes the rest."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from panda_tui.store import budget

from tests.conftest import run_cli
from tests.faults.conftest import events, rows, submit
from tests.integration.helpers import Daemon, ledger, wait_until
from tests.jobfiles import job, write_jobs
from tests.procs import spawn

GOOD = job("tick", "@every 1s")


def answered_quickly(cfg: str, db: str) -> float:
    """How long the scheduler takes to answer a control request (the loop is not blocked)."""
    started = time.monotonic()
    result = run_cli("trigger", "tick", "--config", cfg, "--db", db, timeout=30)
    assert result.returncode in (0, 1) and "did not answer" not in result.stderr, result.stderr
    return time.monotonic() - started


def swap(path: Path, make) -> None:
    """Replace the file by something else, as a careless edit or an attacker would."""
    if path.is_dir():
        path.rmdir()
    elif path.exists() or path.is_fifo():
        path.unlink()
    make(path)


@pytest.mark.slow
def test_jobs_toml_swapped_for_a_fifo_a_directory_or_junk_while_the_daemon_runs(tmp_path, figure):
    cfg, db = write_jobs(tmp_path, GOOD)
    path = Path(cfg)
    daemon = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in daemon.output(), 20)
        swaps = [("a FIFO", os.mkfifo, "is a named pipe (FIFO), expected a regular file"),
                 ("a directory", os.mkdir, "is a directory, expected a regular file"),
                 ("not UTF-8", lambda p: p.write_bytes(b"[jobs.x]\nschedule = \"\xff\xfe\"\n"), "not UTF-8"),
                 ("11 MiB", lambda p: p.write_bytes(b"#" * (11 << 20)), "more than the 10.0 MiB")]
        slowest = 0.0
        refusals = lambda: [e["errors"] for e in events(daemon.output()) if e["event"] == "reload_failed"]  # noqa: E731
        for name, make, words in swaps:
            refused = len(refusals())
            swap(path, make)  # not atomic: the daemon may first see no file at all, and say so; then the swap
            line = wait_until(lambda: next((e for e in refusals()[refused:] if words in e[0]), None), 10,
                              what=f"{name} refused")
            assert len(line) == 1 and line[0].startswith((f"{cfg}: ", "jobs.toml: ")) and words in line[0], line
            slowest = max(slowest, answered_quickly(cfg, db))
            before = len(ledger(db, "tick"))
            wait_until(lambda: len(ledger(db, "tick")) > before + 1, 10, what="the last good config running")
        swap(path, lambda p: p.write_text(GOOD + job("extra")))
        wait_until(lambda: '"reloaded"' in daemon.output(), 10, what="a good file accepted again")
    finally:
        assert daemon.stop() == 0
    for name, make, words in swaps:  # and the CLI: one line, exit 2, never a hang
        swap(path, make)
        result = run_cli("validate", "--config", cfg, timeout=20)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, (name, result.stderr)
        assert words in result.stderr and "Traceback" not in result.stderr
    figure(f"4 hostile swaps refused in one line each; control answered within {slowest:.2f}s throughout")


def test_a_secrets_file_that_is_a_fifo_fails_the_run_plainly_and_never_hangs(tmp_path):
    fifo = tmp_path / "secrets.env"
    os.mkfifo(fifo, 0o600)
    cfg, db = write_jobs(tmp_path, '[defaults]\nsecrets_file = "secrets.env"\n',
                         job("s", command="true", secrets=["TOKEN"]), GOOD)
    result = run_cli("run", "s", "--config", cfg, "--db", db, timeout=20)
    assert result.returncode == 1 and "is a named pipe (FIFO), expected a regular file" in result.stderr
    assert "Traceback" not in result.stderr
    (run,) = ledger(db, "s")
    assert run.status == "failed" and "secrets file is a named pipe (FIFO)" in run.reason


def test_ten_thousand_and_one_jobs_are_refused_in_a_line_and_in_seconds(tmp_path):
    cfg, _ = write_jobs(tmp_path, "".join(job(f"j{n}") for n in range(10_001)))
    started = time.monotonic()
    result = run_cli("validate", "--config", cfg, timeout=60)
    took = time.monotonic() - started
    assert result.returncode == 2 and result.stderr.strip() == "jobs.toml: 10001 jobs; one scheduler runs at most 10,000"
    assert took < 10, took


def descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.mark.slow
def test_a_thousand_failing_spawns_leave_the_daemon_its_descriptors(tmp_path, figure):
    """A secret holding a NUL byte makes the spawn itself fail (not with OSError): each attempt used to
    leak its pipes until healthy jobs failed with "Too many open files"."""
    secrets = tmp_path / "secrets.env"
    secrets.write_text('TOKEN="a\\x00b"\n')
    secrets.chmod(0o600)
    cfg, db = write_jobs(tmp_path, '[defaults]\nsecrets_file = "secrets.env"\n',
                         job("bad", command="true", secrets=["TOKEN"], concurrency="allow", max_concurrent=1000),
                         job("good", command="true"))
    daemon = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in daemon.output(), 20)
        assert run_cli("trigger", "good", "--config", cfg, "--db", db).returncode == 0
        wait_until(lambda: ledger(db, "good") and not ledger(db, "good")[0].active, 20)
        before = descriptors(daemon.proc.pid)
        for _ in range(1000):
            submit(db, "trigger", "bad")
        wait_until(lambda: rows(db, "SELECT COUNT(*) FROM runs WHERE job='bad' AND status='failed'")[0][0] == 1000,
                   120, what="1,000 failed runs")
        wait_until(lambda: descriptors(daemon.proc.pid) <= before + 2, 20, what="descriptors back")
        after = descriptors(daemon.proc.pid)
        assert run_cli("trigger", "good", "--config", cfg, "--db", db).returncode == 0
        wait_until(lambda: len(ledger(db, "good")) == 2 and ledger(db, "good")[1].status == "succeeded", 20)
    finally:
        assert daemon.stop() == 0
    reasons = {r for (r,) in rows(db, "SELECT DISTINCT reason FROM runs WHERE job='bad'")}
    assert reasons == {"cannot start /bin/sh: the command or its environment holds a NUL byte"}
    assert not list((tmp_path / ".panda.db.runs").iterdir())  # no run directory left behind
    figure(f"1,000 failing spawns: descriptors {before} before, {after} after; a healthy job still runs")


def mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def fill(directory: Path) -> Path:
    """Write until the disk says it is full."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)  # unbuffered: no bytes left over to fail at close
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


@contextmanager
def busy_daemon_on_a_small_disk(tmp_path: Path):
    """A daemon whose store is on a 16 MB tmpfs, ticking every second, with a flood of output running."""
    disk = tmp_path / "disk"
    if not mount_tmpfs(disk, "16m"):
        pytest.skip("cannot mount a tmpfs here (needs root, or a mount namespace)")
    try:
        cfg, _ = write_jobs(tmp_path, GOOD, job("flood", "@yearly", "for i in $(seq 1 40); do seq 1 2000; "
                                                                    "sleep 0.25; done"))
        db = str(disk / "panda.db")
        daemon = Daemon(cfg, db, log_dir=str(tmp_path))  # its stdout on the full disk would fail it (exit 1)
        try:
            wait_until(lambda: "lease_acquired" in daemon.output(), 20)
            assert run_cli("trigger", "flood", "--config", cfg, "--db", db).returncode == 0
            wait_until(lambda: len(ledger(db, "tick")) >= 2, 10)
            yield daemon, cfg, db, disk
        finally:
            if daemon.proc.poll() is None:
                daemon.proc.kill()
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def disk_trouble(daemon: Daemon, db: str) -> str | None:
    """How the daemon met the full disk: "failed" (a write failed: it waits for room and says so), or "shed"
    (the store's budget saw the disk fill first and drops the flood's output at its limit, so no write had
    to fail; which comes first is a race). Either way, the ledger must lose nothing."""
    if '"store_write_failed"' in daemon.output():
        return "failed"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        at_limit = budget.fact(conn)  # what the console's header and `status` show
    finally:
        conn.close()
    return "shed" if at_limit and at_limit.get("full") else None


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.slow
def test_a_full_disk_defers_writes_and_records_everything_once_space_returns(tmp_path, figure):
    with busy_daemon_on_a_small_disk(tmp_path) as (daemon, cfg, db, disk):
        filler = fill(disk)
        full_at = time.time()
        met = wait_until(lambda: disk_trouble(daemon, db), 40, what="the trouble noticed")
        cpu_before = cpu_seconds(daemon.proc.pid)
        time.sleep(3)  # the outage lasts: the scheduler must stay up through it, not spin or die
        spent = cpu_seconds(daemon.proc.pid) - cpu_before
        assert daemon.proc.poll() is None, daemon.output()[-2000:]
        assert spent < 1.0  # due slots wait for the disk at a steady pace, not in a busy loop
        filler.unlink()
        freed_at = time.time()
        if met == "failed":
            wait_until(lambda: '"store_write_recovered"' in daemon.output(), 20, what="recovery noticed")
        wait_until(lambda: not ledger(db, "flood")[0].active, 30, what="the flood run recorded")
        wait_until(lambda: any(r.scheduled_at > freed_at + 1 and r.status == "succeeded"
                               for r in ledger(db, "tick")), 20, what="ticks again")
        code = daemon.stop()
        assert code == 0 and "Traceback" not in daemon.output()
        flood = ledger(db, "flood")[0]
        assert flood.status == "succeeded", flood
        texts = [t for (t,) in rows(db, "SELECT text FROM logs WHERE run_id=? AND stream='sys'", flood.id)]
        assert rows(db, "SELECT COUNT(*) FROM runs WHERE status IN ('queued', 'running')")[0][0] == 0
        lost = [t for t in texts if "were not stored" in t]
        slots = [r for r in ledger(db, "tick") if full_at < r.scheduled_at < freed_at]
        figure(f"disk full for {freed_at - full_at:.1f}s ({met}): daemon stayed up, {spent:.2f}s CPU in 3s of it; "
               f"{len(slots)} tick slots of the outage recorded "
               f"({', '.join(sorted({r.status for r in slots})) or 'none'}); flood run {flood.status}; "
               f"{lost[0] if lost else 'no flood lines lost'}")


@pytest.mark.slow
def test_a_daemon_stopped_while_the_disk_is_full_exits_and_the_next_one_settles_its_run(tmp_path, figure):
    """Stopping must not wait for a disk that may never empty: runs are stopped, the daemon exits within
    systemd's stop timeout (90 s) saying why, and the next one records what the first could not."""
    with busy_daemon_on_a_small_disk(tmp_path) as (daemon, cfg, db, disk):
        filler = fill(disk)
        wait_until(lambda: disk_trouble(daemon, db), 40, what="the trouble noticed")
        asked = time.monotonic()
        daemon.proc.terminate()
        code = daemon.proc.wait(80)
        took = time.monotonic() - asked
        assert "Traceback" not in daemon.output()
        # The store's budget sheds the flood's output once the disk is full, so the last records may fit in
        # the room the ledger keeps (exit 0, the run recorded); if they do not, the daemon says so (exit 4).
        assert (code == 4 and "disk is full" in daemon.output()) or (code == 0 and not ledger(db, "flood")[0].active)
        filler.unlink()
        second = Daemon(cfg, db, log_dir=str(tmp_path))
        try:
            wait_until(lambda: not ledger(db, "flood")[0].active, 30, what="the flood run settled")
            # the first may have recorded it already: a SIGTERM before the second is up would kill it (-15)
            wait_until(lambda: "lease_acquired" in second.output(), 20, what="the second daemon up")
        finally:
            assert second.stop() == 0
        flood = ledger(db, "flood")[0]
        # never left "running": stopped (with its reason), or succeeded (the flood ended before the stop, and
        # the first daemon or the next one, from what its keeper left, recorded it)
        assert (flood.status in ("killed", "failed", "lost") and flood.reason) or flood.status == "succeeded", flood
        figure(f"SIGTERM with the disk full: exit {code} after {took:.1f}s; the next daemon settled the run "
               f"{flood.status} ({flood.reason})")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_to_run_stops_the_job_and_records_it_killed(tmp_path, sig):
    pidfile = tmp_path / "child.pid"
    cfg, db = write_jobs(tmp_path, job("l", command=f"echo $$ > {pidfile}; echo up; sleep 60", kill_grace="2s"))
    proc = spawn([sys.executable, "-m", "panda_tui", "run", "l", "--config", cfg, "--db", db],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), 20, what="the job started")
    child = int(pidfile.read_text())
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and "Traceback" not in err
    (run,) = ledger(db, "l")
    assert run.status == "killed" and run.reason.startswith(("interrupted", "stopped by"))
    assert out == "up\n" and f"run {run.id}: killed" in err
    wait_until(lambda: not os.path.exists(f"/proc/{child}") or
               open(f"/proc/{child}/stat").read().rsplit(")", 1)[1].split()[0] == "Z", 10, what="job gone")


@pytest.mark.docker
def test_sigterm_to_run_stops_a_container_and_records_it_killed(tmp_path, busybox_image, docker_client):
    cfg, db = write_jobs(tmp_path, job("c", command="echo up; sleep 60", image=busybox_image,
                                       network_mode="none", pull="never", kill_grace="2s"))
    proc = spawn([sys.executable, "-m", "panda_tui", "run", "c", "--config", cfg, "--db", db],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: ledger(db, "c") and ledger(db, "c")[0].runner_ref, 30, what="the container started")
    ref = ledger(db, "c")[0].runner_ref
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    (run,) = ledger(db, "c")
    assert (run.status, run.reason) == ("killed", "stopped by SIGTERM")
    import docker.errors
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(ref)


def test_group_options_reach_every_subcommand(tmp_path):
    """`panda-tui --config A --db B SUBCOMMAND`: the group's options, as `--help` advertises them."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cfg, db = write_jobs(tmp_path, job("g", command="echo grouped"))
    group = ["--config", cfg, "--db", db]
    assert run_cli(*group, "run", "g", cwd=str(elsewhere)).returncode == 0
    for args in (["validate"], ["next", "g"], ["executions", "g"], ["status"], ["logs", "g"], ["alerts"],
                 ["export", "kubernetes"], ["systemd-unit"]):
        result = run_cli(*group, *args, cwd=str(elsewhere))
        assert result.returncode in (0, 1) and "Traceback" not in result.stderr, (args, result.stderr)
        assert "jobs.toml: file not found" not in result.stderr, args
    assert run_cli(*group, "executions", "g", "--json", cwd=str(elsewhere)).stdout.count('"grouped"') == 0
    assert json.loads(run_cli(*group, "executions", "g", "--json", cwd=str(elsewhere)).stdout)[0]["job"] == "g"
    assert "grouped" in run_cli(*group, "logs", "g", cwd=str(elsewhere)).stdout
    assert f"--db {db}" in run_cli(*group, "systemd-unit", cwd=str(elsewhere)).stdout
    assert not (elsewhere / "jobs.toml").exists() and not list(elsewhere.iterdir())
