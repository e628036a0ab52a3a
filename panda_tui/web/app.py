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
from panda_tui.web.connections import IDLE_TIMEOUT, MAX_CONNECTIONS, ConnectionCap, cap_for, raise_descriptor_limit
from panda_tui.web.console import Consoles, console_command
from panda_tui.web.metrics import handler as metrics_handler
from panda_tui.web.redact import redact

log = logging.getLogger("panda_tui.web")
PROXIES = web.AppKey("proxies", auth.Proxies)


@dataclass
class Settings:
    config_path: str
    db_path: str
    host: str = "127.0.0.1"
    port: int = 8080
    allow_control: bool = False
    max_consoles: int = 4
    trusted_proxies: tuple[str, ...] = ()  # whose X-Forwarded-For / -Proto are believed


@dataclass
class Server:
    app: web.Application
    backend: Backend
    consoles: Consoles
    api: Api
    connections: ConnectionCap


def make_app(settings: Settings, guard: auth.Guard, limiter: auth.FailureLimiter | None = None) -> Server:
    proxies = auth.Proxies(settings.trusted_proxies)
    backend = Backend(settings.config_path, settings.db_path, settings.allow_control)
    consoles = Consoles(console_command(settings.config_path, settings.db_path, settings.allow_control),
                        settings.max_consoles, proxies=proxies)
    api = Api(backend)
    connections = ConnectionCap(MAX_CONNECTIONS)  # lowered to what the descriptors allow when it runs
    app = web.Application(middlewares=[connections.middleware, _errors,
                                       auth.middleware(guard, limiter or auth.FailureLimiter(), proxies),
                                       api.bad_requests], client_max_size=64 * 1024)
    app[PROXIES] = proxies
    app.add_routes(consoles.routes() + api.routes()
                   + [web.get("/metrics", metrics_handler(backend, lambda: len(consoles.open)))])
    app.on_response_prepare.append(_headers)
    app.on_shutdown.append(consoles.close_all)
    app.on_shutdown.append(api.close)
    return Server(app, backend, consoles, api, connections)


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
    (where `?token=` would be), and a `token=` that reached the path (percent-encoded) masked too."""

    proxies = auth.NO_PROXIES  # set per server (a request the parser refused has no app to ask)

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time_taken: float) -> None:
        print(json.dumps({"ts": iso(time.time()), "event": "http", "method": request.method,
                          "path": redact(request.path), "status": response.status,
                          "ms": round(time_taken * 1000, 1), "client": self.proxies.client(request)}), flush=True)


async def run(server: Server, settings: Settings, ready: Callable[[int], None]) -> None:
    """Serve until SIGTERM or SIGINT; `ready` gets the port listened on (useful with --port 0)."""
    server.connections.cap = cap_for(raise_descriptor_limit())
    access_log = type("AccessLog", (AccessLog,), {"proxies": server.app[PROXIES]})
    runner = web.AppRunner(server.app, access_log_class=access_log, handle_signals=False, shutdown_timeout=15,
                           keepalive_timeout=IDLE_TIMEOUT)
    await runner.setup()
    assert runner.server is not None  # set by setup()
    server.connections.install(runner.server)
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
