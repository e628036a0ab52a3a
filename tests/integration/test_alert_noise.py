"""Noise control through the real ledger, outbox and HTTP delivery, on a fake clock: after, flapping,
group_wait, maintenance windows."""

from __future__ import annotations

import textwrap

import pytest

from panda_tui.store import outbox
from panda_tui.store.ledger import RunStatus
from tests.integration.http_server import Recorder
from tests.integration.test_alerts import T0, World, deliver_all


@pytest.fixture
def server():
    recorder = Recorder()
    yield recorder
    recorder.close()


class Jobs(World):
    """World with several jobs, each failing or passing on demand."""

    def run_job(self, job: str, status: str, duration: float = 1.0) -> int:
        now = self.clock.now()
        rid = self.book.insert(job, now, trigger="schedule", now=now).id
        if status != "missed":
            self.book.start(rid, now)
        self.clock.advance(duration)
        self.book.finish(rid, RunStatus(status), self.clock.now(), exit_code=0 if status == "succeeded" else 1,
                         reason=None if status == "succeeded" else f"{job} {status}")
        return rid

    def events_of(self, target: str = "ops") -> list[tuple[str, str]]:
        return [(i["job"], i["event"]) for i in reversed(outbox.listing(self.conn, 1000)) if i["target"] == target]

    async def deliver(self) -> None:
        deliverer = self.deliverer()
        await deliver_all(deliverer)
        await deliverer.close()


def world(tmp_path, url: str, target: str = "", jobs: tuple[str, ...] = ("j",), job: str = "", top: str = "") -> Jobs:
    tables = "".join(f'\n[jobs.{name}]\nschedule = "@daily"\ncommand = "true"\nalerts = ["ops"]\n{job}\n'
                     for name in jobs)
    text = textwrap.dedent(f"""
        [alerts.ops]
        url = "{url}/hook"
        on = ["failed", "missed", "recovered", "flapping"]
        {target}
        """) + tables + textwrap.dedent(top)
    return Jobs(tmp_path, text)


def test_after_3_alerts_at_the_third_failure_and_recovery_once(tmp_path, server):
    w = world(tmp_path, server.url, job="after = 3")
    w.run_job("j", "failed")
    w.run_job("j", "failed")
    assert w.events_of() == []
    w.run_job("j", "failed")
    assert w.events_of() == [("j", "failed")]
    w.run_job("j", "succeeded")
    assert w.events_of() == [("j", "failed"), ("j", "recovered")]
    for _ in range(9):  # the failures leave the last ten (else F F F S F S flaps, as the console says)
        w.run_job("j", "succeeded")
    w.run_job("j", "failed")
    w.run_job("j", "succeeded")  # a streak too short to alert does not recover either
    assert w.events_of() == [("j", "failed"), ("j", "recovered")]


def test_a_flapping_job_raises_one_flapping_alert(tmp_path, server):
    w = world(tmp_path, server.url)
    for _ in range(6):
        w.run_job("j", "failed")
        w.run_job("j", "succeeded")
    assert w.events_of() == [("j", "failed"), ("j", "recovered"), ("j", "failed"), ("j", "recovered"),
                             ("j", "flapping")]  # four flips: then one alert, not a stream


async def test_group_wait_sends_five_failures_of_one_slot_as_one_message(tmp_path, server):
    names = ("a", "b", "c", "d", "e")
    w = world(tmp_path, server.url, target='group_wait = "30s"', jobs=names)
    for name in names:
        w.run_job(name, "failed")
    await w.deliver()
    assert server.requests == []  # the group waits
    w.clock.advance(30)
    await w.deliver()
    (message,) = server.requests
    assert message["json"]["event"] == "group"
    assert [a["job"] for a in message["json"]["alerts"]] == list(names)
    assert all(i["delivered_at"] for i in outbox.listing(w.conn))


async def test_a_maintenance_window_holds_alerts_then_sends_one_summary(tmp_path, server):
    start = T0 + 60
    w = world(tmp_path, server.url, jobs=("db", "web"), top=f"""
        [[maintenance]]
        name = "db upgrade"
        start = {start}
        end = {start + 3600}
        jobs = ["db"]
        """)
    w.clock.set(start)
    w.run_job("db", "failed")
    w.run_job("db", "missed")  # a slot missed in the window is not an alarm
    w.run_job("web", "failed")  # not in the window: alerts now
    await w.deliver()
    assert [r["json"]["job"] for r in server.requests] == ["web"]
    w.clock.set(start + 3600)
    await w.deliver()
    summary = server.requests[-1]["json"]
    assert summary["event"] == "group" and summary["window"] == "db upgrade"
    assert [(a["job"], a["event"]) for a in summary["alerts"]] == [("db", "failed")]


def test_a_drop_window_sends_nothing(tmp_path, server):
    w = world(tmp_path, server.url, top=f"""
        [[maintenance]]
        schedule = "* * * * *"
        duration = "1m"
        during = "drop"
        """)
    w.run_job("j", "failed")
    assert w.events_of() == []


