"""The scheduler loop: a heap of next fire times, the policies, retries, catch-up, control, lease."""

from __future__ import annotations

import asyncio
import heapq
import os
import random
import sqlite3
import zlib
from collections import defaultdict, deque
from datetime import datetime, timezone
from typing import Any, Callable

from panda_tui.config import Config, ConfigError, Job, load_config
from panda_tui.engine import catchup
from panda_tui.engine.clock import Clock, SystemClock
from panda_tui.engine.events import EventLog
from panda_tui.engine.execution import Execution, iso
from panda_tui.engine.requests import handle_pending
from panda_tui.runners import keeper
from panda_tui.runners.registry import Runners
from panda_tui.secrets import Redactor
from panda_tui.store import connect, db_id, lease, logs, runs, state
from panda_tui.store.runs import Run

CONTROL_EVERY = 0.25
WATCH_EVERY = 1.0
ENGINE_CHECK_EVERY = 5.0
MAX_SLOTS_SCANNED = 10_000
SHUTDOWN_GRACE = 10.0


class LeaseHeld(Exception):
    def __init__(self, holder: lease.Holder):
        super().__init__(f"another scheduler holds this database: {holder.owner} "
                         f"(last heartbeat {iso(holder.heartbeat_at)})")
        self.holder = holder


