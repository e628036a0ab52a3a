"""The one admission rule, alone: every policy × paused × trigger, for new runs, retries and queue heads."""

from __future__ import annotations

import pytest

from panda_tui.config import Job
from panda_tui.engine.admission import Action, admit
from panda_tui.schedule import Schedule

START, QUEUE, REPLACE, SKIP = Action.START, Action.QUEUE, Action.REPLACE, Action.SKIP
POLICIES = ("forbid", "allow", "replace", "queue")
TRIGGERS = ("schedule", "manual", "retry", "catchup")


def job(policy: str, **extra) -> Job:
    return Job(name="j", schedule=Schedule("@daily"), concurrency=policy, **extra)


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("trigger", TRIGGERS)
def test_an_idle_job_starts_whatever_its_policy(policy, trigger):
    assert admit(job(policy), active=[], queued=0, paused=False, trigger=trigger).action == START


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("trigger", ("schedule", "retry", "catchup"))
def test_a_paused_job_skips_new_slots_and_holds_accepted_runs(policy, trigger):
    new = admit(job(policy), active=[], queued=0, paused=True, trigger=trigger)
    assert (new.action, new.reason) == (SKIP, "paused")
    accepted = admit(job(policy), active=[], queued=0, paused=True, trigger=trigger, accepted=True)
    assert (accepted.action, accepted.reason) == (QUEUE, "paused")
    head = admit(job(policy), active=[], queued=0, paused=True, trigger=trigger, head=True)
    assert (head.action, head.reason) == (QUEUE, "paused")  # a paused job starts nothing, queued runs included


@pytest.mark.parametrize("policy", POLICIES)
def test_a_manual_trigger_runs_a_paused_job_once(policy):
    assert admit(job(policy), active=[], queued=0, paused=True, trigger="manual").action == START


@pytest.mark.parametrize("policy, expected, reason", [
    ("forbid", SKIP, "overlap: run 7 still running"),
    ("allow", START, None),  # max_concurrent 2: room for one more
    ("replace", REPLACE, "replaces run 7"),
    ("queue", QUEUE, "behind run 7"),
])
@pytest.mark.parametrize("trigger", TRIGGERS)
def test_a_busy_job_follows_its_policy(policy, expected, reason, trigger):
    decision = admit(job(policy, max_concurrent=2), active=[7], queued=0, paused=False, trigger=trigger)
    assert (decision.action, decision.reason) == (expected, reason)


@pytest.mark.parametrize("policy, reason", [
    ("forbid", "overlap: catch-up run 41 still running"), ("replace", "replaces catch-up run 41"),
    ("queue", "behind catch-up run 41"),
])
def test_a_reason_names_the_catch_up_run_it_yields_to(policy, reason):
    decision = admit(job(policy), active=[41], queued=0, paused=False, trigger="schedule", catching_up=[41])
    assert decision.reason == reason


def test_allow_stops_at_max_concurrent():
    full = admit(job("allow", max_concurrent=2), active=[7, 8], queued=0, paused=False, trigger="schedule")
    assert (full.action, full.reason) == (SKIP, "overlap: max_concurrent 2 reached (runs 7, 8)")


def test_a_queue_is_bounded_and_keeps_its_order():
    busy = job("queue", queue_max=2)
    assert admit(busy, active=[7], queued=1, paused=False, trigger="schedule").action == QUEUE
    full = admit(busy, active=[7], queued=2, paused=False, trigger="schedule")
    assert (full.action, full.reason) == (SKIP, "queue full (2 waiting)")
    # nothing runs, but runs still wait (held by a pause that just ended): a new one goes behind them
    assert admit(busy, active=[], queued=1, paused=False, trigger="schedule").action == QUEUE


@pytest.mark.parametrize("policy", POLICIES)
def test_the_head_of_a_queue_starts_when_there_is_room_and_otherwise_waits(policy):
    assert admit(job(policy), active=[], queued=3, paused=False, trigger="schedule", head=True).action == START
    waiting = admit(job(policy), active=[7], queued=3, paused=False, trigger="schedule", head=True)
    assert (waiting.action, waiting.reason) == (QUEUE, "behind run 7")


def test_the_head_of_an_allow_queue_starts_beside_a_run_when_there_is_room():
    assert admit(job("allow", max_concurrent=2), active=[7], queued=0, paused=False, trigger="retry",
                 head=True).action == START


@pytest.mark.parametrize("policy", POLICIES)
def test_catch_up_all_runs_missed_slots_one_after_another(policy):
    first = admit(job(policy), active=[], queued=0, paused=False, trigger="catchup", in_order=True)
    later = admit(job(policy), active=[7], queued=0, paused=False, trigger="catchup", in_order=True)
    behind = admit(job(policy), active=[], queued=2, paused=False, trigger="catchup", in_order=True)
    assert (first.action, later.action, behind.action) == (START, QUEUE, QUEUE)


def test_a_retry_that_comes_due_follows_the_policy_like_a_new_slot():
    forbid = admit(job("forbid"), active=[7], queued=0, paused=False, trigger="retry", accepted=True)
    assert (forbid.action, forbid.reason) == (SKIP, "overlap: run 7 still running")
