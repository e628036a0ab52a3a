"""New-user test: a console attached to a daemon in its stop grace (stopping, waiting for runs to end) said
nothing. The daemon records that it is stopping; the header says so until it has stopped."""

from __future__ import annotations

import signal

from panda_tui.readmodel.snapshot import read_snapshot
from panda_tui.store import connect
from panda_tui.tui.header_line import parts, stopping_words
from panda_tui.tui.marks import Marks
from tests.conftest import run_cli
from tests.integration.helpers import Daemon, ledger, wait_until
from tests.jobfiles import write_jobs

JOBS = """
[scheduler]
stop_grace = "8s"

[jobs.long]
schedule = "@daily"
command = "sleep 60"
kill_grace = "1s"
"""


def snapshot(db: str):
    conn = connect(db, readonly=True)
    try:
        return read_snapshot(conn, None)
    finally:
        conn.close()


def test_a_daemon_in_its_stop_grace_says_so_to_consoles(tmp_path):
    cfg, db = write_jobs(tmp_path, JOBS)
    daemon = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in daemon.output(), what="the daemon up")
        assert snapshot(db).stopping is None
        assert run_cli("trigger", "long", "--config", cfg, "--db", db).returncode == 0
        wait_until(lambda: ledger(db, "long") and ledger(db, "long")[0].status == "running", what="the run")
        daemon.proc.send_signal(signal.SIGTERM)
        wait_until(lambda: snapshot(db).stopping is not None, what="the stop said")
        snap = snapshot(db)
        words = stopping_words(snap, snap.taken_at)
        assert words is not None and words.startswith("daemon stopping: waiting for 1 run, up to "), words
        assert snap.stopping is not None and snap.stopping["grace"] == 8.0
        header = [p.long for p in parts(snap, "attached", snap.taken_at, "07:00:00 UTC", Marks())]
        assert header[0] == words, header  # first: it is why the runs are about to stop
    finally:
        daemon.stop(120)
    assert snapshot(db).stopping is None  # stopped: nothing more to wait for
