"""`s` in a log: the whole run's log, as stored (secrets masked), to a file of its own."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone

from panda_tui.store import log_queries, pieces
from panda_tui.text import safe
from panda_tui.tui.log_format import render


def save(conn: sqlite3.Connection, run_id: int, job: str) -> tuple[str, int]:
    """Write the whole run's log (as stored: masked) to a file of its own, one line each: the stored time
    in UTC, the stream's mark, the text; a long line's pieces (store.pieces) as that one line, written piece by
    piece as the pages come. Returns (path, lines)."""
    for folder in (os.getcwd(), os.path.expanduser("~"), "/tmp"):
        path = _free_name(folder, f"{job}-run-{run_id}.log")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError:
            continue
        count = 0
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for line, goes_on in pieces.joined(log_queries.each_line(conn, run_id)):
                if goes_on:
                    fh.write(safe(line.text))
                    continue
                stamp = datetime.fromtimestamp(line.ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
                fh.write(f"{chr(10) if count else ''}{stamp}Z {render(line, raw=True)}")
                count += 1
            if count:
                fh.write("\n")
        return path, count
    raise OSError("no folder to write to (tried the current one, home and /tmp)")


def _free_name(folder: str, name: str) -> str:
    path = os.path.join(folder, name)
    stem, dot, ext = name.rpartition(".")
    n = 1
    while os.path.exists(path):
        n += 1
        path = os.path.join(folder, f"{stem}-{n}{dot}{ext}")
    return path
