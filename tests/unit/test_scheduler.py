"""Scheduling policies on an injected clock with a fake runner and a real SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from datetime import datetime, timezone

import pytest

from panda_tui.clock import SystemClock
from panda_tui.config import load_config
from panda_tui.engine.ownership import LeaseHeld
from panda_tui.engine.scheduler import Scheduler
from panda_tui.engine.timeline import offset
from panda_tui.engine.wiring import build
from panda_tui.runners.base import Outcome
from panda_tui.store import connect, control, ledger, outbox, state
from tests.clocks import FakeClock
from tests.fakes import FakeRunners, eventually
from tests.jobfiles import write_jobs

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc).timestamp()


class Harness:
    def __init__(self, tmp_path, toml: str, start: float = T0):
        cfg, self.db = write_jobs(tmp_path, toml)
        self.cfg_path = Path(cfg)
        self.clock = FakeClock(start)
        self.runners = FakeRunners()
        self.sched: Scheduler | None = None

    def build(self) -> Scheduler:
        return build(load_config(str(self.cfg_path)), self.db, clock=self.clock, runners=self.runners,
                     watch_config=False)

    async def open(self) -> Scheduler:
        self.sched = self.build()
        self.sched.acquire()
        await self.sched.start()
        await self.yield_to_runs()
        return self.sched

    async def yield_to_runs(self) -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    async def at(self, offset: float) -> None:
        self.clock.set(T0 + offset)
        await self.sched.tick()
        await self.yield_to_runs()  # let the runs' tasks reach their runner

    def request(self, kind: str, **kw) -> int:
        """Submit as a console or the CLI would: on a connection of its own."""
        conn = connect(self.db)
        try:
            return control.submit(conn, kind, **kw)
        finally:
            conn.close()

    def rows(self, job: str = "j"):
        return list(reversed(ledger.history(self.sched.conn, job, 1000)))

    def statuses(self, job: str = "j"):
        return [r.status for r in self.rows(job)]

    def finish(self, run_id: int, code: int = 0):
        self.runners.fake.finish(run_id, code)

    async def settled(self):
        await eventually(lambda: not self.sched.flight.executions())

    async def close(self):
        await self.sched.shutdown(grace=0.1)

    async def ran_once_then_stopped(self) -> None:
        """A scheduler that ran the 1:00 slot to success, then stopped (a catch-up's outage begins)."""
        await self.open()
        await self.at(60)
        await eventually(lambda: 1 in self.runners.fake.handles)
        self.finish(1)
        await self.settled()
        await self.close()

    @contextlib.asynccontextmanager
    async def looping(self, clock: FakeClock) -> AsyncIterator[None]:
        """The scheduler's own loop, on `clock`; on the way out the runs still in flight end, and the loop stops."""
        self.clock = clock
        self.sched = self.build()
        stop = asyncio.Event()
        loop = asyncio.create_task(self.sched.run(stop))
        try:
            yield
        finally:
            for execution in self.sched.flight.executions():  # a row is written before its run reaches the runner
                await eventually(lambda: execution.run_id in self.runners.fake.handles)
                self.finish(execution.run_id)
            stop.set()
            self.sched.wake()
            await loop


@pytest.fixture
async def harness(tmp_path):
    made = []

    async def make(toml: str, start: float = T0) -> Harness:
        h = Harness(tmp_path, toml, start)
        await h.open()
        made.append(h)
        return h

    yield make
    for h in made:
        try:
            await h.close()
        except Exception:  # a test that closed it itself
            pass


def job(extra: str = "", schedule: str = "* * * * *") -> str:
    return f'[jobs.j]\nschedule = "{schedule}"\ncommand = "true"\n{extra}\n'


async def test_a_slot_becomes_a_ledger_row_then_a_run_with_the_env_a_job_needs(harness):
    h = await harness(job())
    await h.at(60)
    await eventually(lambda: 1 in h.runners.fake.handles)
    env = h.runners.fake.handles[1].attempt.env
    assert env["PANDA_JOB"] == "j" and env["PANDA_RUN_ID"] == "1" and env["PANDA_ATTEMPT"] == "1"
    assert env["PANDA_SCHEDULED_AT"] == "2026-06-01T12:01:00Z" and env["PANDA_TRIGGER"] == "schedule"
    h.finish(1)
    await h.settled()
    (row,) = h.rows()
    assert (row.status, row.scheduled_at, row.lateness) == ("succeeded", T0 + 60, 0.0)


async def test_slots_due_together_are_all_written_before_any_is_announced(harness):
    """Each run of a batch is stamped right after the row before it: the bookkeeping of every run (its
    announcements, its start) comes once all of the batch's rows are written."""
    h = await harness("".join(job().replace("[jobs.j]", f"[jobs.j{n}]") for n in range(5)))
    rows_when_announced: list[int] = []
    h.sched.ledger.subscribe_in_transaction(lambda change, conn: rows_when_announced.append(
        conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]))
    await h.at(60)
    assert rows_when_announced == [5] * 10  # five runs, each announced queued then running
    assert sorted(r.status for n in range(5) for r in h.rows(f"j{n}")) == ["running"] * 5


