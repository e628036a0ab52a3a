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
