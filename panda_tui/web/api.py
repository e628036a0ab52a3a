"""`/api/…`: health, runs and logs as JSON (a log followed as Server-Sent Events), and the control requests
of the CLI (trigger, pause, resume, kill) for whoever holds the token, when serve allows control."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from datetime import datetime, timezone
from typing import overload

from aiohttp import web

from panda_tui import fields
from panda_tui.config import Config
from panda_tui.readmodel import run_diff
from panda_tui.readmodel.acks import acks_json
from panda_tui.readmodel.status import read_status, run_json, status_json
from panda_tui.store import control, ledger, logs
from panda_tui.store.control import ANSWER_WAIT, ControlKind, Reply
from panda_tui.text import iso
from panda_tui.web.backend import Backend
from panda_tui.web.follow import StoreWatcher

log = logging.getLogger("panda_tui.web")

KEEPALIVE = 15.0
MAX_ID = (1 << 63) - 1  # SQLite's largest integer: a larger run id or line number names nothing


def error(status: int, message: str, **extra) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


@overload
def _int(request: web.Request, name: str, default: int, low: int, high: int) -> int: ...
@overload
def _int(request: web.Request, name: str, default: None, low: int, high: int) -> int | None: ...
def _int(request: web.Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _Bad(f"{name}: expected a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise _Bad(f"{name}: expected {low}..{high}, got {value}")
    return value


class _Bad(Exception):
    """A query parameter or body that cannot be used: 400 with the message."""


def _line(line: logs.LogLine) -> dict:
    return {"seq": line.seq, "ts": iso(line.ts, ms=True), "stream": line.stream, "text": line.text,
            "more": line.more}


def _run_id(request: web.Request) -> int | None:
    """The route's run id, or None when no run can have it (past 64 bits: SQLite would overflow)."""
    text = request.match_info["id"]
    if not text.isascii() or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def _resume_from(request: web.Request, after: int) -> int:
    """A reconnecting follower's Last-Event-ID (the last line it got), else `after`."""
    resume = request.headers.get("Last-Event-ID")
    if resume is None or resume == "":
        return after
    if not (resume.isascii() and resume.isdigit() and len(resume) <= 19 and int(resume) <= MAX_ID):
        raise _Bad("Last-Event-ID: expected the number of a log line this stream sent")
    return int(resume)