async def test_the_loop_has_the_clock_fire_a_slot_at_its_time_and_waits_plainly_for_its_chores(tmp_path):
    h = Harness(tmp_path, job())
    clock = ExactClock(T0 + 30.1)
    async with h.looping(clock):
        await eventually(lambda: h.rows())
        ends = {slot: {round(end, 6) for _, end, s in clock.asked if s == slot} for slot in (True, False)}
        assert ends[True] == {T0 + 60}  # the waits that end at the slot, and only those, fire it at their end
        assert T0 + 60 not in ends[False] and len(ends[False]) > 100  # the control desk's pace, 4 a second
        assert [(r.scheduled_at, r.started_at) for r in h.rows()] == [(T0 + 60, T0 + 60)]


class AheadClock(FakeClock):
    """A FakeClock that moves on by itself as the loop sleeps, and calls a wait's `on_time` ahead of its end, as
    SystemClock does: `until` moves the clock to the end, after `probe` has looked at the store."""

    def __init__(self, start: float, probe):
        super().__init__(start)
        self.probe = probe

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None, on_time=None) -> None:
        if on_time is None:
            self.advance(seconds)
        else:
            ahead, end = min(seconds, 0.01), self.monotonic() + seconds
            self.advance(seconds - ahead)

            def until() -> None:  # at once once the end has come
                if self.monotonic() < end:
                    self.probe()
                    self.advance(end - self.monotonic())
            on_time(until)
        await asyncio.sleep(0)


