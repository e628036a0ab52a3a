"""Time for the scheduler and its helpers: wall clock for slots, monotonic for sleeps; injectable, so tests
of schedules and policies are exact (tests/clocks.py has a clock that moves only when told to)."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


LAND_EARLY = 0.002
PRECISE_BELOW = 0.003
# Before a slot (`exact`), the timer is set this much earlier, and the rest is waited for awake: waking up on a
# busy machine (a free core, then Python's lock) takes milliseconds, which a slot would otherwise start late by.
SPIN_AHEAD = 0.006
SPIN_GAP = 0.1  # at most one such wait per this long (SPIN_AHEAD of CPU in SPIN_GAP: 6 % of a core at worst)


class Clock(Protocol):
    def now(self) -> float: ...  # wall clock, epoch seconds

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None, exact: bool = False) -> None: ...


class SystemClock:
    def __init__(self) -> None:
        self._spun_at = -SPIN_GAP  # when the last wait awake ended (monotonic)

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None, exact: bool = False) -> None:
        """Sleep on the monotonic clock; return early when `wake` is set.

        epoll rounds timeouts up to whole milliseconds, so a timer fires up to 1 ms late. Long sleeps
        end LAND_EARLY before the target (the caller loops), and the last stretch is a short blocking
        sleep that lands on time. With `exact` (a slot is due at the end), they end SPIN_AHEAD before it
        and the last stretch is waited for awake, with no wake-up to be late by, unless one such wait
        ended less than SPIN_GAP ago."""
        seconds = max(0.0, seconds)
        if seconds <= 0:
            await asyncio.sleep(0)  # nothing to wait for, but the loop runs once: signals, runs' tasks, a stop
            return
        awake = exact and time.monotonic() - self._spun_at >= SPIN_GAP
        if awake and seconds <= SPIN_AHEAD:
            self._spun_at = _spin(seconds)
            return
        if seconds <= PRECISE_BELOW:
            time.sleep(seconds)
            return
        target = seconds - (SPIN_AHEAD if awake else LAND_EARLY)
        if wake is None:
            await asyncio.sleep(target)
            return
        try:
            await asyncio.wait_for(wake.wait(), timeout=target)
        except TimeoutError:
            pass


def _spin(seconds: float) -> float:
    """Wait `seconds` without sleeping; returns when it ended (monotonic)."""
    end = time.monotonic() + seconds
    while (now := time.monotonic()) < end:
        pass
    return now


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
