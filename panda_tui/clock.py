"""Time for the scheduler and its helpers: wall clock for slots, monotonic for sleeps; injectable, so tests
of schedules and policies are exact (tests/clocks.py has a clock that moves only when told to)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol


LAND_EARLY = 0.002
PRECISE_BELOW = 0.003
# A wait that ends at a slot (`on_time`) hands over this much early: what the slot needs that does not depend on
# the time (its rows, but for their stamps) is made by then, and the rest is slept (see SystemClock._on_time).
AHEAD = 0.010
Until = Callable[[], None]  # returns at the end of a wait (at once after it)


class Clock(Protocol):
    def now(self) -> float: ...  # wall clock, epoch seconds

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None,
                    on_time: Callable[[Until], None] | None = None) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None,
                    on_time: Callable[[Until], None] | None = None) -> None:
        """Sleep on the monotonic clock; return early when `wake` is set.

        epoll rounds timeouts up to whole milliseconds, so a timer fires up to 1 ms late. Long sleeps
        end LAND_EARLY before the target (the caller loops), and the last stretch is a short blocking
        sleep that lands on time. `on_time(until)` (what a slot at the end of the wait is due for) is called
        AHEAD of the end, and `until` returns at the end exactly (see _on_time), unless `wake` ends the wait first."""
        seconds = max(0.0, seconds)
        if on_time is not None:
            await self._on_time(seconds, wake or asyncio.Event(), on_time)
            return
        if seconds <= 0:
            await asyncio.sleep(0)  # nothing to wait for, but the loop runs once: signals, runs' tasks, a stop
            return
        if seconds <= PRECISE_BELOW:
            time.sleep(seconds)
            return
        if wake is None:
            await asyncio.sleep(seconds - LAND_EARLY)
            return
        try:
            await asyncio.wait_for(wake.wait(), timeout=seconds - LAND_EARLY)
        except TimeoutError:
            pass

    async def _on_time(self, seconds: float, wake: asyncio.Event, on_time: Callable[[Until], None]) -> None:
        """Call `on_time` from a timer of the loop, not from this coroutine: a coroutine resumes only after
        whatever else the loop has ready (the output and ends of the runs before), a timer's callback in the
        pass its time comes. The timer is set AHEAD of the end: `on_time` does what it can before calling
        `until`, which sleeps the rest on the loop's thread (no pass of the loop comes between it and the end).
        Asleep, not awake: on a busy machine a thread that spins uses up its share of the cores and is preempted
        more often in what comes next (the stamps); in turns, the slots came later with the wait spun than
        slept. What `on_time` raises is raised here."""
        loop = asyncio.get_running_loop()
        end = time.monotonic() + seconds
        failed: list[BaseException] = []

        def arrive() -> None:
            try:
                on_time(lambda: _sleep_until(end))
            except BaseException as exc:  # raised by the sleeping coroutine, not lost in the loop's handler
                failed.append(exc)
            finally:
                wake.set()

        timer = loop.call_at(loop.time() + max(0.0, seconds - AHEAD), arrive)
        try:
            await wake.wait()
        finally:
            timer.cancel()
        if failed:
            raise failed[0]


def _sleep_until(end: float) -> None:
    """Return at `end` (monotonic), at once if it passed."""
    if (left := end - time.monotonic()) > 0:
        time.sleep(left)


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