class Api:
    def __init__(self, backend: Backend):
        self.backend = backend
        self.closing = asyncio.Event()  # set on shutdown: log followers end their streams
        self.watcher = StoreWatcher(backend.db_path)

    async def close(self, _app: web.Application | None = None) -> None:
        """Serve is stopping: every follower ends its stream."""
        self.closing.set()
        self.watcher.close()

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/api/jobs", self.jobs),
            web.get("/api/jobs/{job}/runs", self.runs),
            web.get("/api/runs/{id:\\d+}", self.run),
            web.get("/api/runs/{id:\\d+}/log", self.log),
            web.get("/api/jobs/{job}/diff", self.diff),
            web.get("/api/jobs/{job}/runs/{id:\\d+}/diff", self.diff),
            web.post("/api/jobs/{job}/{kind:trigger|pause|resume|ack|unack}", self.act_on_job),
            web.post("/api/runs/{id:\\d+}/kill", self.kill_run),
        ]

    @web.middleware
    async def bad_requests(self, request: web.Request, handler):
        try:
            return await handler(request)
        except _Bad as exc:
            return error(400, str(exc))

    # --- reading --------------------------------------------------------------------------
    async def jobs(self, request: web.Request) -> web.Response:
        config = self.backend.config
        now = time.time()
        document = await self.backend.read(lambda conn: _jobs_json(conn, config, now))
        if self.backend.config_error:
            document["config_error"] = self.backend.config_error
        return web.json_response(document)

    async def runs(self, request: web.Request) -> web.Response:
        job = request.match_info["job"]
        limit = _int(request, "limit", 20, 1, 1000)
        before = _int(request, "before", None, 1, 1 << 62)
        rows = await self.backend.read(lambda conn: ledger.history(conn, job, limit, before))
        if not rows and job not in self.backend.config.jobs:
            return error(404, f'no job named "{job}" in jobs.toml, and no runs of it in the store')
        return web.json_response([run_json(r) for r in rows])

    async def run(self, request: web.Request) -> web.Response:
        run = await self._run_or_none(_run_id(request))
        return web.json_response(run_json(run)) if run else error(404, f"no run {request.match_info['id'][:40]}")

    async def diff(self, request: web.Request) -> web.Response:
        """What changed since the job's last good run: for run {id}, or the job's last failed run; against
        ?against=RUN, or the last successful run before it (`good_run` null when there is none)."""
        job = request.match_info["job"]
        against = _int(request, "against", None, 1, MAX_ID)
        wanted = _run_id(request) if "id" in request.match_info else None
        if "id" in request.match_info and wanted is None:
            return error(404, f"no run {request.match_info['id'][:40]} of job {job!r}")

        def read(conn: sqlite3.Connection):
            run = ledger.get(conn, wanted) if wanted is not None else run_diff.default_run(conn, job)
            if run is None or run.job != job:
                return None
            try:
                return run_diff.diff_for_run(conn, run.id, against)
            except run_diff.NoSuchRun as exc:
                return str(exc)

        found = await self.backend.read(read)
        if found is None:
            return error(404, f"no run {wanted} of job {job!r}" if wanted is not None
                         else f"job {job!r} has no finished run")
        if isinstance(found, str):
            return error(404, found)
        return web.json_response({"job": job, **found.as_dict(), "summary": found.summary(),
                                  "lines": run_diff.describe(found)})

    async def _run_or_none(self, run_id: int | None) -> ledger.Run | None:
        return None if run_id is None else await self.backend.read(ledger.get, run_id)

    async def log(self, request: web.Request) -> web.StreamResponse:
        run_id = _run_id(request)
        after = _int(request, "after", 0, 0, 1 << 62)
        run = await self._run_or_none(run_id)
        if run is None or run_id is None:
            return error(404, f"no run {request.match_info['id'][:40]}")
        if request.query.get("follow") in ("1", "true", "yes"):
            return await self._follow(request, run_id, _resume_from(request, after))
        limit = _int(request, "limit", 1000, 1, 10_000)
        lines = await self.backend.read(logs.read, run_id, after, limit + 1, logs.DISPLAY_CAP)
        more = len(lines) > limit
        lines = lines[:limit]
        return web.json_response({"run": run_json(run), "lines": [_line(x) for x in lines],
                                  "next_after": lines[-1].seq if lines else after, "more": more,
                                  "logs_pruned": bool(run.logs_pruned)})

    async def _follow(self, request: web.Request, run_id: int, after: int) -> web.StreamResponse:
        """Each line as an event (its id is its seq, so a reconnecting client resumes where it was), then
        `end` with the run once it is over and every line is out. Between changes it sleeps on the shared
        watcher; once the stream has begun, nothing may answer with a second status line, so a failure ends
        the stream with an `error` event."""
        stream = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                             "X-Accel-Buffering": "no"})
        await stream.prepare(request)
        await stream.write(b"retry: 2000\n\n")
        changed = self.watcher.follow(run_id)
        try:
            await self._stream_lines(stream, run_id, after, changed)
        except (ConnectionResetError, asyncio.CancelledError):
            return stream
        except Exception as exc:  # noqa: BLE001 - the status line is sent: say it in the stream instead
            log.exception("following the log of run %s failed", run_id)
            await stream.write(f"event: error\ndata: {json.dumps({'error': type(exc).__name__})}\n\n".encode())
        finally:
            self.watcher.unfollow(run_id, changed)
        await stream.write_eof()
        return stream

    async def _stream_lines(self, stream: web.StreamResponse, run_id: int, after: int,
                            changed: asyncio.Event) -> None:
        def step(conn: sqlite3.Connection, seq: int):
            run = ledger.get(conn, run_id)  # status first: lines committed before the end are then seen
            return run, logs.read(conn, run_id, seq, 1000, logs.DISPLAY_CAP)

        quiet_since = time.monotonic()
        while not self.closing.is_set():
            changed.clear()  # before reading: a change after this read wakes the wait below
            run, lines = await self.backend.read(step, after)
            if lines:
                await stream.write("".join(
                    f"id: {x.seq}\nevent: line\ndata: {json.dumps(_line(x))}\n\n" for x in lines).encode())
                after, quiet_since = lines[-1].seq, time.monotonic()
                continue
            if run is None or not run.active:
                await stream.write(f"event: end\ndata: {json.dumps({'run': run and run_json(run)})}\n\n".encode())
                return
            try:
                await asyncio.wait_for(changed.wait(), max(0.0, KEEPALIVE - (time.monotonic() - quiet_since)))
            except asyncio.TimeoutError:
                await stream.write(b": still running\n\n")
                quiet_since = time.monotonic()

    # --- acting -------------------------------------------------------------------------
    def _refuse_control(self) -> web.Response | None:
        if self.backend.allow_control:
            return None
        return error(403, "control is off: this server is read-only (start `panda-tui serve --allow-control`)")

    async def act_on_job(self, request: web.Request) -> web.Response:
        if refused := self._refuse_control():
            return refused
        job, kind = request.match_info["job"], request.match_info["kind"]
        if job not in self.backend.config.jobs and await self.backend.read(lambda c: ledger.latest(c, job)) is None:
            return error(404, f'no job named "{job}" in jobs.toml, and no runs of it in the store')
        body = await _body(request)
        args: dict = {}
        if kind == "trigger" and body.get("at") is not None:
            args["at"] = _instant(body["at"])
        if kind == "resume":
            args["catchup"] = bool(body.get("catchup"))
        if kind == "ack":
            args = _ack_args(body, request)
        return await self._ask(ControlKind(kind), job=job, args=args)

    async def kill_run(self, request: web.Request) -> web.Response:
        if refused := self._refuse_control():
            return refused
        run = await self._run_or_none(_run_id(request))
        if run is None:
            return error(404, f"no run {request.match_info['id'][:40]}")
        if not run.active:
            return error(409, f"run {run.id} is not running (it {run.status})", run=run_json(run))
        return await self._ask(ControlKind.KILL, run_id=run.id)

    async def _ask(self, kind: ControlKind, job: str | None = None, run_id: int | None = None,
                   args: dict | None = None) -> web.Response:
        """A control request, answered by the one scheduler holding the lease."""
        answer = await asyncio.to_thread(control.ask, self.backend.db_path, kind, job=job, run_id=run_id,
                                         args=args, timeout=ANSWER_WAIT)
        if answer.reply == Reply.NO_SCHEDULER:
            return error(503, "no scheduler is running on this database: start `panda-tui daemon`")
        if answer.reply == Reply.NO_ANSWER:
            return error(504, answer.text, request_id=answer.request_id)
        if answer.reply == Reply.REFUSED:
            return error(409, answer.text, request_id=answer.request_id)
        return web.json_response({"ok": True, "outcome": answer.text, "request_id": answer.request_id})


