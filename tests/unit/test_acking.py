"""What `ack` and `unack` record: who, until when, and never less than was asked before."""

from __future__ import annotations

import pytest

from panda_tui.alerts.acking import acknowledge
from panda_tui.store import acks
from panda_tui.store.db import Database
from panda_tui.store.ledger import Ledger, RunStatus

NOW = 1_800_000_000.0


@pytest.fixture
def ledger(tmp_path):
    db = Database(str(tmp_path / "panda.db"))
    yield Ledger(db)
    db.conn.close()


def failed(ledger: Ledger, job: str, at: float) -> None:
    run = ledger.insert(job, at, trigger="schedule", now=at)
    ledger.start(run.id, at)
    ledger.finish(run.id, RunStatus.FAILED, at + 1, exit_code=1)


def test_a_plain_ack_keeps_an_ack_for_an_hour_and_says_how_to_replace_it(ledger):
    failed(ledger, "j", NOW - 60)
    acknowledge(ledger.conn, "j", {"by": "ana@box", "for": 3600, "note": "disk"}, NOW)
    answer = acknowledge(ledger.conn, "j", {"by": "bob@box"}, NOW + 10)
    kept = acks.get(ledger.conn, "j")
    assert kept is not None and (kept.by, kept.until, kept.note) == ("ana@box", NOW + 3600, "disk")
    assert "stays acknowledged by ana@box" in answer and "panda-tui unack j" in answer


def test_a_plain_ack_replaces_one_whose_time_ran_out(ledger):
    failed(ledger, "j", NOW - 60)
    acknowledge(ledger.conn, "j", {"by": "ana@box", "for": 60}, NOW)
    acknowledge(ledger.conn, "j", {"by": "bob@box"}, NOW + 120)
    now_held = acks.get(ledger.conn, "j")
    assert now_held is not None and (now_held.by, now_held.until) == ("bob@box", None)
