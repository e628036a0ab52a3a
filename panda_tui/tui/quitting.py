"""Quitting a console that runs the scheduler stops its runs, so `q` asks first. What it would stop is counted
when `q` is pressed, not taken from the screen's last read of the store: that read can be seconds old, and a
run just asked for with `t` is in no read yet (nor perhaps in the store)."""

from __future__ import annotations

from panda_tui.tui.mode import ConsoleMode
from panda_tui.tui.services import Services


def going(services: Services) -> tuple[int, int]:
    """(runs of this console's scheduler in progress, triggers it asked for and not carried out yet).
    Blocking: it may read the store."""
    if services.mode is not ConsoleMode.EMBEDDED:
        return 0, 0
    scheduler, snap = services.scheduler, services.latest.snapshot
    if scheduler is not None:
        runs = scheduler.running  # the scheduler's own count: a run it started is in it before any read
    else:
        runs = sum(len(h.running) for h in snap.jobs) if snap is not None else 0
    return runs, services.controls.triggers_pending()


def question(runs: int, asked: int) -> str | None:
    """What to ask before quitting; None when nothing would be stopped."""
    if not runs and not asked:
        return None
    stopped = []
    if runs:
        stopped.append(f"{runs} run{'s' if runs != 1 else ''} in progress will be stopped: given up to 10 s to "
                       "finish, then SIGTERM, and SIGKILL after the job's grace")
    if asked:
        stopped.append(f"{asked} run{'s' if asked != 1 else ''} you asked for (t) "
                       f"{'has' if asked == 1 else 'have'} not started yet")
    return (f"Quit? This console runs the scheduler: {'; '.join(stopped)}. "
            "`panda-tui daemon` keeps jobs running without a console.")
