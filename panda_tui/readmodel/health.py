"""Per-job health at a glance, read from the store: shared by `status` and the console."""

from __future__ import annotations

import dataclasses
import sqlite3
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum

from panda_tui.config import Config, Job, job_from_defaults
from panda_tui.readmodel.facts import Failure, last_failure, last_success_at
from panda_tui.store import acks, ledger, state
from panda_tui.store.ledger import BAD, FINAL, GONE, Run, RunStatus, Trigger
from panda_tui.store.missed import MISSED_WINDOW_S, missed_after, missed_since
from panda_tui.store.verdicts import NOT_A_VERDICT, by_slot, flaps, retry_follows
from panda_tui.text import coarse_ago, glyph

DAY = MISSED_WINDOW_S
SHOWN_AS_LAST = (*FINAL, RunStatus.RUNNING)  # a run queued for later is the job's next, not its last


class HealthState(StrEnum):
    """A job at a glance, one word: the console's STATUS column, `status`, the API's `state`."""
    FAILING = "failing"  # its newest result is a failure (even while it runs again: see last_bad)
    MISSED = "missed"  # its newest slot left no result (missed, lost)
    RUNNING = "running"
    OK = "ok"
    FLAPPING = "flapping"  # its newest run succeeded, but it flaps (store.verdicts): not `ok`
    RETRYING = "retrying"  # its newest attempt failed and a retry waits (or runs): no verdict yet
    KILLED = "killed"  # every run so far was killed on purpose: no verdict
    NEW = "new"  # never ran
    PAUSED = "paused"
    DISABLED = "disabled"  # panda-tui does not fire it, and nothing ran it
    EXTERNAL = "external"  # only `panda-tui exec` runs it (cron's job, watched side by side)


# The states with nothing of their own to say: runs missed in 24 h show over them (`! missed`, `! acked`).
QUIET = (HealthState.OK, HealthState.NEW, HealthState.KILLED, HealthState.EXTERNAL)
# The states that need a person: `status` exits 1 on any of them (a retry waiting, a run going on do not).
NEEDS_A_HUMAN = (HealthState.FAILING, HealthState.MISSED, HealthState.FLAPPING)
RATE_WINDOW = 20  # the failure rate (`fail 5%`) is of the last 20 finished runs, in the console and `status`

URGENCY = {HealthState.FAILING: 0, HealthState.MISSED: 1, HealthState.FLAPPING: 1, HealthState.RETRYING: 2,
           HealthState.RUNNING: 2, HealthState.OK: 3, HealthState.EXTERNAL: 3, HealthState.KILLED: 3,
           HealthState.NEW: 3, HealthState.PAUSED: 4, HealthState.DISABLED: 5}


