"""How a stored log line reads on screen: stream marks, JSON lines as level + message + fields."""

from __future__ import annotations

from datetime import datetime

from panda_tui.store import log_queries
from panda_tui.store.ledger import Run, RunStatus
from panda_tui.store.logs import LogLine
from panda_tui.text import safe, status_word

MARK = {"out": "  ", "err": "! ", "sys": "# "}


def render(line: LogLine, raw: bool = False, stamps: bool = False) -> str:
    """Mark, (the stored time,) then the text: JSON lines as level, message and fields unless `raw`."""
    text = line.text if raw else log_queries.readable(line.text)
    stamp = datetime.fromtimestamp(line.ts).astimezone().strftime("%H:%M:%S.%f")[:-3] + " " if stamps else ""
    cut = f" … {size_words(line.more)} more; s saves the whole line" if line.more else ""
    return MARK.get(line.stream, "  ") + stamp + safe(text) + cut


def size_words(n: int) -> str:
    """19_900_000 → "19.9 MB", 12_300 → "12.3 kB", 950 → "950 bytes"."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1000:
        return f"{n / 1000:.1f} kB"
    return f"{n} bytes"


NO_LOG_WHY = {RunStatus.MISSED: "it never started", RunStatus.SKIPPED: "it never started",
              RunStatus.QUEUED: "it has not started yet", RunStatus.LOST: "its output was lost with it"}


def no_log_note(run: Run) -> list[LogLine]:
    """What the pane shows for a run with no line (missed, skipped, lost, queued): its whole reason, as
    panda-tui's own note, so that opening such a run answers why instead of showing nothing."""
    why = NO_LOG_WHY.get(run.status, "it wrote nothing")
    lines = [f"[panda] run {run.id} {status_word(run.status)}: no log ({why})"]
    if run.reason:
        lines.append(f"[panda] reason: {run.reason}")
    return [LogLine(run.id, -i, run.finished_at or run.queued_at or run.scheduled_at, "sys", text)
            for i, text in enumerate(lines)]


def is_error(line: LogLine) -> bool:
    return log_queries.is_error(line.stream, line.text)
