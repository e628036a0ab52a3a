"""Structured decision log: one JSON object per line (event, job, run_id, fields)."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from typing import IO, Any


class EventLog:
    """Writes each decision as a JSON line; keeps the last few in memory for the console."""

    def __init__(self, stream: IO[str] | None = None, keep: int = 200):
        self.stream = stream
        self.recent: deque[dict[str, Any]] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def emit(self, event: str, job: str | None = None, run_id: int | None = None, **fields: Any) -> None:
        record = {"ts": round(time.time(), 3), "event": event}
        if job is not None:
            record["job"] = job
        if run_id is not None:
            record["run_id"] = run_id
        record.update(fields)
        self.recent.append(record)
        if self.stream is not None:
            line = json.dumps(record, default=str)
            with self._lock:
                try:
                    self.stream.write(line + "\n")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass


def stdout_log() -> EventLog:
    return EventLog(sys.stdout)
