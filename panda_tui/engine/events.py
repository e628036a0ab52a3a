"""Structured decision log: one JSON object per line ("ts", "event", "job", "run_id", then the fields of
the decision; panda_tui/decisions.py holds the vocabulary)."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from panda_tui import decisions as d
from panda_tui.store.ledger import RunChanged, RunStatus, Trigger, lateness_s
from panda_tui.text import iso


class EventLog:
    """Writes each decision as a JSON line to `stream`, every secret the running config can reach masked
    first; with no stream (a console's embedded scheduler, whose terminal is the console) it writes nothing."""

    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream
        self._lock = threading.Lock()
        self.redact: Callable[[str], str] | None = None  # masks every secret the running config can reach

    def emit(self, decision: d.Decision) -> None:
        record: dict[str, Any] = {"ts": iso(time.time(), ms=True), "event": decision.name()}
        record.update(decision.record())
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
        self.events.emit(decision_of(change))


def decision_of(change: RunChanged) -> d.Decision:
    """The decision-log line of a run's status change."""
    run, previous = change.run, change.previous
    if previous is None and run.status == RunStatus.QUEUED:
        made = d.Retried if run.trigger == Trigger.RETRY else d.Scheduled
        return made(run.job, run.id, iso(run.scheduled_at), str(run.trigger), run.attempt,
                    None if run.not_before is None else iso(run.not_before))
    if run.status == RunStatus.RUNNING:
        return d.Started(run.job, run.id, run.attempt, str(run.trigger), lateness_s(run))
    if previous == RunStatus.RUNNING:
        return d.Finished(run.job, run.id, str(run.status), run.exit_code, run.reason,
                          None if run.duration_s is None else round(run.duration_s, 3))
    # a slot recorded skipped or missed, or a queued run that ended without starting
    return d.Settled(run.job, run.id, str(run.status), iso(run.scheduled_at), run.reason)