@dataclass
class JobHealth:
    name: str
    state: HealthState
    paused: bool
    next_at: float | None
    last: Run | None
    success_rate: float | None  # of the last RATE_WINDOW finished runs
    failure_rate: float | None  # of the same runs: the one rate shown (`fail 5%`)
    median_s: float | None
    durations: list[tuple[float, str]] = field(default_factory=list)  # oldest first: (seconds, run status)
    missed_24h: int = 0
    running: list[int] = field(default_factory=list)
    last_bad: bool = False  # its newest result is a failure, even while a new run goes on (see `failing`)
    enabled: bool = True  # panda-tui fires it on its schedule
    declared: bool = True  # in jobs.toml (False: a job only `panda-tui exec` runs)
    last_failure: Failure | None = None  # its last failed run's first error line (or reason)
    last_success_at: float | None = None  # when it last succeeded
    failed_recent: tuple[int, int] = (0, 0)  # (failed, finished) of the runs flapping looks at (store.verdicts)
    timed_out_recent: tuple[int, int] | None = None  # (timed out, finished) of those, when the newest timed out
    acked_by: str | None = None  # who acknowledged its trouble (user@host), while that ack holds (Ack.silences)
    missed_acked: int = 0  # of missed_24h, the runs an ack covers (before it, or while it holds): not trouble
    missed_acked_until: float | None = None  # the slot up to which its missed runs are acknowledged
    removed: bool = False  # its job left jobs.toml while a run of it goes on: listed until that run ends
    image_missing: str | None = None  # its image, which its engine lacks while pull = "never" (every run would fail)
    unwatched: bool = False  # runs `running` in the ledger and no scheduler holds the lease: none follows them
    ended_unwatched: dict[int, str] = field(default_factory=dict)  # of those, runs their keeper saw end: how
    ended_outcome: str | None = None  # the run status the newest of those ended with (its row's glyph)

    @property
    def mark(self) -> HealthState:
        """The state its glyph and style show, the one rule of the console's rows and `status`'s: a job that
        failed and runs again is still marked failing (`✗ running · last failed`), so the rows marked `✗` are
        the header's and `status`'s failing count."""
        return HealthState.FAILING if self.failing else self.state

    @property
    def shown_mark(self) -> HealthState:
        """The mark its row shows (the console's and `status`'s): a job with nothing of its own to say (ok, new,
        killed, external) and runs missed in 24 h reads `! missed` while no ack covers them (the header's
        `missed/24h`, `status`'s exit 1), `! acked` while an ack holds over them all; failing, retrying, running,
        flapping, paused and disabled keep their own mark (open missed runs still make them trouble)."""
        if self.mark not in QUIET:
            return self.mark
        return HealthState.MISSED if self.missed_open or (self.acked and self.missed_acked) else self.mark

    @property
    def ended(self) -> bool:
        """Every run the ledger has running, its keeper saw end while no scheduler ran: not running, nor
        unwatched, until a scheduler records it (its row `⏱ ended`, not counted running)."""
        return self.unwatched and all(run_id in self.ended_unwatched for run_id in self.running)

    @property
    def going(self) -> bool:
        """A run of it goes on: the header's and `status`'s `running` count."""
        return bool(self.running) and not self.ended

    @property
    def row_mark(self) -> str:
        """The glyph and style of its row: the outcome of a run its keeper ended (`⏱`), else its shown mark."""
        return self.ended_outcome if self.ended and self.ended_outcome else self.shown_mark

    @property
    def glyph(self) -> str:
        return glyph(self.row_mark)

    @property
    def failing(self) -> bool:
        """The one failure count: the console's header, the rows it marks failing, `status` and the API all
        count this. A kill on purpose, a missed slot and a retry still waiting are not failures; a pull = "never"
        job whose image its engine lacks is (`✗ no image`: every run would fail)."""
        return self.last_bad or bool(self.image_missing)

    @property
    def words(self) -> str:
        """The state with what it hides: `running (unwatched)`, `running · timed out 7/7`, `flapping 4/10 failed`."""
        if self.state is HealthState.RUNNING and self.ended:
            return ENDED
        if self.state is HealthState.RUNNING and self.unwatched:
            return UNWATCHED
        if self.state is HealthState.RUNNING and self.timed_out_recent:
            return f"running · timed out {self.timed_out_recent[0]}/{self.timed_out_recent[1]}"
        if self.state is HealthState.RUNNING and self.last_bad:
            return "running · last failed"
        if self.state is HealthState.FLAPPING:
            return f"flapping {self.failed_recent[0]}/{self.failed_recent[1]} failed"
        if self.image_missing and self.state is not HealthState.RUNNING:
            return NO_IMAGE
        return str(self.shown_mark)


    @property
    def needs_a_human(self) -> bool:
        """Failing, missed or flapping (or failing while it runs again): `status` exits 1, unless acked."""
        return self.failing or self.state in NEEDS_A_HUMAN

    @property
    def missed_open(self) -> int:
        """Its runs missed in 24 h that no ack covers: the header's `missed/24h`, `status`'s exit 1."""
        return self.missed_24h - self.missed_acked

    @property
    def acked(self) -> bool:
        """An ack holds on it (a plain one until its next success, one `--for 2h` for its time): its row reads
        `acked` (its glyph its own mark, `! acked` over missed runs it covers), it is counted `acked`, not failing
        or flapping (the header, `status`, the API's `acks`), nor does it make `status` exit 1. Once it ends the
        row reads the job's own state; the missed runs it covered stay covered (`missed_acked`)."""
        return bool(self.acked_by)

    @property
    def trouble(self) -> bool:
        """Needs a person, and nobody acknowledged it: `status` exits 1 (and so does the API's `trouble`).
        Its last slot gone missing, or a run missed in 24 h that no ack covers, count too."""
        if self.missed_open:
            return True
        return not self.acked and (self.needs_a_human or bool(self.last and self.last.status in GONE))


