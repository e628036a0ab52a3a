"""Time for the scheduler: wall clock for slots, monotonic for sleeps; injectable for exact tests."""

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


class FakeClock:
    """A clock that moves only when told to. `step_wall` moves the wall clock alone (a clock jump)."""

    def __init__(self, start: float):
        self._wall = start
        self._mono = 1000.0
        self._changed = asyncio.Event()

    def now(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._wall += seconds
        self._mono += seconds
        self._changed.set()

    def set(self, wall: float) -> None:
        self.advance(wall - self._wall)

    def step_wall(self, seconds: float) -> None:
        self._wall += seconds
        self._changed.set()

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None) -> None:
        target = self._mono + max(0.0, seconds)
        while self._mono < target and not (wake and wake.is_set()):
            self._changed.clear()
            await asyncio.sleep(0)
            if self._mono >= target or (wake and wake.is_set()):
                return
            try:
                await asyncio.wait_for(self._changed.wait(), 0.01)
            except TimeoutError:
                pass
