"""Noise control, as pure functions of outcomes and the time (Alertmanager's words where they fit):
`after` (the Nth bad run in a row alerts first), `repeat_after`, `group_wait`, maintenance windows and
acknowledgements (flapping is store.verdicts', the same definition the console and `status` use). The alerter reads the store and asks these; tests ask them on a fake clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from panda_tui.config.model import Maintenance
from panda_tui.store.acks import Ack


def streak(bad_newest_first: Iterable[bool]) -> int:
    """How many bad runs in a row, counting back from the newest."""
    count = 0
    for bad in bad_newest_first:
        if not bad:
            break
        count += 1
    return count


def trouble_alerts(streak_len: int, after: int, last_alert_at: float | None, now: float, repeat_after: float) -> bool:
    """A bad run alerts from the `after`th in a row on; then again only once repeat_after has passed."""
    if streak_len < after:
        return False
    return last_alert_at is None or now - last_alert_at >= repeat_after


def recovery_alerts(previous_streak: int, after: int) -> bool:
    """A success says "recovered" only after a streak that was long enough to alert."""
    return previous_streak >= after


def release_at(open_group_release: float | None, now: float, group_wait: float) -> float:
    """When an event to a group_wait target goes out: with the group already waiting, else a new group in
    `group_wait` seconds. Every event of one group is released at the same instant, as one message."""
    if open_group_release is not None and open_group_release > now:
        return open_group_release
    return now + group_wait


@dataclass(frozen=True)
class Open:
    """A maintenance window open now, and when it closes."""
    window: Maintenance
    end: float


def window_at(windows: Iterable[Maintenance], job: str, now: float) -> Open | None:
    """The maintenance window covering `job` at `now` (the one closing last, if several), or None."""
    found: Open | None = None
    for window in windows:
        if window.jobs and job not in window.jobs:
            continue
        end = _open_until(window, now)
        if end is not None and (found is None or end > found.end):
            found = Open(window, end)
    return found


def _open_until(window: Maintenance, now: float) -> float | None:
    if window.schedule is None:
        if window.start is not None and window.end is not None and window.start <= now < window.end:
            return window.end
        return None
    since = datetime.fromtimestamp(now - window.duration, timezone.utc)
    opened = window.schedule.next_after(since, 1)  # the last opening at or before now, if in reach
    if opened and opened[0].timestamp() <= now < opened[0].timestamp() + window.duration:
        return opened[0].timestamp() + window.duration
    return None


def ack_silences(ack: Ack | None, now: float, last_success_at: float | None, alerted: bool = True) -> bool:
    """Whether an ack keeps a trouble or flapping alert from going out. One without a time silences the
    reminders of the streak it was given for (`alerted`: this streak's first alert went out), until the job
    succeeds after it; one with a time silences every such alert of the job until it runs out."""
    if ack is None or not ack.silences(now, last_success_at):
        return False
    return alerted or ack.until is not None