async def test_a_slots_batch_is_made_ahead_in_its_open_unit_and_each_row_stamped_at_the_slot(tmp_path):
    h = Harness(tmp_path, "".join(job().replace("[jobs.j]", f"[jobs.j{n}]") for n in range(3)))
    seen: list[tuple[float, int, str]] = []  # at `until`: the time, the runs written, whether the store is free

    def probe() -> None:
        other = sqlite3.connect(h.db, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            lock = "free"
        except sqlite3.OperationalError:
            lock = "held"
        runs = other.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        other.close()
        seen.append((h.clock.now(), runs, lock))

    async with h.looping(AheadClock(T0 + 30.1, probe)):
        await eventually(lambda: all(h.rows(f"j{n}") for n in range(3)))
        assert seen[0] == (pytest.approx(T0 + 60 - 0.01), 0, "held")  # made ahead, in the unit: nothing written
        rows = [r for n in range(3) for r in h.rows(f"j{n}")]
        assert [(r.status, r.started_at) for r in rows] == [("running", T0 + 60)] * 3  # stamped at the slot


async def test_a_wait_for_a_slot_calls_it_from_the_loops_timer_never_early():
    clock = SystemClock()
    passes = 0

    async def busy() -> None:  # other work the loop has ready, one pass at a time
        nonlocal passes
        while True:
            passes += 1
            await asyncio.sleep(0)

    seen: list[tuple[int, float]] = []

    def on_time(until) -> None:
        seen.append((passes, time.monotonic()))  # ahead: the slot's batch is made
        until()
        seen.append((passes, time.monotonic()))  # the slot: its rows are stamped

    other = asyncio.ensure_future(busy())
    try:
        start = time.monotonic()
        await clock.sleep(0.02, on_time=on_time)
        seen.append((passes, time.monotonic()))
    finally:
        other.cancel()
    assert seen[0][0] == seen[1][0] < seen[2][0]  # called before the sleeping coroutine had its turn again
    assert seen[1][1] - start >= 0.02  # `until` returns never before its time
    with pytest.raises(ZeroDivisionError):  # what it raises, the sleep raises
        await clock.sleep(0.0, on_time=lambda until: 1 / 0)
    wake, called = asyncio.Event(), []
    asyncio.get_running_loop().call_soon(wake.set)
    await clock.sleep(30.0, wake, on_time=called.append)
    assert called == []  # a wait ended early calls nothing


async def test_forbid_skips_a_slot_while_a_run_is_active(harness):
    h = await harness(job())
    await h.at(60)
    await h.at(120)
    assert h.statuses() == ["running", "skipped"]
    assert h.rows()[1].reason == "overlap: run 1 still running"


async def test_forbid_skips_a_slot_while_an_exec_of_the_job_is_running(harness):
    from panda_tui.engine import owners
    h = await harness(job('concurrency = "forbid"'))
    with h.sched.ledger.transaction():  # as `panda-tui exec` records its run: owned by a live process
        queued = h.sched.ledger.insert("j", T0, trigger="external", now=T0, owner=owners.this_process())
        h.sched.ledger.start(queued.id, T0)
    await h.at(60)
    assert [(r.status, r.reason) for r in h.rows()] == [("running", None),
                                                        ("skipped", f"overlap: run {queued.id} still running")]
    assert not h.runners.fake.handles
    from panda_tui.store.db import Database
    from panda_tui.store.ledger import Ledger
    other = Database(h.db)  # the exec process records its end on a connection of its own
    try:
        Ledger(other).finish(queued.id, ledger.RunStatus.SUCCEEDED, T0 + 90)
    finally:
        other.close()
    await h.at(120)
    assert [r.status for r in h.rows()] == ["succeeded", "skipped", "running"]


async def test_allow_runs_up_to_max_concurrent(harness):
    h = await harness(job('concurrency = "allow"\nmax_concurrent = 2'))
    for minute in (1, 2, 3):
        await h.at(60 * minute)
    await eventually(lambda: len(h.runners.fake.handles) == 2)
    assert h.statuses() == ["running", "running", "skipped"]
    assert "max_concurrent 2 reached" in h.rows()[2].reason


async def test_replace_kills_the_active_run_then_starts_the_new_one(harness):
    h = await harness(job('concurrency = "replace"'))
    await h.at(60)
    await eventually(lambda: 1 in h.runners.fake.handles)
    await h.at(120)
    await eventually(lambda: 2 in h.runners.fake.handles)
    assert h.runners.fake.handles[1].stopped
    first, second = h.rows()
    assert (first.status, first.reason) == ("killed", "replaced by run 2")
    assert second.status == "running"


async def test_queue_starts_when_the_active_one_ends_and_is_bounded(harness):
    h = await harness(job('concurrency = "queue"\nqueue_max = 1'))
    await h.at(60)
    await h.at(120)
    await h.at(180)
    assert h.statuses() == ["running", "queued", "skipped"]
    assert h.rows()[2].reason == "queue full (1 waiting)"
    await eventually(lambda: 1 in h.runners.fake.handles)
    h.finish(1)
    await eventually(lambda: 2 in h.runners.fake.handles)
    assert h.statuses() == ["succeeded", "running", "skipped"]


async def test_retries_double_with_jitter_and_group_under_the_slot(harness):
    h = await harness(job('retries = 2\nretry_delay = "10s"'))
    await h.at(60)
    await eventually(lambda: 1 in h.runners.fake.handles)
    h.finish(1, 3)
    await eventually(lambda: len(h.rows()) == 2)
    retry = h.rows()[1]
    assert (retry.attempt, retry.trigger, retry.scheduled_at, retry.status) == (2, "retry", T0 + 60, "queued")
    assert 10 <= retry.not_before - (T0 + 60) <= 12.5
    await h.at(59 + 10)  # not yet due
    assert retry.id not in h.runners.fake.handles
    await h.at(60 + 12.5)
    await eventually(lambda: retry.id in h.runners.fake.handles)
    h.finish(retry.id, 1)
    await eventually(lambda: len(h.rows()) == 3)
    third = h.rows()[2]
    assert third.attempt == 3 and 20 <= third.not_before - (T0 + 72.5) <= 25
    await h.at(60 + 12.5 + 25)
    await eventually(lambda: third.id in h.runners.fake.handles)
    h.finish(third.id, 1)
    await h.settled()
    assert h.statuses() == ["failed", "failed", "failed"]  # retries = 2: three attempts, no fourth


async def test_a_slot_past_its_starting_deadline_is_missed(harness):
    h = await harness(job('starting_deadline = "30s"', schedule="@every 120s"))
    h.clock.set(T0 + 120 + 45)  # the loop woke 45 s late
    await h.sched.tick()
    (row,) = h.rows()
    assert row.status == "missed" and "starting_deadline" in row.reason


@pytest.mark.parametrize("policy, expected", [
    ("none", ["succeeded", "missed", "missed", "missed", "missed", "missed"]),
    ("latest", ["succeeded", "missed", "missed", "missed", "missed", "running"]),
    ("all", ["succeeded", "running", "queued", "queued", "queued", "queued"]),
])
async def test_catch_up_after_an_outage(tmp_path, policy, expected):
    h = Harness(tmp_path, job(f'catchup = "{policy}"'))
    await h.ran_once_then_stopped()
    # down for five slots; the new scheduler comes up at 6:30
    h.clock.set(T0 + 6 * 60 + 30)
    await h.open()
    assert h.statuses() == expected
    missed = [r for r in h.rows() if r.status == "missed"]
    assert all("scheduler down from" in r.reason for r in missed)
    assert {r.trigger for r in h.rows()[1:]} <= {"catchup", "schedule"}
    assert [r.scheduled_at - T0 for r in h.rows()] == [60, 120, 180, 240, 300, 360]


async def test_latest_catch_up_respects_the_starting_deadline(tmp_path):
    h = Harness(tmp_path, job('starting_deadline = "20s"'))
    await h.open()
    await h.at(60)
    await h.close()
    h.clock.set(T0 + 3 * 60 + 30)
    await h.open()
    assert h.statuses() == ["killed", "missed", "missed"]
    assert "past starting_deadline" in h.rows()[-1].reason


async def test_a_slot_skipped_behind_a_catch_up_run_names_it_and_is_no_trouble(tmp_path):
    """Back 5 s before a slot: the catch-up of the slot missed runs at once, and the overlap policy skips the
    next slot while it goes on, as it would behind any run; the skip names the catch-up run, and neither the
    store's health (`status`, the console) nor the job's failure rate counts it."""
    from panda_tui.readmodel.health import all_health
    h = Harness(tmp_path, job('catchup = "latest"'))
    await h.ran_once_then_stopped()
    h.clock.set(T0 + 2 * 60 + 55)  # down over one slot (2:00), back 5 s before the next
    await h.open()
    await h.at(3 * 60)
    catch_up, skipped = h.rows()[1:]
    assert (catch_up.trigger, catch_up.status, catch_up.started_at) == ("catchup", "running", T0 + 2 * 60 + 55)
    assert (skipped.status, skipped.reason) == ("skipped", f"overlap: catch-up run {catch_up.id} still running")
    await eventually(lambda: catch_up.id in h.runners.fake.handles)
    h.finish(catch_up.id)
    await h.settled()
    (health,) = all_health(h.sched.conn, h.sched.config, h.clock.now())
    assert (health.words, health.trouble, health.failure_rate) == ("ok", False, 0.0)


async def test_clock_jumps_never_run_a_slot_twice(harness):
    h = await harness(job('catchup = "latest"'))
    await h.at(60)
    await eventually(lambda: 1 in h.runners.fake.handles)
    h.finish(1)
    await h.settled()
    h.clock.step_wall(3600)  # wall clock jumps an hour forward
    await h.sched.tick()
    await h.yield_to_runs()
    rows = h.rows()
    assert len(rows) == 61 and rows[-1].status == "running" and rows[-1].trigger == "catchup"
    assert all(r.status == "missed" for r in rows[1:-1])
    await eventually(lambda: rows[-1].id in h.runners.fake.handles)
    h.finish(rows[-1].id)
    await h.settled()
    h.clock.step_wall(-3600)  # and back again
    for _ in range(5):
        h.clock.advance(60)
        await h.sched.tick()
    slots = [r.scheduled_at for r in h.rows()]
    assert len(slots) == len(set(slots)) == 61


async def test_two_schedulers_race_for_the_lease(tmp_path):
    h = Harness(tmp_path, job())
    first, second = h.build(), h.build()
    first.acquire()
    with pytest.raises(LeaseHeld, match="another scheduler holds this database"):
        second.acquire()
    h.clock.advance(11)  # the holder died: no heartbeat for longer than the TTL
    second.acquire()
    assert not first.ownership.renew()  # the old holder finds itself replaced
    for sched in (first, second):
        await sched.shutdown()


async def test_a_broken_reload_keeps_the_last_good_config(harness):
    h = await harness(job())
    h.cfg_path.write_text('[jobs.j]\nschedule = "0 0 31 2 *"\ncommand = "true"\n')
    ok, message = await h.sched.reload("test")
    assert not ok and "never fires" in message
    assert state.get_meta(h.sched.conn, "config_errors")[0].startswith('jobs.toml: job "j": schedule')
    await h.at(60)
    assert h.statuses() == ["running"]  # the old schedule still fires
    h.cfg_path.write_text('[jobs.j]\nschedule = "@every 7s"\ncommand = "true"\n[jobs.k]\nschedule = "@daily"\ncommand = "true"\n')
    ok, message = await h.sched.reload("test")
    assert ok and message == "reloaded: 2 jobs"
    assert state.get_meta(h.sched.conn, "config_errors") == []


async def test_pause_survives_a_restart_and_resume_can_catch_up(tmp_path):
    h = Harness(tmp_path, job())
    await h.open()
    h.request("pause", job="j")
    await h.sched.take_control()
    await h.at(60)
    await h.close()
    h.clock.set(T0 + 61)
    await h.open()
    await h.at(120)
    assert h.statuses() == ["skipped", "skipped"]
    assert {r.reason for r in h.rows()} == {"paused"}
    rid = h.request("resume", job="j", args={"catchup": True})
    await h.sched.take_control()
    done = control.get(h.sched.conn, rid)
    assert done.error is None, done.error
    assert done.outcome.startswith("j resumed; run 3 started")
    run = ledger.get(h.sched.conn, 3)
    assert (run.trigger, run.scheduled_at, run.attempt) == ("catchup", T0 + 120, 2)


async def test_manual_trigger_with_at_and_unknown_job(harness):
    h = await harness(job())
    ok = h.request("trigger", job="j", args={"at": T0 - 3600})
    bad = h.request("trigger", job="nope")
    await h.sched.take_control()
    assert control.get(h.sched.conn, ok).outcome == "run 1 started"
    assert control.get(h.sched.conn, bad).error == 'no job named "nope" in the running config'
    await eventually(lambda: 1 in h.runners.fake.handles)
    assert h.runners.fake.handles[1].attempt.env["PANDA_SCHEDULED_AT"] == "2026-06-01T11:00:00Z"
    assert h.rows()[0].trigger == "manual"


async def test_a_bad_control_row_fails_alone_and_the_scheduler_goes_on(harness):
    h = await harness(job())
    bad = [h.request("trigger", job="j", args={"at": at}) for at in (float("nan"), 1e300, "soon", -1.0)]
    conn = connect(h.db)
    try:
        with conn:
            raw = [conn.execute("INSERT INTO control(kind, job, args, requested_by, requested_at)"
                                " VALUES (?, 'j', ?, 'test', 0)", row).lastrowid
                   for row in (("bogus", "{}"), ("trigger", "[1"), ("trigger", "[1, 2]"))]
    finally:
        conn.close()
    ok = h.request("trigger", job="j", args={"at": T0})
    await h.sched.take_control()
    for rid in bad:
        assert "expected a time from 1970-01-01 to 9999-12-31" in control.get(h.sched.conn, rid).error
    for rid in raw:
        error = h.sched.conn.execute("SELECT error FROM control WHERE id=?", (rid,)).fetchone()[0]
        assert error.startswith(f"malformed request {rid}: ")
    assert control.get(h.sched.conn, ok).outcome == "run 1 started"
    await h.at(60)  # the loop goes on
    assert len(h.rows()) == 2


async def test_kill_request_records_killed(harness):
    h = await harness(job())
    await h.at(60)
    await eventually(lambda: 1 in h.runners.fake.handles)
    rid = h.request("kill", job="j")
    await h.sched.take_control()
    await h.settled()
    assert control.get(h.sched.conn, rid).outcome == "killing run 1 (j)"
    assert (h.rows()[0].status, h.rows()[0].reason, h.rows()[0].exit_code) == ("killed", "killed on request", 143)


async def test_fall_back_through_the_scheduler_fires_a_fixed_job_once(tmp_path):
    start = datetime(2026, 10, 24, 23, 0, tzinfo=timezone.utc).timestamp()  # 01:00 CEST
    h = Harness(tmp_path, '[jobs.j]\nschedule = "30 2 * * *"\ntimezone = "Europe/Berlin"\ncommand = "true"\n', start)
    await h.open()
    for step in range(1, 20):  # every 15 minutes through the night
        h.clock.set(start + step * 900)
        await h.sched.tick()
        await h.yield_to_runs()
        for handle in h.runners.fake.handles.values():
            if not handle.done.done():
                handle.done.set_result(Outcome(0))
        await h.settled()
    rows = h.rows()
    assert len(rows) == 1 and rows[0].scheduled_at == datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc).timestamp()
    await h.close()