def test_an_ack_silences_reminders_until_recovery_which_is_still_said(tmp_path, server):
    from panda_tui.store.acking import acknowledge
    w = world(tmp_path, server.url, job='repeat_after = "10m"')
    w.run_job("j", "failed")
    with w.db.transaction() as conn:
        answer = acknowledge(conn, "j", {"by": "ana@box", "note": "on it"}, w.clock.now())
    assert answer == 'acknowledged "j" by ana@box until its next success: on it'
    w.clock.advance(3600)
    w.run_job("j", "failed")  # a reminder was due: silenced
    assert w.events_of() == [("j", "failed")]
    w.run_job("j", "succeeded")
    w.run_job("j", "failed")  # a new streak: the ack was for the last one
    assert w.events_of() == [("j", "failed"), ("j", "recovered"), ("j", "failed")]


async def test_an_ack_takes_back_the_job_s_alerts_still_waiting_to_go_out(tmp_path, server):
    """Decided before the ack, not sent yet (a daemon stopped first, an endpoint down): the person is on it."""
    from panda_tui.store.acking import acknowledge
    w = world(tmp_path, server.url, jobs=("j", "k"))
    w.run_job("j", "failed")
    w.run_job("k", "failed")
    with w.db.transaction() as conn:
        acknowledge(conn, "j", {"by": "ana@box"}, w.clock.now())
    await w.deliver()
    assert [r["json"]["job"] for r in server.requests] == ["k"]
    taken_back = [i for i in outbox.listing(w.conn) if i["job"] == "j"]
    assert [(i["delivered_at"], i["last_error"]) for i in taken_back] == [(None, "withdrawn: acknowledged by ana@box")]
    await w.deliver()  # and it stays taken back
    assert len(server.requests) == 1


def test_an_ack_for_a_while_runs_out(tmp_path, server):
    from panda_tui.store.acking import acknowledge
    w = world(tmp_path, server.url, job='repeat_after = "10m"')
    w.run_job("j", "failed")
    with w.db.transaction() as conn:
        acknowledge(conn, "j", {"by": "ana@box", "for": 1800}, w.clock.now())
    w.clock.advance(1200)
    w.run_job("j", "failed")
    assert w.events_of() == [("j", "failed")]
    w.clock.advance(1200)
    w.run_job("j", "failed")
    assert w.events_of() == [("j", "failed"), ("j", "failed")]


def test_the_flapping_alert_and_the_console_s_flapping_word_come_at_the_same_run(tmp_path, server):
    """One definition (store.verdicts): failed 3 times in a row, then passing and failing in turn."""
    from panda_tui.readmodel.health import job_health
    w = world(tmp_path, server.url)
    states = []
    for status in ("failed", "failed", "failed", "succeeded", "failed", "succeeded"):
        w.run_job("j", status)
        states.append(job_health(w.conn, w.config.jobs["j"], w.clock.now()).state)
    assert states[-1] == "flapping" and "flapping" not in states[:-1]
    assert w.events_of()[-1] == ("j", "flapping")  # at that run, not a recovery
    assert ("j", "flapping") not in w.events_of()[:-1]


def test_failed_attempts_whose_retries_succeed_do_not_make_a_job_flap(tmp_path, server):
    """Flapping counts a slot by its final outcome, as the console and `status` do (store.verdicts.by_slot):
    a job whose first attempts fail now and then and whose retries succeed raises no `flapping` alert."""
    w = world(tmp_path, server.url, job="retries = 1")

    def retried_slot() -> None:
        now = w.clock.now()
        first = w.book.insert("j", now, trigger="schedule", now=now).id
        w.book.start(first, now)
        w.clock.advance(1)
        w.book.finish(first, RunStatus.FAILED, w.clock.now(), exit_code=3, reason="exit 3")
        retry = w.book.insert("j", now, trigger="retry", now=w.clock.now(), attempt=2).id
        w.book.start(retry, w.clock.now())
        w.clock.advance(1)
        w.book.finish(retry, RunStatus.SUCCEEDED, w.clock.now(), exit_code=0)

    for _ in range(4):
        retried_slot()
        w.run_job("j", "succeeded")
    assert ("j", "flapping") not in w.events_of()


def test_a_flapping_job_can_be_acked_and_an_ack_for_a_while_holds_through_its_successes(tmp_path, server):
    from panda_tui.store.acking import acknowledge
    w = world(tmp_path, server.url, job='repeat_after = "10m"')
    for status in ("failed", "failed", "failed", "succeeded", "failed", "succeeded"):
        w.run_job("j", status)
    assert w.events_of()[-1] == ("j", "flapping")
    with w.db.transaction() as conn:
        answer = acknowledge(conn, "j", {"by": "ana@box", "for": 7200}, w.clock.now())
    assert answer.startswith('acknowledged "j" by ana@box for 2h')
    sent = len(w.events_of())
    for _ in range(3):
        w.clock.advance(1200)  # each past repeat_after: a reminder would be due
        w.run_job("j", "failed")
        w.run_job("j", "succeeded")
    assert len(w.events_of()) == sent  # held for its time, successes included
    w.clock.advance(7200)
    w.run_job("j", "failed")
    assert w.events_of()[-1] == ("j", "flapping")  # run out: it speaks again
