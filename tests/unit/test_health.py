"""A job's health at a glance, from the ledger: what counts as failing, what NEXT and LAST say."""

from __future__ import annotations

import pytest

from panda_tui.config import build_config
from panda_tui.readmodel.health import URGENCY, HealthState, all_health
from panda_tui.readmodel.status import Status
from panda_tui.store.db import Database
from panda_tui.store.ledger import Ledger, RunStatus

NOW = 1_800_000_000.0  # a fixed instant: every age below is relative to it


@pytest.fixture
def ledger(tmp_path):
    db = Database(str(tmp_path / "panda.db"))
    yield Ledger(db)
    db.conn.close()


def config():
    return build_config({"jobs": {"j": {"schedule": "0 * * * *", "command": "true"}}}, "jobs.toml")


def ran(ledger: Ledger, status: RunStatus, at: float, **how) -> None:
    run = ledger.insert("j", at, trigger="schedule", now=at)
    ledger.start(run.id, at)
    ledger.finish(run.id, status, at + 1, **how)


def health(ledger: Ledger):
    [h] = all_health(ledger.conn, config(), NOW)
    return h


@pytest.mark.parametrize("before, state", [(RunStatus.SUCCEEDED, "ok"), (RunStatus.FAILED, "failing")])
def test_a_run_killed_on_purpose_leaves_the_verdict_to_the_run_before(ledger, before, state):
    ran(ledger, before, NOW - 7200, exit_code=0 if before == RunStatus.SUCCEEDED else 1)
    ran(ledger, RunStatus.KILLED, NOW - 3600, reason="killed on request")
    h = health(ledger)
    assert (h.state, h.last_bad, h.last.status) == (state, state == "failing", "killed")
    assert h.failure_rate == (1.0 if state == "failing" else 0.0)  # the kill is not counted as a failure
    assert Status(holder="x", docker_hosts={}, jobs=[h], lease=object()).trouble is (state == "failing")


def test_a_run_queued_for_later_is_the_next_not_the_last(ledger):
    ran(ledger, RunStatus.SUCCEEDED, NOW - 7200, exit_code=0)
    ledger.insert("j", NOW + 40, trigger="manual", now=NOW, not_before=NOW + 40)  # as `trigger --at` 40 s ahead
    h = health(ledger)
    assert h.next_at == NOW + 40  # before the schedule's next slot, at the top of the hour
    assert (h.last.status, h.state) == ("succeeded", "ok")


def test_a_job_whose_every_run_was_killed_says_killed_not_new(ledger):
    assert health(ledger).state == "new"
    ran(ledger, RunStatus.KILLED, NOW - 3600, reason="killed on request")
    h = health(ledger)
    assert (h.state, h.last_bad, h.failure_rate) == ("killed", False, None)  # it ran; no verdict on it


def test_a_job_s_state_is_one_word_of_one_vocabulary_that_sorts_and_shows(ledger):
    from panda_tui.text import GLYPHS
    from panda_tui.tui.marks import COLOUR, PLAIN
    assert isinstance(health(ledger).state, HealthState)
    ran(ledger, RunStatus.FAILED, NOW - 3600, exit_code=1)
    assert health(ledger).state is HealthState.FAILING
    for state in HealthState:  # every state sorts, has a glyph, and a style with colour and without
        assert state in URGENCY and state.value in GLYPHS and state.value in COLOUR and state.value in PLAIN