async def test_jitter_is_a_stable_per_job_offset(harness):
    h = await harness(job('jitter = "30s"'))
    shift = offset(h.sched.config.jobs["j"])
    assert 0 < shift < 30
    assert offset(load_config(str(h.cfg_path)).jobs["j"]) == shift  # the same every time, across restarts
    await h.at(60)
    assert h.rows() == []  # the slot at :01:00 waits for its offset
    await h.at(60 + shift)
    (row,) = h.rows()
    assert row.scheduled_at == T0 + 60 + shift and row.status == "running"


async def test_killing_a_queued_run_takes_it_out_of_the_queue(harness):
    h = await harness(job('concurrency = "queue"'))
    await h.at(60)
    await h.at(120)
    assert h.statuses() == ["running", "queued"]
    rid = h.request("kill", run_id=2)
    await h.sched.take_control()
    assert control.get(h.sched.conn, rid).outcome == "run 2 removed from the queue"
    await eventually(lambda: 1 in h.runners.fake.handles)
    h.finish(1)
    await h.settled()
    assert h.statuses() == ["succeeded", "killed"]  # it never started
    assert 2 not in h.runners.fake.handles


async def test_pause_holds_queued_runs_until_resume(harness):
    h = await harness(job('concurrency = "queue"'))
    await h.at(60)
    await h.at(120)
    assert h.statuses() == ["running", "queued"]
    paused = h.request("pause", job="j")
    await h.sched.take_control()
    assert control.get(h.sched.conn, paused).outcome.endswith("; 1 queued run wait for resume")
    await eventually(lambda: 1 in h.runners.fake.handles)
    h.finish(1)
    await h.settled()
    await h.at(180)  # a slot while paused is recorded skipped; the queued run stays queued
    assert h.statuses() == ["succeeded", "queued", "skipped"] and 2 not in h.runners.fake.handles
    h.request("resume", job="j")
    await h.sched.take_control()
    await eventually(lambda: 2 in h.runners.fake.handles)
    assert h.statuses() == ["succeeded", "running", "skipped"]