def _ack_args(body: dict, request: web.Request) -> dict:
    """An ack from the API: {"by": "ana", "for": "2h", "note": "..."}; who defaults to the caller's address."""
    args: dict = {"by": str(body.get("by") or f"api@{request.remote or 'unknown'}")[:100],
                  "note": str(body.get("note") or "")[:500]}
    if body.get("for") is not None:
        try:
            args["for"] = fields.duration(body["for"])
        except ValueError as exc:
            raise _Bad(f"for: {exc}") from None
    return args


async def _body(request: web.Request) -> dict:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise _Bad("the body must be JSON (or empty)") from None
    if not isinstance(body, dict):
        raise _Bad("the body must be a JSON object")
    return body


def _instant(value) -> float:
    """`at`: ISO 8601 with an offset (or Z), or epoch seconds; from 1970 to 9999, or 400."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _Bad(f"at: expected an ISO 8601 time like 2026-03-29T01:00:00Z, got {value[:60]!r}") from None
        if moment.tzinfo is None:
            raise _Bad(f"at: {value!r} has no offset; add Z or +HH:MM")
        try:
            seconds = moment.astimezone(timezone.utc).timestamp()
        except (OverflowError, ValueError):
            raise _Bad(f"at: {value!r} is out of range ({fields.INSTANT_HINT})") from None
    else:
        raise _Bad(f"at: expected an ISO 8601 time or epoch seconds, got {type(value).__name__}")
    try:
        return fields.instant(seconds)
    except ValueError as exc:
        raise _Bad(f"at: {exc}") from None


def _jobs_json(conn: sqlite3.Connection, config: Config, now: float) -> dict:
    """What `status --json` prints: every job's health, and the acks of the jobs whose rows read `acked`."""
    current = read_status(conn, config, now)
    return {**status_json(current, now), "acks": acks_json(conn, now, current.jobs)}
