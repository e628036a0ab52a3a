"""Structured decision log: one JSON object per line (event, job, run_id, fields)."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from panda_tui.store.ledger import RunChanged, RunStatus, Trigger, lateness_s
from panda_tui.text import iso


class EventLog:
    """Writes each decision as a JSON line."""

    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream
        self._lock = threading.Lock()
        self.redact: Callable[[str], str] | None = None  # masks every secret the running config can reach

    def emit(self, event: str, job: str | None = None, run_id: int | None = None, **fields: Any) -> None:
        record = {"ts": round(time.time(), 3), "event": event}
        if job is not None:
            record["job"] = job
        if run_id is not None:
            record["run_id"] = run_id
        record.update(fields)
        if self.redact is not None:
            record = {key: _masked(value, self.redact) for key, value in record.items()}
        if self.stream is not None:
            line = json.dumps(record, default=str)
            with self._lock:
                try:
                    self.stream.write(line + "\n")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass


def _masked(value: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (list, tuple)):
        return [_masked(item, redact) for item in value]
    return value


def stdout_log() -> EventLog:
    return EventLog(sys.stdout)


class DecisionLog:
    """Tells the decision log of every run change, as the ledger announces it after each commit."""

    def __init__(self, events: EventLog):
        self.events = events

    def on_change(self, change: RunChanged) -> None:
        run, previous = change.run, change.previous
        fields: dict[str, Any] = {}
        if previous is None and run.status == RunStatus.QUEUED:
            name = "retried" if run.trigger == Trigger.RETRY else "scheduled"
            fields = {"scheduled_at": iso(run.scheduled_at), "trigger": run.trigger, "attempt": run.attempt}
            if run.not_before is not None:
                fields["not_before"] = iso(run.not_before)
        elif run.status == RunStatus.RUNNING:
            name = "started"
            fields = {"attempt": run.attempt, "trigger": run.trigger,
                      "lateness_s": lateness_s(run)}
        elif previous == RunStatus.RUNNING:
            name = "finished"
            fields = {"status": str(run.status), "exit_code": run.exit_code, "reason": run.reason,
                      "duration_s": None if run.duration_s is None else round(run.duration_s, 3)}
        else:  # a slot recorded skipped or missed, or a queued run that ended without starting
            name = str(run.status)
            fields = {"scheduled_at": iso(run.scheduled_at), "reason": run.reason}
        self.events.emit(name, run.job, run.id, **fields)