async def test_a_retry_that_comes_due_while_paused_waits_for_resume(harness):
    h = await harness(job('retries = 1\nretry_delay = "10s"'))
    await h.at(60)
    await eventually(lambda: 1 in h.runners.fake.handles)
    h.finish(1, 3)
    await eventually(lambda: len(h.rows()) == 2)
    h.request("pause", job="j")
    await h.sched.take_control()
    await h.at(60 + 30)  # the retry is due, but the job is paused
    assert h.statuses() == ["failed", "queued"] and 2 not in h.runners.fake.handles
    answer = h.request("resume", job="j")
    await h.sched.take_control()
    assert control.get(h.sched.conn, answer).outcome == "j resumed"
    await eventually(lambda: 2 in h.runners.fake.handles)
    assert h.statuses() == ["failed", "running"]


async def test_pausing_twice_or_resuming_a_running_job_says_so_and_changes_nothing(harness):
    h = await harness(job())
    answers = [h.request("resume", job="j"), h.request("pause", job="j"), h.request("pause", job="j")]
    await h.sched.take_control()
    outcomes = [control.get(h.sched.conn, a).outcome for a in answers]
    assert outcomes[0] == "j is not paused: nothing to resume"
    assert outcomes[1].startswith("j paused") and outcomes[2].startswith("j is already paused")


