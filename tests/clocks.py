"""A clock for exact tests of schedules and policies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


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

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None,
                    on_time: Callable[[Callable[[], None]], None] | None = None) -> None:
        """Until the clock is moved to the end of the wait, or `wake`; then `on_time`, if the wait ran out (its
        `until` returns at once: the end has come)."""
        target = self._mono + max(0.0, seconds)
        await self._until(target, wake)
        if on_time is not None and self._mono >= target and not (wake and wake.is_set()):
            on_time(lambda: None)

    async def _until(self, target: float, wake: asyncio.Event | None) -> None:
        while self._mono < target and not (wake and wake.is_set()):
            self._changed.clear()
            await asyncio.sleep(0)
            if self._mono >= target or (wake and wake.is_set()):
                return
            try:
                await asyncio.wait_for(self._changed.wait(), 0.01)
            except TimeoutError:
                pass
