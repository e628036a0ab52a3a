"""The line that names a job's missed runs nobody acknowledged: which, when and why, and how to quiet it."""

from __future__ import annotations

import sqlite3

from panda_tui.readmodel.health import DAY, JobHealth
from panda_tui.store.missed import missed_after
from panda_tui.text import reason_head, span, when


def missed_line(conn: sqlite3.Connection, h: JobHealth, now: float) -> str | None:
    """`hello: 2 runs missed 07:33:00–07:33:15 (scheduler down); panda-tui ack hello to quiet it`, or None
    when every run it missed in 24 h is acknowledged (or none was)."""
    if not h.missed_open:
        return None
    missed = missed_after(conn, h.name, now - DAY, h.missed_acked_until)
    if not missed.count or missed.first is None or missed.last is None:
        return None
    runs = "1 run" if missed.count == 1 else f"{missed.count} runs"
    at = when(missed.first, now) if missed.first == missed.last else span(missed.first, missed.last, now)
    why = f" ({reason_head(missed.reason)})" if missed.reason and reason_head(missed.reason) else ""
    return f"{h.name}: {runs} missed {at}{why}; panda-tui ack {h.name} to quiet it"