async def test_killing_a_queued_run_raises_its_killed_alert(harness):
    h = await harness('[alerts.ops]\nurl = "http://127.0.0.1:9/hook"\non = ["killed"]\n'
                      + job('concurrency = "queue"\nalerts = ["ops"]'))
    await h.at(60)
    await h.at(120)
    h.request("kill", run_id=2)
    await h.sched.take_control()
    assert h.statuses() == ["running", "killed"]
    alerts = [(item["event"], item["run_id"]) for item in outbox.listing(h.sched.conn)]
    assert alerts == [("killed", 2)]


class PacedClock(FakeClock):
    """A FakeClock that records how long the scheduler's loop asks to sleep, and yields each time."""

    def __init__(self, start: float):
        super().__init__(start)
        self.asked: list[float] = []

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None, on_time=None) -> None:
        self.asked.append(seconds)
        until = self.monotonic() + seconds
        await asyncio.sleep(0)  # a loop that asks for no sleep at all still lets the test look
        await super().sleep(until - self.monotonic(), wake, on_time)


class ExactClock(FakeClock):
    """A FakeClock that moves on by itself as the loop sleeps, and records each wait: (seconds, when it ends,
    whether it ends at a slot: an `on_time` to call)."""

    def __init__(self, start: float):
        super().__init__(start)
        self.asked: list[tuple[float, float, bool]] = []

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None, on_time=None) -> None:
        self.asked.append((seconds, self.now() + seconds, on_time is not None))
        self.advance(seconds)
        if on_time is not None:
            on_time(lambda: None)
        await asyncio.sleep(0)


