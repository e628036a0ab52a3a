"""Which alerts and pings a run's change deserves. The ledger announces each change inside its transaction,
so an alert's outbox row commits with the change itself: neither exists without the other."""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import Callable

from panda_tui.config import Config, Job
from panda_tui.clock import Clock
from panda_tui.alerts import rules
from panda_tui.alerts.answer import answer
from panda_tui.store import acks, ledger, logs, outbox, verdicts
from panda_tui.store.db import Database
from panda_tui.store.ledger import TROUBLE, Run, RunChanged, RunStatus
from panda_tui.text import iso

PING_SUFFIX = {"started": "/start", "succeeded": "", "failed": "/fail", "timed_out": "/fail", "lost": "/fail",
               "killed": "/fail"}


def event_payload(run: Run, event: str, conn: sqlite3.Connection, job: Job | None = None,
                  config: Config | None = None, now: float | None = None) -> dict:
    """The run's facts, and with its job and config the answer inside the alert (alerts/answer.py)."""
    extra = answer(conn, run, job, config, event, now or time.time()) if config is not None else {}
    return {
        "event": event, "job": run.job, "run_id": run.id, "status": str(run.status),
        "scheduled_at": iso(run.scheduled_at), "started_at": iso(run.started_at) if run.started_at else None,
        "finished_at": iso(run.finished_at) if run.finished_at else None, "duration_s": run.duration_s,
        "exit_code": run.exit_code, "reason": run.reason, "attempt": run.attempt, "trigger": run.trigger,
        "host": socket.gethostname(),
        "log_tail": log_tail(conn, run.id),
        **extra,
    }


TAIL_LINES = 20
TAIL_CHARS = 2000  # of each tail line: a 20 MB line (stored in 64 KiB pieces) costs an alert 2 KB a piece


def log_tail(conn: sqlite3.Connection, run_id: int) -> list[str]:
    """The run's last lines (stored: already masked), each cut in SQL at TAIL_CHARS with what was left out,
    so an alert's payload (kept in the outbox) and the memory it takes stay bounded however long a line is."""
    return [line.text + (f" … {line.more} bytes more" if line.more else "")
            for line in logs.tail(conn, run_id, TAIL_LINES, TAIL_CHARS)]


