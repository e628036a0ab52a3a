"""What `ack` and `unack` record: who, until when, and never less than was asked before."""

from __future__ import annotations

import pytest

from panda_tui.store.acking import acknowledge
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


class Declared:
    """The running config's verbs, for one declared job "j" (nothing runs: the desk only asks `knows`)."""

    def knows(self, job: str) -> bool:
        return job == "j"

    def trigger(self, job: str, at: float) -> str:
        return f"{job} triggered"

    def pause(self, job: str) -> str:
        return f"{job} paused"

    def resume(self, job: str, catchup: bool) -> str:
        return f"{job} resumed"

    def kill_run(self, run_id: int) -> str:
        return ""

    def kill_job(self, job: str) -> str:
        return ""

    def forget(self, job: str) -> str:
        return ""


def desk_answers(ledger: Ledger, kind: str, job: str, args: dict | None = None) -> tuple[str | None, str | None]:
    """Leave one request in the store, let the scheduler's desk take it, and read its answer."""
    import asyncio

    from panda_tui.engine.events import EventLog
    from panda_tui.engine.requests import ControlDesk
    from panda_tui.engine.store_health import StoreHealth
    from panda_tui.store import control
    from tests.clocks import FakeClock
    clock = FakeClock(NOW)
    with ledger.transaction() as conn:
        rid = control.submit(conn, kind, job=job, args=args, now=NOW)

    async def reload(why: str) -> tuple[bool, str]:
        return True, ""
    desk = ControlDesk(ledger, StoreHealth(clock, lambda d: None), clock, EventLog(None))
    asyncio.run(desk.take(Declared(), reload))
    answer = control.get(ledger.conn, rid)
    assert answer is not None and answer.done_at is not None
    return answer.outcome, answer.error


def test_a_job_only_exec_runs_is_acked_and_unacked_like_any_but_not_triggered(ledger):
    failed(ledger, "nu-long", NOW - 60)  # known from its runs only (external)
    outcome, error = desk_answers(ledger, "ack", "nu-long", {"by": "ana@box"})
    assert error is None and outcome is not None and outcome.startswith('acknowledged "nu-long" by ana@box')
    assert acks.get(ledger.conn, "nu-long") is not None
    assert desk_answers(ledger, "unack", "nu-long")[1] is None and acks.get(ledger.conn, "nu-long") is None
    for kind in ("trigger", "pause"):
        assert desk_answers(ledger, kind, "nu-long") == (
            None, '"nu-long" is run only by panda-tui exec: it has no schedule here to trigger or pause')
    assert desk_answers(ledger, "ack", "nosuch")[1] == 'no job named "nosuch" in the running config'


def test_an_ack_covers_the_failures_since_the_last_success_before_it_and_those_while_it_holds():
    from panda_tui.readmodel.acks import acked_runs
    from panda_tui.store.acks import Ack
    from panda_tui.store.ledger import Run

    def run(run_id: int, status: str, at: float) -> Run:
        return Run(id=run_id, job="j", scheduled_at=at - 5, attempt=1, status=status, trigger="schedule",
                   queued_at=at - 5, finished_at=at)
    history = [run(6, "failed", 600), run(5, "succeeded", 500), run(4, "timed_out", 400), run(3, "failed", 300),
               run(2, "succeeded", 200), run(1, "failed", 100)]  # newest first
    acked_at_450 = Ack("j", "ann@db1", 450.0, until=1000.0)
    assert acked_runs(history, acked_at_450) == {6, 4, 3}  # not run 1: a success ended that streak
    assert acked_runs(history, None) == set()


def test_a_job_with_missed_runs_in_a_day_can_be_acked_and_a_healthy_one_cannot(ledger):
    from panda_tui.store.acking import AckRefused
    ledger.insert("gap", NOW - 90, trigger="schedule", now=NOW - 80, status=RunStatus.MISSED, reason="scheduler down")
    for job in ("fine", "gap"):
        ok = ledger.insert(job, NOW - 60, trigger="schedule", now=NOW - 60)
        ledger.start(ok.id, NOW - 60)
        ledger.finish(ok.id, RunStatus.SUCCEEDED, NOW - 59, exit_code=0)
    with pytest.raises(AckRefused, match="nothing to acknowledge"):
        acknowledge(ledger.conn, "fine", {"by": "ana@box"}, NOW)
    assert "1 missed run" in acknowledge(ledger.conn, "gap", {"by": "ana@box"}, NOW)  # its newest run succeeded
