"""What a job's finished runs say about it, one definition for every reader: which statuses are failures,
when a retry follows a failed attempt, what each slot came to (its final outcome), and when a job flaps. The console's `≈ flapping`, `status`'s word, the API's `state` (readmodel.health) and
the `flapping` alert (alerts.alerter) all ask `flaps` here, so they can never disagree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from panda_tui.store.ledger import Run, RunStatus

# What counts as a failure everywhere (status, the console's header and rows, the API, flapping). `killed` is
# a person's act, `missed` / `skipped` never ran: none of them says the job is broken.
FAILURES = (RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.LOST)
# A run killed on purpose says nothing of whether the job works, no more than a missed slot does.
NOT_A_VERDICT = (RunStatus.MISSED, RunStatus.KILLED)
RETRIED = (RunStatus.FAILED, RunStatus.TIMED_OUT)  # the outcomes a retry follows, while attempts are left
FLAP_WINDOW = 10  # flapping looks at the last 10 finished runs that are verdicts...
FLAP_FAILURES = 3  # ...of which 3 or more failed...
FLAP_FLIPS = 3  # ...while it went between failing and passing 3 or more times (one streak then a success is a
# recovery, not flapping)
FLAP_READS = 20  # ...among the job's 20 newest finished runs (a run of missed slots does not reach back further)


def retry_follows(run: Run, retries: int) -> bool:
    """A failed attempt with attempts left: the scheduler queues its retry (`retrying`, never `failing`)."""
    return run.status in RETRIED and run.attempt <= retries


def by_slot(runs_newest_first: Iterable[Run], retries: int = 0) -> list[Run]:
    """Each slot once, as its final outcome: its newest attempt (a slot whose retry succeeded is a success).
    The newest slot is left out while its failed attempt waits for a retry: it has no outcome yet. Flapping
    and failure rates count these, in the console, `status` and the alerts alike."""
    seen: set[float] = set()
    slots = []
    for run in runs_newest_first:
        if run.scheduled_at not in seen:
            seen.add(run.scheduled_at)
            slots.append(run)
    return slots[1:] if slots and retry_follows(slots[0], retries) else slots


@dataclass(frozen=True)
class Flaps:
    """The job's last FLAP_WINDOW verdicts: how many failed, of how many, and how often it changed."""
    failed: int
    finished: int
    flips: int

    @property
    def flapping(self) -> bool:
        return self.failed >= FLAP_FAILURES and self.flips >= FLAP_FLIPS


def flaps(statuses_newest_first: Iterable[str]) -> Flaps:
    """Flapping among a job's finished slots (by_slot), newest first (ledger.recent_outcomes' order: skipped
    slots and runs cancelled before they started are not in it; missed and killed runs are passed over here)."""
    newest = list(statuses_newest_first)[:FLAP_READS]
    window = [str(s) in FAILURES for s in newest if str(s) not in NOT_A_VERDICT][:FLAP_WINDOW]
    flips = sum(1 for a, b in zip(window, window[1:]) if a != b)
    return Flaps(failed=sum(window), finished=len(window), flips=flips)
