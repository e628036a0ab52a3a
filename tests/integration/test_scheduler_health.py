"""A console opened while the daemon that held the database is down does not become the scheduler by
itself: it attaches and the store's fact says the daemon is gone; `--embed` starts one all the same."""

from __future__ import annotations

import json

from panda_tui.cli.console_cmd import decide_mode
from panda_tui.config import load_config
from panda_tui.store import connect, lease
from panda_tui.tui.mode import ConsoleMode
from tests.conftest import run_cli
from tests.integration.helpers import Daemon, wait_until
from tests.jobfiles import job, write_jobs


def test_after_a_daemon_stops_the_console_attaches_unless_told_to_embed(tmp_path):
    cfg, db = write_jobs(tmp_path, job("a"))
    daemon = Daemon(cfg, db)
    wait_until(lambda: "lease_acquired" in daemon.output(), 20, what="daemon start")
    assert daemon.stop() == 0
    config = load_config(cfg)
    mode, _, embedded = decide_mode(config, db, read_only=False)
    assert (mode, embedded) == (ConsoleMode.ATTACHED, None)
    status = json.loads(run_cli("status", "--json", "--config", cfg, "--db", db).stdout)
    assert status["daemon_gone"]["stopped"] and status["daemon_gone"]["words"].startswith("no scheduler! daemon")
    text = run_cli("status", "--config", cfg, "--db", db).stdout
    assert text.startswith("scheduler: NOT RUNNING (daemon last seen <1m ago)")
    mode, _, embedded = decide_mode(config, db, read_only=False, launch=False, embed=True)
    try:
        assert mode is ConsoleMode.EMBEDDED and embedded is not None
    finally:
        embedded.stop()
    # the console held it last now: the next console embeds by itself, as before any daemon
    mode, _, embedded = decide_mode(config, db, read_only=False, launch=False)
    try:
        assert mode is ConsoleMode.EMBEDDED
    finally:
        embedded.stop()
    assert lease.live_holder(connect(db)) is None