ENDED = "ended while no scheduler ran"  # every run it has running, its keeper saw end (readmodel.unwatched)
UNWATCHED = "running (unwatched)"  # a run the ledger has running while no scheduler holds the lease (it died)
REMOVED = "removed from jobs.toml"  # a job listed only while a run it started before the reload goes on
NO_IMAGE = "no image"  # the row of a pull = "never" job whose image its engine lacks
ACKED = "acked"  # the word of a row, and of a history run, whose trouble someone acknowledged


def row_words(h: JobHealth) -> str:
    """The words of a job's row (the console's STATUS, `status`'s STATE): short, so one job's state does not
    narrow every name (`flapping`; its `3/10 failed` is in the detail line and `status`'s detail lines).
    A job in trouble that someone acknowledged reads `acked`, its glyph saying which trouble (`✗ acked`,
    `≈ acked`): whole in the narrowest STATUS, where `ack, failing` was cut to `ack, fai…` (the detail line
    and `status` name who)."""
    if h.acked:
        return ACKED
    if h.image_missing and h.state is not HealthState.RUNNING:
        return NO_IMAGE  # its ✗ says every run would fail; the detail line and `status` say which image
    if h.shown_mark is HealthState.MISSED and h.state is not HealthState.MISSED:
        return str(HealthState.MISSED)  # runs missed in 24 h that no ack covers, though its newest slot ran
    if h.state is HealthState.RUNNING and h.ended:
        return "ended"  # its glyph the outcome (`⏱ ended`); the detail line and `status` say how
    if h.state is HealthState.RUNNING and h.unwatched:
        return "unwatched"  # its ▶ says running; whole in the narrowest STATUS, where `running (unwatched)` was cut
    return str(h.state) if h.state is HealthState.FLAPPING else h.words


def missed_words(h: JobHealth) -> str:
    """A job's MISSED/24H (`status`'s column, the console's detail line): its runs missed in 24 h that no ack
    covers, the count `missed/24h` sums, and those acked so they are not hidden: `0 (+12 acked)`."""
    return f"{h.missed_open} (+{h.missed_acked} acked)" if h.missed_acked else str(h.missed_open)


def mark_unwatched(jobs: list[JobHealth], scheduled: bool) -> None:
    """With no scheduler holding the lease, a run still `running` in the ledger is one nobody follows (the
    scheduler died with it going): its row says so until a scheduler adopts it or settles it."""
    for h in jobs:
        h.unwatched = bool(h.running) and not scheduled


def running_count(jobs: list[JobHealth]) -> int:
    """Jobs with a run going on (not one its keeper ended): the header's `running`, `status`'s."""
    return sum(1 for h in jobs if h.going)


def failing_count(jobs: list[JobHealth]) -> int:
    """Failing jobs nobody acknowledged (those are acked_count's)."""
    return sum(1 for h in jobs if h.failing and not h.acked)


def acked_count(jobs: list[JobHealth]) -> int:
    """Jobs in trouble that someone is on (their rows read `acked`): the header's `acked`, `status`'s."""
    return sum(1 for h in jobs if h.acked)


def missed_count(jobs: list[JobHealth]) -> int:
    """Runs missed or lost in the last 24 h that no ack covers, over the jobs shown: the header's `missed/24h`,
    `status`'s and the API's (those acknowledged are their jobs' `acked`)."""
    return sum(h.missed_open for h in jobs)


def flapping_count(jobs: list[JobHealth]) -> int:
    """Jobs shown `≈ flapping` (not acked): the header's `flapping`, `status`'s and `status --json`'s."""
    return sum(1 for h in jobs if h.state is HealthState.FLAPPING and not h.acked)


