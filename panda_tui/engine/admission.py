"""The one admission rule: may this run start now? Pure, so every policy is tested alone.

Used wherever a run could start: in the scheduler (engine/flight.py) a slot that comes due, a manual
trigger, a catch-up slot, a retry that comes due, and the head of a job's queue when a run ends; and
`panda-tui run` and `exec` in their own process (engine/foreground_admission.py). The run is already a row
in the ledger when it is admitted: the answer starts it, queues it, or records it skipped.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from panda_tui.config import Job
from panda_tui.store.ledger import Trigger


class Action(StrEnum):
    START = "start"
    QUEUE = "queue"  # wait in the job's queue (or stay at its head)
    REPLACE = "replace"  # stop the active runs; this one starts when they have ended
    SKIP = "skip"  # record the run skipped, with the reason


@dataclass(frozen=True)
class Admission:
    action: Action
    reason: str | None = None


def admit(job: Job, *, active: Sequence[int], queued: int, paused: bool, trigger: Trigger,
          accepted: bool = False, head: bool = False, in_order: bool = False,
          catching_up: Collection[int] = ()) -> Admission:
    """Decide for one candidate run of `job`.

    active: ids of the job's runs in progress; queued: how many wait in its queue besides the candidate.
    accepted: the run was accepted earlier (a retry that came due, or the head of the queue): a pause
    holds it until resume instead of skipping it. head: it is the head of the job's queue, so it waits for
    room instead of being skipped. in_order: catch-up "all" runs missed slots one after another, whatever
    the concurrency policy. catching_up: those of `active` that are catch-up runs, named so in a reason (a
    slot skipped behind a catch-up run is the overlap policy at work, and says so). A paused job starts
    nothing but a manual trigger."""
    if paused and trigger != Trigger.MANUAL:
        return Admission(Action.QUEUE, "paused") if accepted or head else Admission(Action.SKIP, "paused")
    ids = ", ".join(map(str, active))
    named = active_words(active, catching_up)
    room = not active or (job.concurrency == "allow" and len(active) < job.max_concurrent)
    if head:
        return Admission(Action.START) if room else Admission(Action.QUEUE, f"behind {named}")
    if in_order:
        return Admission(Action.START) if not active and not queued else Admission(Action.QUEUE, "in order")
    if not active:
        if queued and job.concurrency == "queue":
            return _queue(job, queued, "behind the queue")
        return Admission(Action.START)
    if room:
        return Admission(Action.START)
    if job.concurrency == "allow":
        return Admission(Action.SKIP, f"overlap: max_concurrent {job.max_concurrent} reached (runs {ids})")
    if job.concurrency == "queue":
        return _queue(job, queued, f"behind {named}")
    if job.concurrency == "replace":
        return Admission(Action.REPLACE, f"replaces {named}")
    return Admission(Action.SKIP, f"overlap: {named} still running")


def active_words(active: Sequence[int], catching_up: Collection[int] = ()) -> str:
    """`run 7`, `run 7, 9`; `catch-up run 41` when every one of them is a catch-up run."""
    word = "catch-up run" if active and all(i in catching_up for i in active) else "run"
    return f"{word} {', '.join(map(str, active))}"


def _queue(job: Job, queued: int, where: str) -> Admission:
    if queued >= job.queue_max:
        return Admission(Action.SKIP, f"queue full ({job.queue_max} waiting)")
    return Admission(Action.QUEUE, where)
