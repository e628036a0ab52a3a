"""The server: console, API and metrics on one aiohttp application, every route behind the token."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from panda_tui.store import StoreError
from panda_tui.text import iso
from panda_tui.web import auth
from panda_tui.web.api import Api
from panda_tui.web.backend import Backend
from panda_tui.web.console import Consoles, console_command
from panda_tui.web.metrics import handler as metrics_handler

log = logging.getLogger("panda_tui.web")


@dataclass
class Settings:
    config_path: str
    db_path: str
    host: str = "127.0.0.1"
    port: int = 8080
    allow_control: bool = False
    max_consoles: int = 4


@dataclass
class Server:
    app: web.Application
    backend: Backend
    consoles: Consoles
    api: Api


def make_app(settings: Settings, guard: auth.Guard, limiter: auth.FailureLimiter | None = None) -> Server:
    backend = Backend(settings.config_path, settings.db_path, settings.allow_control)
    consoles = Consoles(console_command(settings.config_path, settings.db_path, settings.allow_control),
                        settings.max_consoles)
    api = Api(backend)
    app = web.Application(middlewares=[_errors, auth.middleware(guard, limiter or auth.FailureLimiter()),
                                       api.bad_requests], client_max_size=64 * 1024)
    app.add_routes(consoles.routes() + api.routes()
                   + [web.get("/metrics", metrics_handler(backend, lambda: len(consoles.open)))])
    app.on_response_prepare.append(_headers)
    app.on_shutdown.append(consoles.close_all)
    app.on_shutdown.append(lambda _app: _set(api.closing))
    return Server(app, backend, consoles, api)


async def _set(event: asyncio.Event) -> None:
    event.set()


@web.middleware
async def _errors(request: web.Request, handler):
    """No route, wrong method, a store that cannot be read, a bug: one line, as JSON where JSON is spoken."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return auth.refusal(request, exc.status, exc.reason.lower() + (f": {request.method} {request.path}"
                                                                        if exc.status in (404, 405) else ""))
    except StoreError as exc:
        return auth.refusal(request, 503, str(exc))
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception as exc:
        log.exception("%s %s failed", request.method, request.path)
        return auth.refusal(request, 500, f"internal error ({type(exc).__name__}); see the server's output")


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every answer, refusals included: no sniffing, no framing, no referrer, no caching of data."""
    response.headers["Server"] = "panda-tui"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if request.path.startswith(("/static/", "/assets/")) and response.status == 200:
        response.headers["Cache-Control"] = "private, max-age=3600"
    else:
        response.headers["Cache-Control"] = "no-store"


class AccessLog(AbstractAccessLogger):
    """One JSON line per request, like the daemon's decision log; the path only, never the query string
    (where `?token=` would be)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time_taken: float) -> None:
        print(json.dumps({"ts": iso(time.time()), "event": "http", "method": request.method, "path": request.path,
                          "status": response.status, "ms": round(time_taken * 1000, 1),
                          "client": auth.client_of(request)}), flush=True)


async def run(server: Server, settings: Settings, ready: Callable[[int], None]) -> None:
    """Serve until SIGTERM or SIGINT; `ready` gets the port listened on (useful with --port 0)."""
    runner = web.AppRunner(server.app, access_log_class=AccessLog, handle_signals=False, shutdown_timeout=15)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True)
        await site.start()
        ready(runner.addresses[0][1])
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