class Scheduler:
    def __init__(self, config: Config, db_path: str, *, clock: Clock | None = None,
                 events: EventLog | None = None, runners: Runners | None = None,
                 role: str = "daemon", ttl: float = lease.TTL, watch_config: bool = True):
        self.config = config
        self.db_path = db_path
        self.conn = connect(db_path)
        self.db_id = db_id(self.conn)
        self.clock = clock or SystemClock()
        self.events = events or EventLog()
        self.runners = runners or Runners(self.db_id, keeper.runs_dir(db_path))
        self.owner = lease.make_owner(role)
        self.ttl = ttl
        self.watch_config = watch_config
        self.writer = logs.LogWriter(db_path)
        self.active: dict[str, dict[int, Execution]] = defaultdict(dict)
        self.queues: dict[str, deque[int]] = defaultdict(deque)
        self.paused: set[str] = set()
        self.lease_lost = False
        self._heap: list[tuple[float, str, int, float]] = []  # (fire instant, job, generation, slot)
        self._gen: dict[str, int] = defaultdict(int)
        self._last_slot: dict[str, float] = {}
        self._retries: list[tuple[float, int]] = []
        self._wake = asyncio.Event()
        self._data_version = -1
        self._config_stamp = _stamp(config.path)
        self._previous_heartbeat: float | None = None
        self._engine_check: asyncio.Task | None = None
        self.tee: Callable[[str, str], None] | None = None
        self._deferred: list[tuple] | None = None
        from panda_tui.alerts.events import Alerter
        self.alerter = Alerter(self)
        self._delivery: asyncio.Task | None = None
        self._deliverer = None

    # --- database helpers -------------------------------------------------------------
    def db(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a store call in one short transaction on the loop's connection (or in the one open)."""
        if self.conn.in_transaction:
            return fn(self.conn, *args, **kwargs)
        with self.writer.lock:  # the log writer's commit, if one is under way, ends before this begins
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(self.conn, *args, **kwargs)
                self.conn.execute("COMMIT")
                return result
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def labels(self, job: Job, run: Run) -> dict[str, str]:
        return {"panda.job": job.name, "panda.run_id": str(run.id), "panda.db": self.db_id}

    def new_sink(self, run: Run, job: Job, redact: Redactor, resume: dict | None = None) -> logs.RunLog:
        return logs.RunLog(self.writer, run.id, redact=redact if redact else None,
                           max_lines=job.log_max_lines, max_bytes=job.log_max_bytes, tee=self.tee,
                           **(resume or {}))

    def resume_sink(self, run: Run, job: Job) -> tuple[logs.RunLog, dict]:
        """A sink that continues an adopted run's log after a restart, and the counters it resumes from."""
        from panda_tui.secrets import available, resolve
        resume = logs.resume_state(self.conn, run.id)
        try:
            redact = Redactor(resolve(job, available(self.config)).values())
        except Exception:  # a secret gone since the run started: nothing left to mask it with
            redact = Redactor(())
        return self.new_sink(run, job, redact, resume), resume

    # --- lifecycle ----------------------------------------------------------------------
    def acquire(self) -> None:
        old = lease.holder(self.conn)
        holder = lease.try_acquire(self.conn, self.owner, self.clock.now(), self.ttl)
        if holder is not None:
            raise LeaseHeld(holder)
        self._previous_heartbeat = old.heartbeat_at if old else None
        self.events.emit("lease_acquired", owner=self.owner)

    async def start(self) -> None:
        """After the lease: settle what a previous scheduler left, catch up, build the heap."""
        from panda_tui.engine.reconcile import reconcile
        self.paused = state.paused_jobs(self.conn)
        await reconcile(self)
        now = self.clock.now()
        self._catch_up(now)
        self._build_heap(now)
        self.db(state.put_meta, "scheduler", {"owner": self.owner, "started_at": now}, now)
        from panda_tui.alerts.delivery import Deliverer
        self._deliverer = Deliverer(self)
        self._delivery = asyncio.ensure_future(self._deliverer.run())

    async def run(self, stop: asyncio.Event, acquire: bool = True) -> None:
        if acquire:
            self.acquire()
        await self.start()
        timers = _Timers()
        while not stop.is_set() and not self.lease_lost:
            await self.tick(timers)
            await self.clock.sleep(self._delay(timers), self._wake)
            self._wake.clear()
        await self.shutdown()

    def wake(self) -> None:
        self._wake.set()

    async def tick(self, timers: _Timers | None = None) -> None:
        """One pass: fire due slots and retries, take control requests, renew the lease."""
        now = self.clock.now()
        self._fire_due(now)
        self._start_due_retries(now)
        mono = self.clock.monotonic()
        if timers is None or timers.due("control", mono, CONTROL_EVERY):
            await self.take_control()
        if timers is None or timers.due("lease", mono, lease.HEARTBEAT_EVERY):
            self._heartbeat(now)
        if self.watch_config and (timers is None or timers.due("watch", mono, WATCH_EVERY)):
            if _stamp(self.config.path) != self._config_stamp:
                self.reload("file changed")
        if timers is None or timers.due("engines", mono, ENGINE_CHECK_EVERY):
            if self._engine_check is None or self._engine_check.done():  # a hung engine: never pile up
                self._engine_check = asyncio.ensure_future(self._check_engines())

    def _delay(self, timers: _Timers) -> float:
        now, mono = self.clock.now(), self.clock.monotonic()
        candidates = [timers.left("control", mono, CONTROL_EVERY)]
        if self._heap:
            candidates.append(self._heap[0][0] - now)
        if self._retries:
            candidates.append(self._retries[0][0] - now)
        return max(0.0, min(candidates))

    async def shutdown(self, grace: float = SHUTDOWN_GRACE) -> None:
        """Stop dispatching; give runs `grace` to finish, then stop and record them."""
        pending = [e for per_job in self.active.values() for e in per_job.values()]
        if pending:
            self.events.emit("stopping", waiting=len(pending), grace_s=grace)
            tasks = [e.task for e in pending if e.task]
            _, still = await asyncio.wait(tasks, timeout=grace) if tasks else (set(), set())
            for execution in pending:
                if execution.task in still:
                    execution.kill("scheduler stopped")
            if still:
                await asyncio.wait(still, timeout=max(e.job.kill_grace for e in pending) + 5)
        if self._delivery is not None:
            self._delivery.cancel()
            await asyncio.gather(self._delivery, return_exceptions=True)
            await self._deliverer.close()
        await asyncio.to_thread(self.writer.close)
        if not self.lease_lost:
            self.db(lease.release, self.owner)
        self.events.emit("stopped")
        self.conn.close()

    # --- slots --------------------------------------------------------------------------
    def offset(self, job: Job) -> float:
        """A stable per-job jitter offset in [0, jitter)."""
        if not job.jitter:
            return 0.0
        return (zlib.crc32(job.name.encode()) % 10_000) / 10_000 * job.jitter

    def _build_heap(self, now: float) -> None:
        self._heap = []
        stored = state.last_slots(self.conn)
        for job in self.config.jobs.values():
            # after the last slot this scheduler handled (catch-up), else from now (or a later stored slot)
            self._push_next(job, self._last_slot.get(job.name, max(stored.get(job.name, now), now)))

    def _push_next(self, job: Job, after: float) -> None:
        if not job.enabled:
            return
        slot = job.schedule.next_after(_dt(after))[0].timestamp()
        heapq.heappush(self._heap, (slot + self.offset(job), job.name, self._gen[job.name], slot))

    def _fire_due(self, now: float) -> None:
        """Every slot due now, written in one transaction: fifty jobs at :00 cost one commit, not fifty."""
        if not self._heap or self._heap[0][0] > now:
            return
        self._deferred = []  # launches wait until every due row is written and marked started
        try:
            self.db(lambda _conn: self._fire_each(now))
        finally:
            deferred, self._deferred = self._deferred, None
        for job, run_id, scheduled_at, trigger in deferred:
            self.launch(job, run_id)
            self.events.emit("scheduled", job.name, run_id, scheduled_at=iso(scheduled_at), trigger=trigger)

    def _fire_each(self, now: float) -> None:
        while self._heap and self._heap[0][0] <= now:
            _, name, gen, slot = heapq.heappop(self._heap)
            job = self.config.jobs.get(name)
            if job is None or gen != self._gen[name]:
                continue
            slots = [slot] + self._slots_until(job, slot, now)
            self._last_slot[name] = slots[-1]
            if len(slots) == 1:
                self.dispatch(job, slots[0] + self.offset(job), "schedule", slot=slots[0])
            else:  # the loop stalled or the wall clock jumped: the catch-up policy decides
                why = f"scheduler was not running on time from {iso(slots[0])} to {iso(now)}"
                self._apply_catchup(job, slots, now, why)
            self._push_next(job, slots[-1])

    def _slots_until(self, job: Job, after: float, now: float) -> list[float]:
        """The job's slots after `after` whose (jittered) fire time has passed by `now`, bounded."""
        slots: list[float] = []
        for t in job.schedule.iter_after(_dt(after)):
            if t.timestamp() + self.offset(job) > now or len(slots) >= MAX_SLOTS_SCANNED:
                break
            slots.append(t.timestamp())
        return slots

    def _catch_up(self, now: float) -> None:
        stored = state.last_slots(self.conn)
        since = self._previous_heartbeat
        for job in self.config.jobs.values():
            last = stored.get(job.name)
            if last is None or not job.enabled:
                continue
            slots = self._slots_until(job, last, now)
            if slots:
                why = f"scheduler down from {iso(since or slots[0])} to {iso(now)}"
                self._apply_catchup(job, slots, now, why)
                self._last_slot[job.name] = slots[-1]

    def _apply_catchup(self, job: Job, slots: list[float], now: float, why: str) -> None:
        if job.name in self.paused:
            for slot in slots:
                self._record_final(job, slot, "skipped", "paused")
            return
        for decision in catchup.decide(job, slots, now, why):
            if decision.action == "run":
                self.dispatch(job, decision.slot + self.offset(job), "catchup", slot=decision.slot,
                              check_deadline=job.catchup != "all", force_queue=job.catchup == "all")
            else:
                self._record_final(job, decision.slot, "missed", decision.reason)

    def _record_final(self, job: Job, slot: float, status: str, reason: str | None) -> None:
        now = self.clock.now()

        def write(conn: sqlite3.Connection) -> int | None:
            state.set_last_slot(conn, job.name, slot, now)
            return runs.insert(conn, job.name, slot + self.offset(job), trigger="schedule", now=now,
                               status=status, reason=reason, runner=job.runner_kind)

        run_id = self.db(write)
        if run_id is not None:
            self.events.emit(status, job.name, run_id, scheduled_at=iso(slot), reason=reason)
            self.alerter.on_run(run_id, job_name=job.name)

    # --- admission ----------------------------------------------------------------------
    def dispatch(self, job: Job, scheduled_at: float, trigger: str, *, slot: float | None = None,
                 attempt: int = 1, check_deadline: bool = True, force_queue: bool = False) -> str:
        """Write the slot as a ledger row, then admit it. Returns what happened, for control answers."""
        now = self.clock.now()
        late = check_deadline and trigger != "manual" and now - scheduled_at > job.starting_deadline
        start_now = not late and self._free(job, trigger, force_queue)

        def write(conn: sqlite3.Connection) -> int | None:
            if slot is not None:
                state.set_last_slot(conn, job.name, slot, now)
            run_id = runs.insert(conn, job.name, scheduled_at, trigger=trigger, now=now, attempt=attempt,
                                 runner=job.runner_kind)
            if run_id is not None and start_now:  # queued and started in one commit, before the runner acts
                runs.mark_running(conn, run_id, self.clock.now())
            return run_id

        run_id = self.db(write)
        if run_id is None:
            return "already in the ledger"
        if start_now:
            if self._deferred is not None:
                self._deferred.append((job, run_id, scheduled_at, trigger))
            else:
                self.launch(job, run_id)
                self.events.emit("scheduled", job.name, run_id, scheduled_at=iso(scheduled_at), trigger=trigger)
            return f"run {run_id} started"
        self.events.emit("scheduled", job.name, run_id, scheduled_at=iso(scheduled_at), trigger=trigger)
        if late:
            reason = f"started too late: {int(now - scheduled_at)}s after its slot (starting_deadline)"
            return self._end_unstarted(job, run_id, "missed", reason)
        return self.admit(job, run_id, trigger, force_queue=force_queue)

    def _free(self, job: Job, trigger: str, force_queue: bool) -> bool:
        """Whether a new run of `job` may start right now (the in-memory view the owner keeps)."""
        if job.name in self.paused and trigger != "manual":
            return False
        active = self.active[job.name]
        if force_queue:
            return not active and not self.queues[job.name]
        return not active or (job.concurrency == "allow" and len(active) < job.max_concurrent)

    def admit(self, job: Job, run_id: int, trigger: str, force_queue: bool = False) -> str:
        if job.name in self.paused and trigger != "manual":
            return self._end_unstarted(job, run_id, "skipped", "paused")
        active = self.active[job.name]
        if active or (force_queue and self.queues[job.name]):
            policy = "queue" if force_queue else job.concurrency
            ids = ", ".join(str(i) for i in active)
            if policy == "forbid":
                return self._end_unstarted(job, run_id, "skipped", f"overlap: run {ids} still running")
            if policy == "allow" and len(active) >= job.max_concurrent:
                return self._end_unstarted(job, run_id, "skipped",
                                           f"overlap: max_concurrent {job.max_concurrent} reached (runs {ids})")
            if policy == "queue":
                if len(self.queues[job.name]) >= job.queue_max:
                    return self._end_unstarted(job, run_id, "skipped", f"queue full ({job.queue_max} waiting)")
                self.queues[job.name].append(run_id)
                return f"run {run_id} queued behind run {ids}"
            if policy == "replace":
                for execution in list(active.values()):
                    execution.kill(f"replaced by run {run_id}")
                self.queues[job.name].appendleft(run_id)
                return f"run {run_id} replaces run {ids}"
        self.launch(job, run_id)
        return f"run {run_id} started"

    def _end_unstarted(self, job: Job, run_id: int, status: str, reason: str) -> str:
        self.db(runs.finish, run_id, status, self.clock.now(), reason=reason)
        self.events.emit(status, job.name, run_id, reason=reason)
        self.alerter.on_run(run_id, job_name=job.name)
        return f"run {run_id} {status}: {reason}"

    def launch(self, job: Job, run_id: int, adopt: Callable | None = None) -> Execution:
        run = runs.get(self.conn, run_id)
        assert run is not None
        execution = Execution(self, run, job, self._finished)
        self.active[job.name][run_id] = execution
        if adopt is None and run.status == "queued":
            execution.begin()
        coro = adopt(execution) if adopt else execution.start_new()
        execution.task = asyncio.ensure_future(self._guard(execution, coro))
        return execution

    async def _guard(self, execution: Execution, coro) -> None:
        """An unexpected error in one run must not take the scheduler down: record it as lost."""
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = f"internal error: {type(exc).__name__}: {exc}"
            self.db(runs.finish, execution.run_id, "lost", self.clock.now(), reason=reason)
            self.events.emit("error", execution.job.name, execution.run_id, error=reason)
            self.alerter.on_run(execution.run_id, job_name=execution.job.name)
            self._finished(execution, "lost")

    def _finished(self, execution: Execution, status: str) -> None:
        job = execution.job
        self.active[job.name].pop(execution.run_id, None)
        live = self.config.jobs.get(job.name, job)
        if status in ("failed", "timed_out") and execution.run.attempt <= live.retries:
            self._schedule_retry(live, execution.run)
        self.db(logs.prune, job.name, live.log_keep_runs)
        self._drain_queue(live)
        self._wake.set()

    def _drain_queue(self, job: Job) -> None:
        queue = self.queues[job.name]
        while queue and (not self.active[job.name] or
                         (job.concurrency == "allow" and len(self.active[job.name]) < job.max_concurrent)):
            self.launch(job, queue.popleft())

    def _schedule_retry(self, job: Job, run: Run) -> None:
        delay = job.retry_delay * (2 ** (run.attempt - 1)) * random.uniform(1.0, 1.25)
        now = self.clock.now()
        run_id = self.db(runs.insert, job.name, run.scheduled_at, trigger="retry", now=now,
                         attempt=run.attempt + 1, not_before=now + delay, runner=job.runner_kind)
        if run_id is not None:
            heapq.heappush(self._retries, (now + delay, run_id))
            self.events.emit("retried", job.name, run_id, attempt=run.attempt + 1, after_s=round(delay, 3),
                             previous_run=run.id)

    def _start_due_retries(self, now: float) -> None:
        while self._retries and self._retries[0][0] <= now:
            _, run_id = heapq.heappop(self._retries)
            run = runs.get(self.conn, run_id)
            job = self.config.jobs.get(run.job) if run else None
            if run is None or run.status != "queued":
                continue
            if job is None:
                self._end_unstarted(_ghost(run.job), run_id, "skipped", "job removed from jobs.toml")
                continue
            self.admit(job, run_id, "retry")

    def add_retry(self, when: float, run_id: int) -> None:
        heapq.heappush(self._retries, (when, run_id))

    # --- control, lease, reload ---------------------------------------------------------
    async def take_control(self) -> None:
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version:
            return
        self._data_version = version
        await handle_pending(self)

    def _heartbeat(self, now: float) -> None:
        if not self.db(lease.heartbeat, self.owner, now):
            self.lease_lost = True
            holder = lease.holder(self.conn)
            self.events.emit("lease_lost", owner=self.owner, holder=holder.owner if holder else None)
            for per_job in self.active.values():
                for execution in per_job.values():
                    execution.kill("scheduler lost its lease")

    def reload(self, why: str) -> tuple[bool, str]:
        self._config_stamp = _stamp(self.config.path)
        now = self.clock.now()
        try:
            new = load_config(self.config.path)
        except ConfigError as exc:
            self.db(state.put_meta, "config_errors", exc.errors, now)
            self.events.emit("reload_failed", why=why, errors=exc.errors)
            return False, "; ".join(exc.errors)
        old = self.config
        self.config = new
        self.db(state.put_meta, "config_errors", [], now)
        for name in set(old.jobs) | set(new.jobs):
            if old.jobs.get(name) != new.jobs.get(name):
                self._gen[name] += 1
                if name in new.jobs:
                    self._push_next(new.jobs[name], self._last_slot.get(name, now))
        self.events.emit("reloaded", why=why, jobs=len(new.jobs))
        return True, f"reloaded: {len(new.jobs)} jobs"

    async def _check_engines(self) -> None:
        hosts = {job.docker_host for job in self.config.jobs.values() if job.image}
        if not hosts:
            return
        status = await asyncio.to_thread(self.runners.engine_status, hosts)
        previous = state.get_meta(self.conn, "engines", {})
        if status != {k: {"up": v.get("up"), "error": v.get("error")} for k, v in previous.items()}:
            for host, info in status.items():
                self.events.emit("engine_up" if info["up"] else "engine_down", host=host, error=info["error"])
        now = self.clock.now()
        self.db(state.put_meta, "engines", {k: {**v, "checked_at": now} for k, v in status.items()}, now)


class _Timers:
    """Periodic chores on the monotonic clock, so wall-clock jumps do not starve or flood them."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def due(self, name: str, mono: float, every: float) -> bool:
        if mono - self._last.get(name, -1e18) >= every:
            self._last[name] = mono
            return True
        return False

    def left(self, name: str, mono: float, every: float) -> float:
        return self._last.get(name, mono) + every - mono


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def _stamp(path: str) -> tuple[float, int] | None:
    try:
        info = os.stat(path)
        return (info.st_mtime, info.st_size)
    except OSError:
        return None


def _ghost(name: str) -> Job:
    from panda_tui.schedule import Schedule
    return Job(name=name, schedule=Schedule("@daily"))
