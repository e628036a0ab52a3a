"""Control requests: consoles and the CLI ask; the one scheduler takes, acts and answers."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from panda_tui.store import lease
from panda_tui.store.db import connect

ANSWER_WAIT = 10.0  # seconds the scheduler gets to answer: the CLI, the console and the API alike


class ControlKind(StrEnum):
    TRIGGER = "trigger"
    PAUSE = "pause"
    RESUME = "resume"
    KILL = "kill"
    RELOAD = "reload"
    FORGET = "forget"  # remove a job no config declares (its runs and logs)
    ACK = "ack"  # args: by (user@host), for (seconds, optional), note
    UNACK = "unack"


class Reply(StrEnum):
    """How a round trip ended."""
    DONE = "done"  # carried out; the text is the scheduler's outcome
    REFUSED = "refused"  # the scheduler could not carry it out; the text says why
    NO_SCHEDULER = "no_scheduler"  # nobody holds the lease: nothing was asked
    NO_ANSWER = "no_answer"  # asked, but not answered in time: the request stays pending


@dataclass(frozen=True)
class Answer:
    reply: Reply
    text: str
    request_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.reply == Reply.DONE


@dataclass(frozen=True)
class Request:
    id: int
    kind: ControlKind
    job: str | None
    run_id: int | None
    args: dict[str, Any]
    requested_at: float
    taken_at: float | None = None
    done_at: float | None = None
    outcome: str | None = None
    error: str | None = None


_COLS = "id, kind, job, run_id, args, requested_at, taken_at, done_at, outcome, error"


def _req(row: Sequence[Any]) -> Request:
    return Request(row[0], ControlKind(row[1]), row[2], row[3], json.loads(row[4] or "{}"), *row[5:])


NOTES = (ControlKind.ACK, ControlKind.UNACK)  # notes in the store, not actions: recorded with no scheduler too
NOT_RUNNING = "no scheduler runs: recorded in the store; alerts honour it once one starts"


def _note_here(conn: sqlite3.Connection, kind: ControlKind, job: str, args: dict[str, Any]) -> Answer:
    """An ack or unack while no scheduler runs: the asker carries it out with the scheduler's own code
    (store.acking), and its request row is answered as the scheduler would have."""
    from panda_tui.store.acking import AckRefused, carry_out
    from panda_tui.store.db import transaction
    now = time.time()
    with transaction(conn):
        req_id = submit(conn, kind, job=job, args=args, now=now)
        conn.execute("UPDATE control SET taken_at=? WHERE id=?", (now, req_id))
        try:
            outcome, error = carry_out(conn, kind == ControlKind.ACK, job, args, now), None
        except AckRefused as exc:
            outcome, error = None, str(exc)
        complete(conn, req_id, now, outcome, error)
    if error is not None:
        return Answer(Reply.REFUSED, error, req_id)
    return Answer(Reply.DONE, f"{outcome} ({NOT_RUNNING})", req_id)


def submit(conn: sqlite3.Connection, kind: ControlKind | str, job: str | None = None, run_id: int | None = None,
           args: dict[str, Any] | None = None, now: float | None = None) -> int:
    kind = ControlKind(kind)
    cur = conn.execute(
        "INSERT INTO control(kind, job, run_id, args, requested_by, requested_at) VALUES (?,?,?,?,?,?)",
        (kind, job, run_id, json.dumps(args or {}), f"{socket.gethostname()}:{os.getpid()}",
         time.time() if now is None else now))
    return int(cur.lastrowid or 0)


def take_pending(conn: sqlite3.Connection, now: float) -> list[Request]:
    """Mark every pending request taken and return them, oldest first (in the caller's transaction).
    A row that does not parse (an unknown kind, args that are not a JSON object) is answered with the
    error here and left out: a bad row fails alone."""
    rows = conn.execute(f"SELECT {_COLS} FROM control WHERE taken_at IS NULL ORDER BY id").fetchall()
    if rows:
        conn.execute("UPDATE control SET taken_at=? WHERE taken_at IS NULL AND id<=?", (now, rows[-1][0]))
    taken: list[Request] = []
    for row in rows:
        try:
            req = _req(row)
            if not isinstance(req.args, dict):
                raise ValueError("args is not a JSON object")
        except (ValueError, TypeError) as exc:
            complete(conn, row[0], now, error=f"malformed request {row[0]}: {str(exc)[:200]}")
            continue
        taken.append(req)
    return taken


def complete(conn: sqlite3.Connection, request_id: int, now: float, outcome: str | None = None,
             error: str | None = None) -> None:
    conn.execute("UPDATE control SET done_at=?, outcome=?, error=? WHERE id=?", (now, outcome, error, request_id))


def get(conn: sqlite3.Connection, request_id: int) -> Request | None:
    row = conn.execute(f"SELECT {_COLS} FROM control WHERE id=?", (request_id,)).fetchone()
    return _req(row) if row else None


def wait_done(conn: sqlite3.Connection, request_id: int, timeout: float = 5.0,
              interval: float = 0.05) -> Request | None:
    """Poll until the scheduler answers; the request as it stands when done or when time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        req = get(conn, request_id)
        if req is None or req.done_at is not None or time.monotonic() >= deadline:
            return req
        time.sleep(interval)


def ask(db_path: str, kind: ControlKind | str, *, job: str | None = None, run_id: int | None = None,
        args: dict[str, Any] | None = None, timeout: float = ANSWER_WAIT) -> Answer:
    """The one round trip of the console, the CLI and the API: leave a request for the scheduler that holds
    the lease, and wait for its answer. Blocking: call it from a worker thread."""
    conn = connect(db_path, create=False)
    try:
        if lease.live_holder(conn) is None:
            if ControlKind(kind) in NOTES:
                return _note_here(conn, ControlKind(kind), job or "", args or {})
            return Answer(Reply.NO_SCHEDULER, "no scheduler is running")
        req_id = submit(conn, kind, job=job, run_id=run_id, args=args)
        done = wait_done(conn, req_id, timeout=timeout)
    finally:
        conn.close()
    if done is None or done.done_at is None:
        return Answer(Reply.NO_ANSWER, f"the scheduler did not answer within {timeout:.0f} s "
                                       f"(request {req_id} is still pending)", req_id)
    if done.error:
        return Answer(Reply.REFUSED, done.error, req_id)
    return Answer(Reply.DONE, done.outcome or "done", req_id)
