"""The console in the browser: each open tab is one real `panda-tui` console, run by textual-serve's
AppService as a subprocess and attached to the store like a second console. Closing the tab (or its
websocket going quiet) ends that subprocess; at most `cap` run at once."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shlex
import sys
from importlib.resources import files
from pathlib import Path

from aiohttp import WSCloseCode, WSMsgType, web

# textual-serve's documented entry, Server, is a whole aiohttp application that runs its own loop, with no
# place for the token guard, the CSP or the console cap in front of it. Each tab is therefore run the way
# Server.handle_websocket runs it (textual_serve/server.py, 1.1.x): by an AppService, with a DownloadManager.
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager

from panda_tui.web import page
from panda_tui.web.auth import NO_PROXIES, Proxies

log = logging.getLogger("panda_tui.web")
STATIC = Path(str(files("textual_serve").joinpath("static")))  # its page's scripts and styles
ASSETS = Path(__file__).resolve().parent / "assets"  # ours, loaded by the page beside textual-serve's
STOP_WAIT = 10.0  # seconds a console gets to quit after its tab closed, before it is killed


def console_command(config_path: str, db_path: str, allow_control: bool) -> str:
    """The console, as textual-serve runs it (a shell line): read-only, or attached and never embedding a
    scheduler of its own (a tab's lifetime is no lifetime for a scheduler)."""
    argv = [sys.executable, "-m", "panda_tui", "--config", os.path.abspath(config_path),
            "--db", os.path.abspath(db_path)]
    argv += ["--attach"] if allow_control else ["--read-only", "--read-only-reason",
                                                  "served without --allow-control"]
    return "exec " + shlex.join(argv)


async def _no_content() -> web.Response:
    return web.Response(status=204)


def _size(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return min(high, max(low, int(value or default)))
    except ValueError:
        return default


class Consoles:
    def __init__(self, command: str, cap: int, title: str = "panda-tui", proxies: Proxies = NO_PROXIES):
        self.command = command
        self.cap = cap
        self.title = title
        self.proxies = proxies  # whose X-Forwarded-Proto says the page came over https
        self.open: set[web.WebSocketResponse] = set()
        self._downloads = DownloadManager()

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get("/", self.index), web.get("/ws", self.websocket),
                web.get("/favicon.ico", lambda _request: _no_content()),
                web.static("/static", STATIC, show_index=False, follow_symlinks=False),
                web.static("/assets", ASSETS, show_index=False, follow_symlinks=False)]

    def _full(self) -> web.Response | None:
        if len(self.open) < self.cap:
            return None
        return web.Response(status=503, content_type="text/plain", headers={"Retry-After": "10"},
                            text=f"panda-tui: {len(self.open)} consoles are open, as many as --max-consoles "
                                 "allows; close one (or use the API)\n")

    async def index(self, request: web.Request) -> web.Response:
        if refused := self._full():
            return refused
        scheme = "wss" if self.proxies.https(request) else "ws"
        html = page.render(self.title, f"{scheme}://{request.host}/ws",
                           _size(request.query.get("fontsize"), 16, 8, 40))
        return web.Response(text=html, content_type="text/html", headers={"Content-Security-Policy": page.CSP})

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        if refused := self._full():
            return refused
        socket = web.WebSocketResponse(heartbeat=15, max_msg_size=1 << 20)
        self.open.add(socket)  # before any await: the cap cannot be overrun by tabs opening together
        service: AppService | None = None
        try:
            await socket.prepare(request)
            async def close() -> None:
                await socket.close()

            service = AppService(self.command, write_bytes=socket.send_bytes, write_str=socket.send_str,
                                 close=close, download_manager=self._downloads)
            await service.start(_size(request.query.get("width"), 80, 20, 400),
                                _size(request.query.get("height"), 24, 8, 200))
            await self._relay(socket, service)
        except (asyncio.CancelledError, ConnectionResetError):
            pass
        finally:
            self.open.discard(socket)
            if service is not None:
                await _stop(service)
            if not socket.closed:
                await socket.close()
        return socket

    async def _relay(self, socket: web.WebSocketResponse, service: AppService) -> None:
        """The browser's keys, sizes and focus to the console (textual-serve's own message set)."""
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                kind, *rest = json.loads(message.data)
                data = rest[0] if rest else None
            except (ValueError, TypeError):
                continue
            if kind == "stdin" and isinstance(data, str):
                await service.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                await service.set_terminal_size(_size(data.get("width"), 80, 20, 400),
                                                _size(data.get("height"), 24, 8, 200))
            elif kind == "ping":
                await socket.send_json(["pong", data])
            elif kind == "blur":
                await service.blur()
            elif kind == "focus":
                await service.focus()

    async def close_all(self, _app: web.Application | None = None) -> None:
        """On shutdown: every tab is told the server is going away, and its console quits."""
        for socket in list(self.open):
            await socket.close(code=WSCloseCode.GOING_AWAY, message=b"panda-tui serve is stopping")


async def _stop(service: AppService) -> None:
    """Ask the console to quit; one that does not within STOP_WAIT is killed."""
    try:
        await asyncio.wait_for(asyncio.shield(service.stop()), STOP_WAIT)
    except (asyncio.TimeoutError, asyncio.CancelledError):
        # AppService has no public way to kill its process (stop() only asks the app to quit, and waits):
        # its private _process is the one handle there is.
        process = getattr(service, "_process", None)
        if process is not None and process.returncode is None:
            log.warning("console %s did not quit within %.0f s; killing it", process.pid, STOP_WAIT)
            process.kill()