def fill_up(conn) -> list[str]:
    """As a full disk looks to the scheduler's own connection: every write fails with SQLite's own words."""
    made = []
    tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"
                                         " AND name NOT LIKE 'sqlite%'")]
    for table in tables:
        for event in ("INSERT", "UPDATE", "DELETE"):
            made.append(f"full_{table}_{event.lower()}")
            conn.execute(f"CREATE TEMP TRIGGER {made[-1]} BEFORE {event} ON main.{table} BEGIN"
                         " SELECT RAISE(FAIL, 'database or disk is full'); END")
    return made


async def test_a_full_store_holds_the_due_slot_and_the_loop_retries_at_a_steady_pace(tmp_path):
    from panda_tui.engine.scheduler import STORE_RETRY_EVERY
    h = Harness(tmp_path, job())
    h.clock = PacedClock(T0)
    h.sched = h.build()
    stop = asyncio.Event()
    loop = asyncio.create_task(h.sched.run(stop))
    triggers: list[str] = []
    try:
        await eventually(lambda: h.clock.asked)
        triggers = fill_up(h.sched.conn)
        h.clock.set(T0 + 60)
        await eventually(lambda: h.sched.ctx.store.failing_since is not None)
        since = len(h.clock.asked)
        for _ in range(12):  # the slot stays due, the lease's heartbeat comes due: each pass waits its pace
            h.clock.advance(STORE_RETRY_EVERY)
            await eventually(lambda n=len(h.clock.asked): len(h.clock.asked) > n)
        paced = h.clock.asked[since:]
        assert paced and min(paced) >= STORE_RETRY_EVERY > 0, paced
        assert h.rows() == []
        for name in triggers:  # space again
            h.sched.conn.execute(f"DROP TRIGGER {name}")
        triggers = []
        h.clock.advance(STORE_RETRY_EVERY)
        await eventually(lambda: h.rows() and h.sched.ctx.store.failing_since is None)
        assert [(r.scheduled_at, r.status) for r in h.rows()] == [(T0 + 60, "running")]
        await eventually(lambda: h.rows()[0].id in h.runners.fake.handles)
        h.finish(h.rows()[0].id)
        await h.settled()
    finally:
        for name in triggers:
            h.sched.conn.execute(f"DROP TRIGGER {name}")
        stop.set()
        h.sched.wake()
        await loop


