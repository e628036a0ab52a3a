"""The scheduler's own health from the store: a daemon that held the database last and is gone is a fact
the console and `status` tell (`no scheduler! daemon last seen 4m ago`); a console that held it is not."""

from __future__ import annotations

import pytest

from panda_tui.readmodel.scheduler_health import daemon_gone
from panda_tui.store import lease, state
from panda_tui.store.db import Database

NOW = 1_800_000_000.0


@pytest.fixture
def conn(tmp_path):
    db = Database(str(tmp_path / "panda.db"))
    yield db.conn
    db.close()


def owner(role: str) -> str:
    return f"elsewhere:4242:{NOW - 9000:.3f}:{role}"  # another host: alive only by its heartbeat


def test_a_daemon_that_stopped_cleanly_is_gone_with_when_it_let_go(conn):
    assert daemon_gone(conn, NOW) is None  # nobody ever held it: a console may embed
    state.put_meta(conn, "last_scheduler", {"owner": owner("daemon"), "seen_at": NOW - 240}, NOW - 240)
    gone = daemon_gone(conn, NOW)
    assert (gone.last_seen, gone.stopped, gone.host) == (NOW - 240, True, "elsewhere")
    assert gone.words(NOW) == "no scheduler! daemon last seen 4m ago"


def test_a_daemon_whose_heartbeat_stopped_is_gone_and_a_live_one_is_not(conn):
    lease.record(conn, owner("daemon"), NOW - 600, NOW - 5, lease.TTL)
    assert daemon_gone(conn, NOW) is None  # its heartbeat is fresh: it runs
    gone = daemon_gone(conn, NOW + 300)
    assert (gone.last_seen, gone.stopped) == (NOW - 5, False)


def test_a_console_that_held_it_last_is_no_daemon_gone(conn):
    state.put_meta(conn, "last_scheduler", {"owner": owner("daemon"), "seen_at": NOW - 900}, NOW - 900)
    lease.record(conn, owner("console"), NOW - 600, NOW - 300, lease.TTL)  # a console embedded after it, then died
    assert daemon_gone(conn, NOW) is None
    lease.release(conn, owner("console"))
    state.put_meta(conn, "last_scheduler", {"owner": owner("console"), "seen_at": NOW - 60}, NOW - 60)
    assert daemon_gone(conn, NOW) is None


def test_status_json_names_the_scheduler_without_an_epoch_time(conn):
    """Every time `status --json` prints is ISO 8601: the owner's start (an epoch number in the store) is
    left out of `scheduler` and `daemon_gone.owner`; when it started is `lease.since`."""
    from panda_tui.config import build_config
    from panda_tui.readmodel.status import read_status, status_json
    config = build_config({"jobs": {"a": {"schedule": "@hourly", "command": "true"}}}, "jobs.toml")
    lease.record(conn, owner("daemon"), NOW - 600, NOW - 1, lease.TTL)
    shown = status_json(read_status(conn, config, NOW), NOW)
    assert shown["scheduler"] == "elsewhere:4242:daemon" and shown["lease"]["since"] == "2027-01-15T07:50:00Z"
    gone = status_json(read_status(conn, config, NOW + 300), NOW + 300)["daemon_gone"]
    assert gone["owner"] == "elsewhere:4242:daemon" and str(int(NOW - 9000)) not in str(gone)
