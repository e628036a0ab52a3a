"""Which alerts and pings a run's change deserves; they go to the outbox, never straight to the network."""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

from panda_tui.alerts import outbox
from panda_tui.config import Job
from panda_tui.engine.execution import iso
from panda_tui.store import logs, runs
from panda_tui.store.runs import Run

if TYPE_CHECKING:
    from panda_tui.engine.scheduler import Scheduler

BAD_EVENTS = ("failed", "timed_out", "lost", "missed", "killed")
PING_SUFFIX = {"started": "/start", "succeeded": "", "failed": "/fail", "timed_out": "/fail", "lost": "/fail",
               "killed": "/fail"}


def event_payload(run: Run, event: str, conn) -> dict:
    return {
        "event": event, "job": run.job, "run_id": run.id, "status": run.status,
        "scheduled_at": iso(run.scheduled_at), "started_at": iso(run.started_at) if run.started_at else None,
        "finished_at": iso(run.finished_at) if run.finished_at else None, "duration_s": run.duration_s,
        "exit_code": run.exit_code, "reason": run.reason, "attempt": run.attempt, "trigger": run.trigger,
        "host": socket.gethostname(),
        "log_tail": [line.text for line in logs.tail(conn, run.id, 20)],  # stored lines: already masked
    }


class Alerter:
    def __init__(self, sched: Scheduler):
        self.sched = sched
        self.slow_sent: set[int] = set()
        self._thresholds: dict[str, tuple[float, float | None]] = {}

    def on_run(self, run_id: int, started: bool = False, job_name: str | None = None) -> None:
        if job_name is not None:  # the common case, no alerts: decide without touching the store
            known = self.sched.config.jobs.get(job_name)
            if known is None or (not known.alerts and not known.heartbeat):
                return
        conn = self.sched.conn
        run = runs.get(conn, run_id)
        job = self.sched.config.jobs.get(run.job) if run else None
        if run is None or job is None or (not job.alerts and not job.heartbeat):
            return
        events = ["started"] if started else self._events(job, run)
        now = self.sched.clock.now()
        if any(e in BAD_EVENTS for e in events) and self._suppressed(job, run, now):
            events = [e for e in events if e not in BAD_EVENTS]
        self.sched.db(self._enqueue, job, run, events, now)

    def _events(self, job: Job, run: Run) -> list[str]:
        if run.status in BAD_EVENTS:
            return [run.status]
        if run.status != "succeeded":
            return [run.status]  # e.g. skipped: only for targets that ask for it
        events = ["succeeded"]
        previous = self.sched.conn.execute(
            "SELECT status FROM runs WHERE job=? AND id<? AND status NOT IN ('queued','running','skipped')"
            " ORDER BY id DESC LIMIT 1", (job.name, run.id)).fetchone()
        if previous and previous[0] in BAD_EVENTS:
            events.append("recovered")
        if job.fast_before and run.duration_s is not None and run.duration_s < job.fast_before:
            events.append("fast")
        return events

    def _suppressed(self, job: Job, run: Run, now: float) -> bool:
        """The same failure streak alerts again only after repeat_after."""
        row = self.sched.conn.execute(
            "SELECT MAX(finished_at) FROM runs WHERE job=? AND status='succeeded' AND id<?",
            (job.name, run.id)).fetchone()
        last = outbox.last_failure_alert(self.sched.conn, job.name, row[0] or 0.0)
        return last is not None and now - last < job.repeat_after

    def _enqueue(self, conn, job: Job, run: Run, events: list[str], now: float) -> None:
        targets = self.sched.config.alerts
        for event in events:
            payload = None
            for name in job.alerts:
                target = targets.get(name)
                if target is not None and event in target.on:
                    payload = payload or event_payload(run, event, conn)
                    outbox.enqueue(conn, event, name, payload, now, job.name, run.id)
            if job.heartbeat and event in PING_SUFFIX:
                url = job.heartbeat.rstrip("/") + PING_SUFFIX[event]
                outbox.enqueue(conn, event, "ping", {"url": url, "rid": str(run.id)}, now, job.name, run.id)

    def check_slow(self) -> None:
        """"slow" fires once while a run exceeds slow_after (a duration, or pN x the job's p95)."""
        now = self.sched.clock.now()
        for name, active in self.sched.active.items():
            job = self.sched.config.jobs.get(name)
            if job is None or job.slow_after is None or not job.alerts:
                continue
            limit = self._threshold(job)
            for execution in active.values():
                started = execution.run.started_at
                if limit is None or started is None or execution.run_id in self.slow_sent:
                    continue
                if now - started > limit:
                    self.slow_sent.add(execution.run_id)
                    run = runs.get(self.sched.conn, execution.run_id)
                    self.sched.db(self._enqueue, job, run, ["slow"], now)

    def _threshold(self, job: Job) -> float | None:
        if isinstance(job.slow_after, float):
            return job.slow_after
        cached = self._thresholds.get(job.name)
        if cached and time.monotonic() - cached[0] < 60:
            return cached[1]
        factor = float(str(job.slow_after)[4:])
        durations = [r.duration_s for r in runs.recent_outcomes(self.sched.conn, job.name, 100)
                     if r.status == "succeeded" and r.duration_s is not None]
        limit = None
        if len(durations) >= 5:
            ordered = sorted(durations)
            limit = factor * ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        self._thresholds[job.name] = (time.monotonic(), limit)
        return limit

