"""The scheduler this console runs, or may start (S) while none runs: when it may, and hearing it die."""

from __future__ import annotations

from collections.abc import Callable

from panda_tui.tui.controls import NO_SCHEDULER
from panda_tui.tui.mode import ConsoleMode
from panda_tui.tui.services import Services


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def may_start_here(services: Services) -> bool:
    """A daemon held the store last and none runs now: this console did not embed one by itself."""
    snap = services.latest.snapshot
    return (services.starter is not None and services.mode is ConsoleMode.ATTACHED
            and snap is not None and snap.holder is None)


def why_not_here(services: Services) -> str:
    """What S answers in a console that may not start a scheduler now (it is never silently ignored)."""
    if services.read_only:
        return f"read-only: {services.read_only_reason}; keys that act are off"
    if services.mode is ConsoleMode.EMBEDDED:
        return "this console runs the scheduler already; quitting stops it"
    snap = services.latest.snapshot
    return services.controls.attached() if snap is not None and snap.holder else services.controls.no_scheduler()


def no_scheduler_notice(services: Services) -> str:
    """What the notice line says while an attached console sees no scheduler: S when it may start one."""
    if may_start_here(services):
        return f"{NO_SCHEDULER}: press S to run the scheduler here"
    return f"{NO_SCHEDULER}: nothing runs on time until `panda-tui daemon` starts"


def watch(services: Services, said: Callable[[str], object]) -> None:
    """The scheduler this console runs says at once when its loop dies (its lease would take 10 s to lapse,
    and nothing would run meanwhile). `said` runs on the scheduler's thread: it must be thread-safe."""
    scheduler = services.scheduler
    if scheduler is None:
        return

    def died(error: BaseException) -> None:
        said(describe(error))

    scheduler.on_error = died
    if scheduler.error is not None:  # died before the hook was set
        died(scheduler.error)