class Alerter:
    def __init__(self, config: Callable[[], Config], clock: Clock):
        self.config = config
        self.clock = clock
        self.slow_sent: set[int] = set()
        self._thresholds: dict[str, tuple[float, float | None]] = {}

    def on_change(self, change: RunChanged, conn: sqlite3.Connection) -> None:
        run = change.run
        job = self.config().jobs.get(run.job)
        if job is None or (not job.alerts and not job.heartbeat):
            return  # the common case: decided without touching the store
        now = self.clock.now()
        if run.status == RunStatus.RUNNING:
            self._enqueue(conn, job, run, ["started"], ["started"], now)
        elif run.status in ledger.FINAL:
            events = self._events(job, run, conn)
            alerts, hold = self._noise_control(job, run, events, now, conn) if job.alerts else ([], None)
            self._enqueue(conn, job, run, alerts, events, now, hold)

    def _events(self, job: Job, run: Run, conn: sqlite3.Connection) -> list[str]:
        if run.status != RunStatus.SUCCEEDED:
            return [str(run.status)]  # skipped: only for targets that ask for it
        events = ["succeeded"]
        previous = ledger.recent_outcomes(conn, job.name, 1, before_id=run.id)
        if previous and previous[0].status in TROUBLE:
            events.append("recovered")
        if job.fast_before and run.duration_s is not None and run.duration_s < job.fast_before:
            events.append("fast")
        return events

    def _noise_control(self, job: Job, run: Run, events: list[str], now: float, conn: sqlite3.Connection
                       ) -> tuple[list[str], rules.Open | None]:
        """The events that alert (after, repeat_after, flapping, ack, maintenance), and the window holding them."""
        previous = ledger.recent_outcomes(conn, job.name, verdicts.FLAP_READS, before_id=run.id)
        bad = [run.status in TROUBLE] + [o.status in TROUBLE for o in previous]  # this run counts, even unstarted
        opened = rules.window_at(self.config().maintenance, job.name, now)
        if opened is not None and run.status == RunStatus.MISSED:
            return [], None  # a slot missed during maintenance is not an alarm
        if opened is not None and opened.window.during == "drop":
            return [], None
        since = ledger.last_success_finished(conn, job.name, run.id) or 0.0
        ack = acks.get(conn, job.name)
        out = []
        flapping = verdicts.flaps(r.status for r in verdicts.by_slot([run, *previous], job.retries)).flapping
        if flapping and any(e in TROUBLE or e == "recovered" for e in events):
            last = outbox.last_alert(conn, job.name, ("flapping",), now - job.repeat_after)
            silenced = rules.ack_silences(ack, now, since or None)  # acked while it flaps
            out = ["flapping"] if last is None and not silenced else []
            return out + [e for e in events if e not in TROUBLE and e != "recovered"], opened
        for event in events:
            if event in TROUBLE:
                last = outbox.last_alert(conn, job.name, TROUBLE, since)
                if not rules.trouble_alerts(rules.streak(bad), job.after, last, now, job.repeat_after):
                    continue
                if rules.ack_silences(ack, now, since or None, alerted=last is not None):
                    continue  # acknowledged: its first alert went out (or the ack has a time), reminders do not
            elif event == "recovered" and not rules.recovery_alerts(rules.streak(bad[1:]), job.after):
                continue
            out.append(event)
        return out, opened

    def _enqueue(self, conn: sqlite3.Connection, job: Job, run: Run, events: list[str], pings: list[str],
                 now: float, hold: rules.Open | None = None) -> None:
        targets = self.config().alerts
        for event in events:
            payload = None
            for name in job.alerts:
                target = targets.get(name)
                if target is not None and event in target.on:
                    payload = payload or event_payload(run, event, conn, job, self.config(), now)
                    release, item = now, payload
                    if hold is not None:
                        release, item = hold.end, {**payload, "held": hold.window.name}
                    elif target.group_wait:
                        release = rules.release_at(outbox.open_release(conn, name, now), now, target.group_wait)
                    outbox.enqueue(conn, event, name, item, now, job.name, run.id, release)
        for event in pings:
            if job.heartbeat and event in PING_SUFFIX:
                url = job.heartbeat.rstrip("/") + PING_SUFFIX[event]
                outbox.enqueue(conn, event, "ping", {"url": url, "rid": str(run.id)}, now, job.name, run.id)

    def check_slow(self, db: Database) -> None:
        """"slow" fires once while a run exceeds slow_after (a duration, or pN x the job's p95)."""
        now = self.clock.now()
        jobs = self.config().jobs
        watched = {name for name, job in jobs.items() if job.slow_after is not None and job.alerts}
        if not watched:
            return  # the common case: no query at all
        for run in ledger.active(db.conn):
            job = jobs.get(run.job)
            if job is None or run.job not in watched or run.started_at is None or run.id in self.slow_sent:
                continue
            limit = self._threshold(job, db.conn)
            if limit is not None and now - run.started_at > limit:
                self.slow_sent.add(run.id)
                with db.transaction() as conn:
                    self._enqueue(conn, job, run, ["slow"], [], now)

    def _threshold(self, job: Job, conn: sqlite3.Connection) -> float | None:
        if isinstance(job.slow_after, float):
            return job.slow_after
        cached = self._thresholds.get(job.name)
        if cached and time.monotonic() - cached[0] < 60:
            return cached[1]
        if job.slow_after is None:
            return None
        factor = job.slow_after.factor
        durations = [r.duration_s for r in ledger.recent_outcomes(conn, job.name, 100)
                     if r.status == RunStatus.SUCCEEDED and r.duration_s is not None]
        limit = None
        if len(durations) >= 5:
            ordered = sorted(durations)
            limit = factor * ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        self._thresholds[job.name] = (time.monotonic(), limit)
        return limit
