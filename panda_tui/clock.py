"""Time for the scheduler and its helpers: wall clock for slots, monotonic for sleeps; injectable, so tests
of schedules and policies are exact (tests/clocks.py has a clock that moves only when told to)."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


LAND_EARLY = 0.002
PRECISE_BELOW = 0.003


class Clock(Protocol):
    def now(self) -> float: ...  # wall clock, epoch seconds

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None) -> None:
        """Sleep on the monotonic clock; return early when `wake` is set.

        epoll rounds timeouts up to whole milliseconds, so a timer fires up to 1 ms late. Long sleeps
        end LAND_EARLY before the target (the caller loops), and the last stretch is a short blocking
        sleep that lands on time."""
        seconds = max(0.0, seconds)
        if seconds <= 0:
            await asyncio.sleep(0)  # nothing to wait for, but the loop runs once: signals, runs' tasks, a stop
            return
        if seconds <= PRECISE_BELOW:
            time.sleep(seconds)
            return
        target = seconds - LAND_EARLY
        if wake is None:
            await asyncio.sleep(target)
            return
        try:
            await asyncio.wait_for(wake.wait(), timeout=target)
        except TimeoutError:
            pass


class Chores:
    """Periodic chores on the monotonic clock, so wall-clock jumps neither starve nor flood them."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def due(self, name: str, mono: float, every: float) -> bool:
        if mono - self._last.get(name, -1e18) >= every:
            self._last[name] = mono
            return True
        return False

    def left(self, name: str, mono: float, every: float) -> float:
        return self._last.get(name, mono) + every - mono