async def test_a_store_that_can_no_longer_be_written_stops_the_scheduler(harness):
    from panda_tui.engine.store_health import StoreFailed
    h = await harness(job())
    h.sched.conn.execute("PRAGMA query_only=1")  # the file became read-only under the scheduler
    with pytest.raises(StoreFailed, match="readonly database"):
        await h.at(60)
    h.sched.conn.execute("PRAGMA query_only=0")


async def test_a_job_added_by_reload_has_its_missed_slots_caught_up_after_a_restart(tmp_path):
    h = Harness(tmp_path, job())
    await h.open()
    h.cfg_path.write_text(h.cfg_path.read_text() + '[jobs.new]\nschedule = "* * * * *"\ncommand = "true"\n')
    ok, _ = await h.sched.reload("test")
    assert ok
    await h.close()  # down before the new job's first slot came
    h.clock.set(T0 + 3 * 60 + 30)
    await h.open()
    assert [r.status for r in h.rows("new")] == ["missed", "missed", "running"]
    assert all("scheduler down from" in r.reason for r in h.rows("new")[:2])


K = '[jobs.k]\nschedule = "@daily"\ncommand = "true"\n'


async def test_a_scheduler_starts_on_the_jobs_toml_on_disk_not_the_config_it_was_handed(tmp_path):
    """A console's S hands the config it read when it opened: a job deleted since must not run."""
    h = Harness(tmp_path, job() + K)
    handed = load_config(str(h.cfg_path))
    h.cfg_path.write_text(job())  # k deleted after the config was read
    h.sched = build(handed, h.db, clock=h.clock, runners=h.runners)  # watching the file, as every scheduler does
    h.sched.acquire()
    await h.sched.start()
    try:
        assert set(h.sched.config.jobs) == {"j"}
        assert set(state.running_config(h.sched.conn)["data"]["jobs"]) == {"j"}
        assert state.config_errors(h.sched.conn) == []
    finally:
        await h.close()


async def test_a_scheduler_started_on_a_refused_file_says_so_and_runs_the_last_good_config_stored(tmp_path):
    h = Harness(tmp_path, job() + K)
    await h.open()  # a daemon ran j and k (after a reload, say), then stopped
    await h.close()
    h.cfg_path.write_text(job())
    handed = load_config(str(h.cfg_path))  # what the console read when it opened: j alone
    h.cfg_path.write_text(job(schedule="0 0 31 2 *"))  # refused since
    h.sched = build(handed, h.db, clock=h.clock, runners=h.runners)
    h.sched.acquire()
    await h.sched.start()
    try:
        assert set(h.sched.config.jobs) == {"j", "k"}
        errors = state.config_errors(h.sched.conn)
        assert len(errors) == 1 and errors[0].startswith('jobs.toml: job "j": schedule'), errors
        assert set(state.running_config(h.sched.conn)["data"]["jobs"]) == {"j", "k"}
    finally:
        await h.close()