def all_health(conn: sqlite3.Connection, config: Config | None, now: float) -> list[JobHealth]:
    """Every job to show, most urgent first: those jobs.toml declares, those only `panda-tui exec` runs
    (cron's jobs, watched side by side), and those removed from jobs.toml while a run of theirs goes on
    (until it ends: it can still be watched and killed)."""
    paused = state.paused_jobs(conn)
    jobs = dict(config.jobs) if config is not None else {}
    declared = set(jobs)
    for name in state.outside_jobs(conn, now):
        if name not in jobs and config is not None:
            jobs[name] = dataclasses.replace(job_from_defaults(config, name), enabled=False)
    removed = {r.job for r in ledger.active(conn) if r.status == RunStatus.RUNNING} - set(jobs)
    if config is not None:
        jobs |= {name: dataclasses.replace(job_from_defaults(config, name), enabled=False) for name in sorted(removed)}
    on_record = acks.every(conn)
    healths = [job_health(conn, job, now, paused, declared=job.name in declared) for job in jobs.values()]
    engines = state.engines(conn)
    for h in healths:
        if h.name in on_record:
            _take_ack(conn, h, on_record[h.name], now)
        h.removed = h.name in removed
        h.image_missing = state.image_missing(jobs[h.name], engines)
    return sorted(healths, key=sort_key)


def _take_ack(conn: sqlite3.Connection, h: JobHealth, ack: acks.Ack, now: float) -> None:
    """Who acknowledged the job's trouble, whether that still silences it, and which missed runs it covers."""
    if h.missed_24h:
        h.missed_acked_until = ack.missed_until(now, h.last_success_at)
        h.missed_acked = h.missed_24h - missed_after(conn, h.name, now - DAY, h.missed_acked_until).count
    h.acked_by = ack.by if ack.silences(now, h.last_success_at) else None


def missing_image_words(image: str, where: str = "its engine") -> str:
    """Why every run of a pull = "never" job would fail: the words of `validate`, `status` and the console."""
    return f'image: {image!r} is not on {where} and pull = "never": every run will fail until it is there'


def job_health(conn: sqlite3.Connection, job: Job, now: float, paused: set[str] | None = None,
               spark: int = 30, declared: bool = True) -> JobHealth:
    paused = state.paused_jobs(conn) if paused is None else paused
    recent = ledger.recent_outcomes(conn, job.name, max(2 * RATE_WINDOW, spark))
    last20 = recent[:RATE_WINDOW]
    active = ledger.active(conn, job.name)
    running = [r.id for r in active if r.status == RunStatus.RUNNING]
    missed = missed_since(conn, now - DAY, job.name)
    done = rated_slots(recent, job.retries)
    ok = sum(1 for r in done if r.status == RunStatus.SUCCEEDED)
    durations = [(r.duration_s, str(r.status)) for r in reversed(recent[:spark]) if r.duration_s is not None]
    timed = timed_durations(last20)
    latest = ledger.latest(conn, job.name, SHOWN_AS_LAST)
    settled = next((r for r in recent if r.status not in NOT_A_VERDICT), None)
    retrying = _retrying(active, recent, job.retries)
    flap = flaps(r.status for r in by_slot(recent, job.retries))  # its first FLAP_READS slots (`done`'s too)
    timed_out = sum(1 for r in done[:flap.finished] if r.status == RunStatus.TIMED_OUT)
    last_bad = settled is not None and settled.status in BAD and not retrying
    external = not declared or (latest is not None and latest.trigger == Trigger.EXTERNAL)
    word = _state(job, job.name in paused, running, settled, latest, ran=bool(recent), retrying=retrying,
                  flapping=flap.flapping, external=external)
    return JobHealth(
        name=job.name, state=word, paused=job.name in paused, next_at=_next_at(job, now, active), last=latest,
        success_rate=ok / len(done) if done else None,
        failure_rate=(len(done) - ok) / len(done) if done else None,
        median_s=statistics.median(timed) if timed else None,
        durations=durations, missed_24h=missed, running=running,
        last_bad=last_bad, enabled=job.enabled, declared=declared,
        last_failure=last_failure(conn, job.name),
        last_success_at=last_success_at(conn, job.name), failed_recent=(flap.failed, flap.finished),
        timed_out_recent=(timed_out, flap.finished) if settled and settled.status == RunStatus.TIMED_OUT else None)


