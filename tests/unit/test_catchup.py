"""What happens to slots that passed while no scheduler looked: the catch-up decision alone."""

from __future__ import annotations

import pytest

from panda_tui.config import Job
from panda_tui.engine.catchup import MAX_CATCHUP_ALL, decide
from panda_tui.schedule import Schedule

NOW = 10_000.0
SLOTS = [NOW - 300, NOW - 200, NOW - 100]


def job(policy: str, deadline: float = 600.0) -> Job:
    return Job(name="j", schedule=Schedule("@daily"), catchup=policy, starting_deadline=deadline)


@pytest.mark.parametrize("policy, actions", [
    ("none", ["missed", "missed", "missed"]),
    ("latest", ["missed", "missed", "run"]),
    ("all", ["run", "run", "run"]),
])
def test_each_policy(policy, actions):
    decisions = decide(job(policy), SLOTS, NOW, "scheduler down")
    assert [d.action for d in decisions] == actions
    assert [d.slot for d in decisions] == SLOTS
    assert all(d.reason.startswith("scheduler down; ") for d in decisions if d.action == "missed")


def test_latest_misses_a_newest_slot_past_its_deadline():
    (*_, newest) = decide(job("latest", deadline=50), SLOTS, NOW, "down")
    assert newest.action == "missed" and "past starting_deadline (100s late)" in newest.reason


def test_all_runs_at_most_the_newest_hundred():
    slots = [float(i) for i in range(MAX_CATCHUP_ALL + 5)]
    decisions = decide(job("all"), slots, NOW, "down")
    assert [d.action for d in decisions[:5]] == ["missed"] * 5
    assert all(d.action == "run" for d in decisions[5:]) and len(decisions) == len(slots)


def test_nothing_passed_nothing_decided():
    assert decide(job("all"), [], NOW, "down") == []
