"""The scheduler loop: timeline → ledger (each slot due becomes a row) → admission → execution, plus control
requests, config reloads and the lease."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

from panda_tui import decisions as d
from panda_tui.config import Config, ConfigError, Job
from panda_tui.engine import catchup
from panda_tui.clock import Chores, Until
from panda_tui.engine.config_source import ConfigSource, remember_reload
from panda_tui.engine.docker_watch import DockerWatch
from panda_tui.engine.events import EventLog
from panda_tui.engine.execution import RunContext
from panda_tui.engine.commands import Commands
from panda_tui.engine.flight import Flight
from panda_tui.engine.ownership import Ownership
from panda_tui.engine.reconcile import Adopted, orphans, reconcile, settle
from panda_tui.engine.store_health import NOT_WRITTEN
from panda_tui.engine.requests import ControlDesk
from panda_tui.engine.supervision import Supervision
from panda_tui.engine.timeline import Timeline, offset, slots_until
from panda_tui.store import lease, state
from panda_tui.store.ledger import RunStatus, Trigger
from panda_tui.text import iso

CONTROL_EVERY = 0.25
WATCH_EVERY = 1.0
ENGINE_CHECK_EVERY = 5.0
AHEAD_AT_MOST = 0.05  # a slot fired from the clock's timer is made at most this long before it
STORE_RETRY_EVERY = 0.5  # while the store cannot be written (a full disk): due slots wait, the loop does not spin


class Scheduler:
    """Owns one database and decides what runs when; `flight` carries the runs out."""

    def __init__(self, config: Config, ctx: RunContext, ownership: Ownership, events: EventLog,
                 source: ConfigSource, engines: DockerWatch):
        self.config = config
        self.ctx = ctx
        self.ledger = ctx.ledger
        self.conn = ctx.ledger.conn
        self.clock = ctx.clock
        self.ownership = ownership
        self.events = events
        self.source = source
        self.engines = engines
        self.timeline = Timeline()
        self.flight = Flight(ctx, events, lambda: self.config.jobs, self.timeline.add_retry, self.wake)
        self.commands = Commands(self.flight, self.ledger, self.clock, lambda: self.config.jobs,
                                 self.timeline.add_retry)
        self.lease_lost = False
        self.exits = AsyncExitStack()  # what start() set up, closed in reverse by shutdown()
        self._wake = asyncio.Event()
        self.desk = ControlDesk(self.ledger, ctx.store, self.clock, events)
        self._timers = Chores()
        # hooks given the exit stack once the lease is held (alert delivery)
        self.on_start: list[Callable[[AsyncExitStack], Awaitable[None]]] = []
        # called off the loop with each config adopted (the decision log's mask)
        self.on_config: list[Callable[[Config], None]] = []
        self._reloading = asyncio.Lock()
        self.supervision = Supervision()  # told ready / ticked / stopping: systemd's notify protocol in the daemon

    # --- lifecycle ----------------------------------------------------------------------
    def acquire(self) -> None:
        self.ownership.acquire()
        self.events.emit(d.LeaseAcquired(lease.shown_owner(self.ownership.owner)))

    async def start(self) -> None:
        """After the lease: settle what a previous scheduler left, catch up, plan every job's next slot."""
        self.config, refused = await self._config_at_start()
        self.flight.paused = state.paused_jobs(self.conn)
        for found in await reconcile(self.ledger, self.ctx.runners, self.config.jobs, self.clock,
                                     self.ctx.open_sink):
            if isinstance(found, Adopted):
                self.events.emit(d.Adopted(found.run.job, found.run.id, found.handle.ref))
                self.flight.follow(found.job, found.run, found.handle)
            elif found.run.not_before is not None:
                self.timeline.add_retry(found.run.not_before, found.run.id)
            else:
                self.flight.readmit(found.job, found.run)
        await self._adopt_config(self.config, "started", refused)
        now = self.clock.now()
        self._catch_up(now)
        stored = state.last_slots(self.conn)
        for job in self.config.jobs.values():
            self.timeline.plan(job, self.timeline.last_slot.get(job.name, max(stored.get(job.name, now), now)))
        with self.ledger.transaction() as conn:
            state.put_scheduler_started(conn, self.ownership.owner, now)
        for hook in self.on_start:
            await hook(self.exits)
        self.exits.push_async_callback(self.engines.close)

    async def run(self, stop: asyncio.Event, acquire: bool = True) -> None:
        if acquire:
            self.acquire()
        await self.start()
        self.supervision.ready()
        while not stop.is_set() and not self.lease_lost:
            await self.tick()
            self.supervision.ticked()  # on the loop's own thread: a hung loop stops the watchdog pings
            delay = self._delay()
            await self.clock.sleep(delay, self._wake, on_time=self._fire_now if self._slot_next(delay) else None)
            self._wake.clear()
        await self.shutdown()

    def wake(self) -> None:
        self._wake.set()

    async def tick(self) -> None:
        """One pass: fire due slots and retries, take control requests, renew the lease, look around."""
        now, mono, due = self.clock.now(), self.clock.monotonic(), self._timers.due
        self.ctx.store.retry()  # writes a full disk held back, in order, before anything new
        self._fire_due(now)
        self._start_due_retries(now)
        if due("control", mono, CONTROL_EVERY):
            await self.take_control()
        if due("lease", mono, lease.HEARTBEAT_EVERY):
            self.ctx.store.attempt("renew the lease", self._renew_lease)
        if due("watch", mono, WATCH_EVERY) and self.source.changed():
            await self.reload("file changed")
        if due("engines", mono, ENGINE_CHECK_EVERY):
            self.engines.poke(self.config.jobs.values())
            await self._adopt_orphans()

    def _delay(self) -> float:
        left = [self._timers.left("control", self.clock.monotonic(), CONTROL_EVERY)]
        if self.supervision.max_sleep is not None:
            left.append(self.supervision.max_sleep)
        if (next_at := self.timeline.next_at()) is not None:
            left.append(next_at - self.clock.now())
        floor = STORE_RETRY_EVERY if self.ctx.store.failing_since is not None else 0.0
        return max(floor, min(left))

    def _slot_next(self, delay: float) -> bool:
        """Whether the wait of `delay` ends at a slot: then the clock fires it exactly (Clock.sleep's on_time)."""
        next_at = self.timeline.next_at()
        return next_at is not None and abs(next_at - self.clock.now() - delay) < 0.001

    def _fire_now(self, until: Until) -> None:
        """The slot the wait ends at, fired from the clock's timer while the loop sleeps between two passes (the
        pass that follows finds it done): its batch is made ahead, and written once `until` returns, at the slot.
        A slot not due that soon (the wall clock was set back meanwhile) is left to the loop."""
        if (at := self.timeline.next_at()) is not None and at - self.clock.now() <= AHEAD_AT_MOST:
            self._fire_due(at, until)

    async def shutdown(self, grace: float | None = None) -> None:
        """Stop dispatching; give runs `grace` ([scheduler] stop_grace by default) to finish, then stop and
        record them; close the store."""
        self.supervision.stopping()
        self._say_stopping(self.config.scheduler.stop_grace if grace is None else grace)
        await self.flight.stop_runs(self.config.scheduler.stop_grace if grace is None else grace)
        await self.exits.aclose()
        self.events.emit(d.Stopped())

    def _say_stopping(self, grace: float) -> None:
        """For consoles and `status`: how many runs its stop waits for, and how long at most."""
        runs = len(self.flight.executions())
        if runs and grace > 0:
            def write() -> None:
                with self.ledger.transaction() as conn:
                    state.put_stopping(conn, self.ownership.owner, runs, grace, self.clock.now())
            self.ctx.store.attempt("record that the scheduler is stopping", write)

    async def _adopt_orphans(self) -> None:
        """A `run` or `exec` process that died (kill -9) leaves its command running under its keeper:
        follow it from here, as after a restart."""
        tracked = {e.run_id for e in self.flight.executions()}
        for run in orphans(self.ledger, tracked):
            job = self.config.jobs.get(run.job)
            found = await settle(self.ledger, self.ctx.runners, job, self.clock, self.ctx.open_sink, run)
            if found is not None:
                self.events.emit(d.Adopted(run.job, run.id, found.handle.ref, run.owner))
                self.flight.follow(found.job, found.run, found.handle)

    # --- slots --------------------------------------------------------------------------
    def _fire_due(self, now: float, until: Until = lambda: None) -> None:
        """Every slot due by `now`, written in one transaction: fifty jobs at :00 cost one commit, not fifty.
        If it cannot be written, the slots wait, and are decided again once the store can be written.
        `until`: returns at `now`, when the slots are fired ahead of it."""
        if (next_at := self.timeline.next_at()) is None or next_at > now:
            return
        saved = self.timeline.checkpoint()
        if self.ctx.store.attempt("record the slots due now", lambda: self._fire_each(now, until)) is NOT_WRITTEN:
            self.timeline.restore(saved)

    def _fire_each(self, now: float, until: Until) -> None:
        """The slots due are taken first (the common case: each job's next slot, known since this one was
        planned, is after now), then written in one unit, each row made ahead and stamped right before its own
        write once `until` returns (Flight.dispatch_slots); what the batch also has to do (each job's last slot
        recorded) comes after every run of it is written, and planning the next slots after the commit."""
        done: list[tuple[Job, float, float | None]] = []  # (job, its last slot handled, the slot after it)
        batch: list[tuple[Job, float]] = []  # the common case, in the order due
        behind: list[tuple[Job, list[float]]] = []  # jobs whose slots the loop let pass (stalled, clock jump)
        while (due := self.timeline.pop_due(now)) is not None:
            name, slot, after = due
            job = self.config.jobs.get(name)
            if job is None:
                continue
            if after + offset(job) > now:  # the common case, without scanning for missed slots
                batch.append((job, slot + offset(job)))
                done.append((job, slot, after))
            else:
                behind.append((job, [slot] + slots_until(job, slot, now)))
                done.append((job, behind[-1][1][-1], None))
        with self.flight.batch():
            for part in _one_slot_per_job(batch):
                self.flight.dispatch_slots(part, until)
            until()  # the catch-up rows below are stamped `now`: never written before it
            for job, slots in behind:
                self._apply_catchup(job, slots, now, f"scheduler was not running on time from "
                                                     f"{iso(slots[0])} to {iso(now)}")
            state.set_last_slots(self.conn, [(job.name, last) for job, last, _ in done], now)
        for job, last, known in done:
            self.timeline.last_slot[job.name] = last
            self.timeline.plan(job, last, known)

    def _catch_up(self, now: float) -> None:
        stored = state.last_slots(self.conn)
        since = self.ownership.previous_heartbeat
        for job in self.config.jobs.values():
            last = stored.get(job.name)
            if last is None or not job.enabled:
                continue
            if slots := slots_until(job, last, now):
                self._apply_catchup(job, slots, now, f"scheduler down from {iso(since or slots[0])} to {iso(now)}")
                self.timeline.last_slot[job.name] = slots[-1]

    def _apply_catchup(self, job: Job, slots: list[float], now: float, why: str) -> None:
        with self.flight.batch():
            if job.name in self.flight.paused:
                for slot in slots:
                    self._record_slot(job, slot, RunStatus.SKIPPED, "paused", now)
                return
            for decision in catchup.decide(job, slots, now, why):
                if decision.action == "run":
                    self.flight.dispatch(job, decision.slot + offset(job), Trigger.CATCHUP, slot=decision.slot,
                                  check_deadline=job.catchup != "all", in_order=job.catchup == "all")
                else:
                    self._record_slot(job, decision.slot, RunStatus.MISSED, decision.reason, now)

    def _record_slot(self, job: Job, slot: float, status: RunStatus, reason: str | None, now: float) -> None:
        with self.ledger.transaction() as conn:
            state.set_last_slot(conn, job.name, slot, now)
            self.ledger.insert(job.name, slot + offset(job), trigger=Trigger.SCHEDULE, now=now, status=status,
                               reason=reason, runner=job.runner_kind)

    def _start_due_retries(self, now: float) -> None:
        due = self.timeline.pop_due_retries(now)
        if due and self.ctx.store.attempt("start the retries due", lambda: self._readmit(due)) is NOT_WRITTEN:
            for run_id in due:
                self.timeline.add_retry(now, run_id)

    def _readmit(self, run_ids: list[int]) -> None:
        with self.flight.batch():
            for run_id in run_ids:
                self.flight.readmit_id(run_id)

    # --- control, lease, reload ---------------------------------------------------------
    async def take_control(self) -> None:
        await self.desk.take(self.commands, self.reload)

    def _renew_lease(self) -> None:
        if self.ownership.renew():
            return
        self.lease_lost = True
        holder = self.ownership.holder()
        self.events.emit(d.LeaseLost(lease.shown_owner(self.ownership.owner), holder and lease.shown_owner(holder)))
        self.flight.kill_all("scheduler lost its lease")

    async def reload(self, why: str) -> tuple[bool, str]:
        """Re-read jobs.toml off the loop; a refused file leaves the running config as it is."""
        async with self._reloading:
            try:
                new = await asyncio.to_thread(self.source.load)
            except ConfigError as exc:
                self._remember_reload(why, exc.errors)
                self.events.emit(d.ReloadFailed(why, exc.errors))
                return False, "; ".join(exc.errors)
            old = self.config
            await self._adopt_config(new, why)
            now = self.clock.now()
            for name in set(old.jobs) | set(new.jobs):
                if old.jobs.get(name) != new.jobs.get(name):
                    self.timeline.replan(name, new.jobs.get(name), now)
            self.events.emit(d.Reloaded(why, len(new.jobs)))
            return True, f"reloaded: {len(new.jobs)} jobs"

    async def _config_at_start(self) -> tuple[Config, list[str]]:
        """The jobs.toml on disk now, not the config handed in (a console's S hands the one it read when it
        opened, minutes ago). A refused file leaves the last good config the store holds, as a reload does;
        with the refusal, said as a reload's is."""
        if not self.source.watch:
            return self.config, []
        try:
            return await asyncio.to_thread(self.source.load), []
        except ConfigError as exc:
            self.events.emit(d.ReloadFailed("started", exc.errors))
            return state.last_good_config(self.conn, self.source.secrets_file) or self.config, exc.errors

    async def _adopt_config(self, config: Config, why: str, refused: list[str] | None = None) -> None:
        """Run `config` from now on: stored as the running truth, handed to whoever follows it (with the
        file's refusal, when it was refused and this is the last good one)."""
        self.config = config
        self._remember_reload(why, refused or [], config)
        for hook in self.on_config:
            await asyncio.to_thread(hook, config)

    def _remember_reload(self, why: str, errors: list[str], config: Config | None = None) -> None:
        remember_reload(self.ledger, self.ctx.store, self.clock.now(), why, errors, config)


def _one_slot_per_job(batch: list[tuple[Job, float]]) -> list[list[tuple[Job, float]]]:
    """The batch cut where a job comes again (never, unless a job was planned twice): dispatch_slots admits
    each part's runs together, and a job's second slot must see its first."""
    parts: list[list[tuple[Job, float]]] = [[]]
    seen: set[str] = set()
    for job, at in batch:
        if job.name in seen:
            parts.append([])
            seen.clear()
        seen.add(job.name)
        parts[-1].append((job, at))
    return parts