def timed_durations(runs: list[Run]) -> list[float]:
    """The durations a median and a p95 are of: a run killed on purpose was cut short, so it says nothing
    of how long the job takes (it is no verdict either: store.verdicts)."""
    return [r.duration_s for r in runs if r.duration_s is not None and r.status != RunStatus.KILLED]


def rated_slots(recent: list[Run], retries: int) -> list[Run]:
    """The slots the failure rate is of (`fail 5%`: the job list, the detail line, `status`): the newest
    RATE_WINDOW with a verdict, each by its final outcome (store.verdicts.by_slot)."""
    return [r for r in by_slot(recent, retries) if r.status not in NOT_A_VERDICT][:RATE_WINDOW]


def _retrying(active: list[Run], recent: list[Run], retries: int) -> bool:
    """A retry waits or runs, or is about to be queued (the attempt just failed with attempts left), so the
    failure before it is not final yet; unless the slot before this one failed for good too (a job failing
    every slot would otherwise say `retrying` for ever)."""
    slot = next((r.scheduled_at for r in active if r.trigger == Trigger.RETRY), None)
    newest = next((r for r in recent if r.status not in NOT_A_VERDICT), None)
    if slot is None and newest is not None and retry_follows(newest, retries):
        slot = newest.scheduled_at
    if slot is None:
        return False
    before = next((r for r in recent if r.scheduled_at != slot and r.status not in NOT_A_VERDICT), None)
    return before is None or before.status not in BAD


def _state(job: Job, paused: bool, running: list[int], settled: Run | None, latest: Run | None,
           ran: bool = False, retrying: bool = False, flapping: bool = False, external: bool = False) -> HealthState:
    """A disabled job can still run (triggered, or by cron through `exec`): what it does then shows.
    A job whose every run was killed (a person's act, no verdict) says so, not `new`."""
    if running:
        return HealthState.RUNNING
    if paused and job.enabled:
        return HealthState.PAUSED
    if settled is not None and settled.status in BAD:
        return HealthState.RETRYING if retrying else HealthState.FAILING
    if not job.enabled:
        return HealthState.EXTERNAL if external and ran else HealthState.DISABLED
    if latest is not None and latest.status in GONE:
        return HealthState.MISSED
    if settled is not None:
        return HealthState.FLAPPING if flapping else HealthState.OK
    return HealthState.KILLED if ran else HealthState.NEW


def _next_at(job: Job, now: float, active: list[Run]) -> float | None:
    """The next slot of its schedule, or a run queued for a time before it (`trigger --at` a future time,
    a retry waiting out its delay), whichever comes first."""
    waiting = [r.due_at for r in active if r.status == RunStatus.QUEUED]
    fires = ([next_fire(job, now)] if job.enabled else []) + waiting
    return min(fires) if fires else None


def next_word(h: JobHealth, now: float, scheduled: bool, none: str = "-") -> str:
    """NEXT as the console and `status` write it. `scheduled`: a scheduler holds the lease; without one it
    says `stopped`, not a time nothing keeps."""
    if h.removed:
        return "removed"  # from jobs.toml: listed while its run goes on
    if not h.enabled:
        return "off"  # panda-tui does not fire it; a trigger or cron's `exec` may still run it
    if h.next_at is None:
        return none
    if h.paused:
        return "paused"
    if not scheduled:
        return "stopped"
    return "now" if h.next_at - now < 1 else f"in {coarse_ago(h.next_at - now)}"


def next_fire(job: Job, now: float) -> float:
    return job.schedule.next_after(datetime.fromtimestamp(now, timezone.utc))[0].timestamp()


def sort_key(h: JobHealth) -> tuple:
    """By the mark its row shows: failing first (`✗ running · last failed`, `✗ no image` too), then missed, then
    running; by name within each, so the list moves only when a job's mark does (not every time one fires)."""
    return (URGENCY[h.shown_mark], h.name)
