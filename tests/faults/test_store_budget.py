"""The store's disk budget ([store] max_size, keep_free): a job flooding its log sheds its own output, with
one counted marker, while a job every second goes on being recorded and `status` says the limit was hit."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

from panda_tui.store import budget, connect
from tests.conftest import run_cli
from tests.faults.test_files_and_resources import mount_tmpfs
from tests.integration.helpers import Daemon, ledger, wait_until
from tests.jobfiles import job, write_jobs

pytestmark = pytest.mark.slow
MARKER = re.compile(r"^… [\d.]+[kM]? lines dropped: the store is at its size limit$")


def flood_job(gate: Path) -> str:
    """400k lines, then the run stays until `gate` exists: the store stays at its limit while the test looks."""
    return job("flood", "@yearly", f"seq 1 400000; while [ ! -e {gate} ]; do sleep 0.1; done",
               log_max_lines=1_000_000, log_max_bytes="1g")


TICK = job("tick", "@every 1s")


def fact(db: str) -> dict | None:
    with closing(connect(db, readonly=True)) as conn:
        return budget.fact(conn)


def sys_lines(db: str, run_id: int) -> list[str]:
    with closing(sqlite3.connect(db)) as conn:
        return [t for (t,) in conn.execute("SELECT text FROM logs WHERE run_id=? AND stream='sys' ORDER BY seq",
                                           (run_id,))]


def on_disk(db: str) -> int:
    return sum(os.path.getsize(p) for p in (db, f"{db}-wal") if os.path.exists(p))


def flood_beside_a_tick(tmp_path: Path, db: str, store: str = "") -> dict:
    """Run the flood beside the tick; returns what was seen. Asserts what must hold whatever the budget."""
    gate = tmp_path / "flood-may-end"
    cfg, _ = write_jobs(tmp_path, TICK, flood_job(gate), store)
    daemon = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in daemon.output(), 20, what="the daemon up")
        assert run_cli("trigger", "flood", "--config", cfg, "--db", db).returncode == 0
        hit = wait_until(lambda: (fact(db) or {}).get("full") and fact(db), 60, what="the budget hit")
        # while the flood's output is being dropped, the tick goes on being recorded
        wait_until(lambda: sum(1 for r in ledger(db, "tick") if r.status == "succeeded"
                               and (r.started_at or 0) > hit["since"]) >= 2, 30, what="ticks recorded")
        status = run_cli("status", "--config", cfg, "--db", db)
        assert "store: AT ITS SIZE LIMIT" in status.stdout, status.stdout
        gate.touch()
        wait_until(lambda: not ledger(db, "flood")[0].active, 60, what="the flood run ended")
        wait_until(lambda: not (fact(db) or {}).get("full"), 20, what="the store no longer full")
        assert daemon.stop() == 0 and "Traceback" not in daemon.output(), daemon.output()[-3000:]
    finally:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
    flood = ledger(db, "flood")[0]
    assert flood.status == "succeeded", flood
    last = sys_lines(db, flood.id)[-1]
    assert MARKER.match(last), sys_lines(db, flood.id)
    return {"flood": flood, "marker": last, "limit": hit["limit"]}


def test_a_flood_sheds_its_output_while_a_job_every_second_is_recorded(tmp_path):
    db = str(tmp_path / "panda.db")
    seen = flood_beside_a_tick(tmp_path, db, '[store]\nmax_size = "2m"\n')
    assert seen["limit"] == 2 * 1024 * 1024
    assert on_disk(db) <= 2 * 1024 * 1024


def test_on_a_3_mib_tmpfs_the_defaults_keep_the_ledger_going(tmp_path):
    disk = tmp_path / "disk"
    if not mount_tmpfs(disk, "3m"):
        pytest.skip("cannot mount a tmpfs here (needs root, or a mount namespace)")
    try:
        db = str(disk / "panda.db")
        seen = flood_beside_a_tick(tmp_path, db)
        assert on_disk(db) <= 3 * 1024 * 1024
        assert seen["limit"] <= 3 * 1024 * 1024
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
