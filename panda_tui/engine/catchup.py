"""What to do with slots that passed while no scheduler looked: a pure decision, tested alone."""

from __future__ import annotations

from dataclasses import dataclass

from panda_tui.config import Job

MAX_CATCHUP_ALL = 100


@dataclass(frozen=True)
class SlotDecision:
    slot: float
    action: str  # run | missed
    reason: str | None = None


def decide(job: Job, slots: list[float], now: float, why: str) -> list[SlotDecision]:
    """slots: passed slots, oldest first. `why` says how they came to pass unseen."""
    if not slots:
        return []
    if job.catchup == "all":
        cut = max(0, len(slots) - MAX_CATCHUP_ALL)
        older = [SlotDecision(s, "missed", f"{why}; catch-up runs at most the newest {MAX_CATCHUP_ALL}")
                 for s in slots[:cut]]
        return older + [SlotDecision(s, "run") for s in slots[cut:]]
    missed = [SlotDecision(s, "missed", f"{why}; catchup = {job.catchup}") for s in slots[:-1]]
    newest = slots[-1]
    if job.catchup == "latest" and now - newest <= job.starting_deadline:
        return missed + [SlotDecision(newest, "run")]
    if job.catchup == "latest":
        reason = f"{why}; newest slot is past starting_deadline ({int(now - newest)}s late)"
        return missed + [SlotDecision(newest, "missed", reason)]
    return missed + [SlotDecision(newest, "missed", f"{why}; catchup = none")]
