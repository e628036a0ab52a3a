"""When each job fires next, and when each waiting retry is due: two heaps, no SQL.

A job's entries carry a generation: a reload that changes the job bumps it, so stale entries are dropped
when they surface instead of being searched for and removed.
"""

from __future__ import annotations

import heapq
import zlib
from collections import defaultdict
from typing import Any
from datetime import datetime, timezone

from panda_tui.config import Job

MAX_SLOTS_SCANNED = 10_000


def offset(job: Job) -> float:
    """A stable per-job jitter offset in [0, jitter): the same on every start of every scheduler."""
    if not job.jitter:
        return 0.0
    return (zlib.crc32(job.name.encode()) % 10_000) / 10_000 * job.jitter


def slots_until(job: Job, after: float, now: float) -> list[float]:
    """The job's slots after `after` whose (jittered) fire time has passed by `now`, oldest first, bounded."""
    slots: list[float] = []
    shift = offset(job)
    for t in job.schedule.iter_after(_dt(after)):
        if t.timestamp() + shift > now or len(slots) >= MAX_SLOTS_SCANNED:
            break
        slots.append(t.timestamp())
    return slots


def following(job: Job, after: float) -> float:
    """The job's first slot after `after` (unjittered)."""
    return job.schedule.next_after(_dt(after))[0].timestamp()


class Timeline:
    def __init__(self) -> None:
        # (fire instant, job, generation, slot, the slot after it): the slot after is worked out when the slot is
        # planned, a period ahead, so a batch of slots coming due costs no schedule arithmetic
        self._heap: list[tuple[float, str, int, float, float]] = []
        self._gen: dict[str, int] = defaultdict(int)
        self._retries: list[tuple[float, int]] = []  # (due, run id)
        self.last_slot: dict[str, float] = {}  # the newest slot handled per job, this process

    def plan(self, job: Job, after: float, slot: float | None = None) -> None:
        """Queue the job's first slot after `after` (nothing for a disabled job); `slot`: that slot, when the
        caller knows it already."""
        if not job.enabled:
            return
        slot = following(job, after) if slot is None else slot
        heapq.heappush(self._heap, (slot + offset(job), job.name, self._gen[job.name], slot, following(job, slot)))

    def replan(self, name: str, job: Job | None, now: float) -> None:
        """The job changed or went away: forget its pending slot, plan the new one."""
        self._gen[name] += 1
        if job is not None:
            self.plan(job, self.last_slot.get(name, now))

    def pop_due(self, now: float) -> tuple[str, float, float] | None:
        """The next (job name, slot, the job's slot after it) whose fire time has come, skipping stale entries."""
        while self._heap and self._heap[0][0] <= now:
            _, name, gen, slot, after = heapq.heappop(self._heap)
            if gen == self._gen[name]:
                return name, slot, after
        return None

    def add_retry(self, due: float, run_id: int) -> None:
        heapq.heappush(self._retries, (due, run_id))

    def pop_due_retries(self, now: float) -> list[int]:
        due = []
        while self._retries and self._retries[0][0] <= now:
            due.append(heapq.heappop(self._retries)[1])
        return due

    def next_at(self) -> float | None:
        """The earliest instant anything is due."""
        heads = [h[0][0] for h in (self._heap, self._retries) if h]
        return min(heads) if heads else None

    def checkpoint(self) -> tuple[Any, ...]:
        """A copy to go back to if the decisions taken from here cannot be written."""
        return list(self._heap), dict(self.last_slot)

    def restore(self, saved: tuple[Any, ...]) -> None:
        self._heap, self.last_slot = list(saved[0]), dict(saved[1])


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)
