"""What an `ack` or `unack` request does: record who, when, until when and why. A note in the store, not an
action on a run: the scheduler carries it out, and when none runs the asker records it with the very same
code (control.ask), for the alerter to honour once a scheduler starts."""

from __future__ import annotations

import sqlite3
from typing import Any, Callable

from panda_tui.schedule import human_duration
from panda_tui.store import acks, ledger, outbox, state, verdicts
from panda_tui.store.ledger import TROUBLE
from panda_tui.store.missed import MISSED_WINDOW_S, missed_after
from panda_tui.text import iso

WITHDRAWN = (*(s.value for s in TROUBLE), "flapping")  # the alerts an ack takes back while they wait to go out


class AckRefused(Exception):
    """The message says why (no streak to acknowledge, nothing acknowledged)."""


def acknowledge(conn: sqlite3.Connection, job: str, args: dict[str, Any], now: float) -> str:
    """A failing job's streak, or a flapping job (store.verdicts, as the console and `status` say it)."""
    failing, flapping, missed = _trouble(conn, job, now)
    if not failing and not flapping and not missed:
        raise AckRefused(refusal(job))
    seconds = None if args.get("for") is None else float(args["for"])
    held = acks.get(conn, job)
    if seconds is None and held is not None and held.until is not None and now < held.until:
        return _kept(held)
    ack = acks.Ack(job=job, by=str(args.get("by") or "someone"), at=now,
                   until=None if seconds is None else now + seconds, note=str(args.get("note") or ""))
    acks.put(conn, ack)
    outbox.withdraw(conn, job, WITHDRAWN, now, f"withdrawn: acknowledged by {ack.by}")
    flaps = flapping and not failing and seconds is None
    advice = " (it flaps: `panda-tui ack JOB --for 2h` holds through successes)" if flaps else ""
    said = f'acknowledged "{job}" by {ack.by} {holds_words(ack, missed)}{advice}'
    return said + (f": {ack.note}" if ack.note else "")


UNTIL_SUCCESS = "until its next success"  # a plain ack (no --for): the words of every place that says how long


def holds_words(ack: acks.Ack, missed: int = 0, moment: Callable[[float], str] = iso) -> str:
    """How long an ack holds, the one way `status`, the `ack` answer and the console's questions and detail line
    say it: `until its next success` or `for 2h (until 2026-12-03T11:00:00Z)` (`moment` writes the time), and
    `missed` runs of the last 24 h it covers (those stay acknowledged after it ends): `…, and its 2 missed runs`."""
    held = UNTIL_SUCCESS
    if ack.until is not None:
        held = f"for {human_duration(ack.until - ack.at)} (until {moment(ack.until)})"
    return held + (f", and its {missed} missed {'run' if missed == 1 else 'runs'}" if missed else "")


def _trouble(conn: sqlite3.Connection, job: str, now: float) -> tuple[bool, bool, int]:
    """Whether it fails (or every run would: its image is missing), whether it flaps, and how many runs it
    missed in 24 h: what an ack can cover."""
    recent = ledger.recent_outcomes(conn, job, verdicts.FLAP_READS)
    failing = bool(recent) and recent[0].status in TROUBLE or _no_image(conn, job)
    flapping = verdicts.flaps(r.status for r in verdicts.by_slot(recent)).flapping
    return failing, flapping, missed_after(conn, job, now - MISSED_WINDOW_S).count


def _no_image(conn: sqlite3.Connection, job: str) -> bool:
    """The scheduler's last check found the engine of this pull = "never" job without its image (the config it
    runs and that check are both in the store). An ack of it ends at its next success, once the image is there."""
    config = state.last_good_config(conn, channels=False)
    found = config.jobs.get(job) if config is not None else None
    return found is not None and state.image_missing(found, state.engines(conn)) is not None


def refused(conn: sqlite3.Connection, job: str, now: float) -> str | None:
    """Why an ack of `job` would be refused now, or None: the console asks before it opens its dialog."""
    return None if any(_trouble(conn, job, now)) else refusal(job)


def refusal(job: str) -> str:
    """Why a job in no trouble cannot be acknowledged: the words of `ack`, the API and the console's `a`."""
    return f'job "{job}" is neither failing nor flapping, nor missed a run in 24 h: there is nothing to acknowledge'


def _kept(held: acks.Ack) -> str:
    """A plain ack never cuts short an ack with a time still running: it would end at the next success."""
    return (f'"{held.job}" stays acknowledged by {held.by} until {iso(held.until or 0)} (its --for, kept: a plain '
            f'ack would end at its next success); to replace it: `panda-tui unack {held.job}`, then ack again')


def unacknowledge(conn: sqlite3.Connection, job: str) -> str:
    if not acks.clear(conn, job):
        raise AckRefused(f'job "{job}" is not acknowledged')
    return f'"{job}" is no longer acknowledged: its reminders go out again'


def carry_out(conn: sqlite3.Connection, ack: bool, job: str, args: dict[str, Any], now: float) -> str:
    """An ack (or unack) request on `job`, in the caller's transaction; AckRefused says why not."""
    if ack:
        return acknowledge(conn, job, args, now)
    return unacknowledge(conn, job)
