"""What keeps serve answering the token holder while others hold connections open (half-open, trickling
headers, idle between requests): a deadline for a connection with no request in progress, a cap on open
connections that makes room by closing the oldest idle one, and as many descriptors as the system allows.
1,100 half-open connections used to take all 1,024 descriptors, and then nobody got an answer."""

from __future__ import annotations

import resource
from collections.abc import Awaitable, Callable

from aiohttp import web

IDLE_TIMEOUT = 10.0  # seconds a connection may wait for its (next) request's headers before it is closed
MAX_CONNECTIONS = 4096
# descriptors kept aside: a burst of accepts (up to the listen backlog, 128) lands before any is capped; then the
# store, the consoles' pipes, files
RESERVE = 256
MAX_SOFT_LIMIT = 65536


def raise_descriptor_limit() -> int:
    """The soft RLIMIT_NOFILE raised towards the hard one; returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = MAX_SOFT_LIMIT if hard == resource.RLIM_INFINITY else min(hard, MAX_SOFT_LIMIT)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    return soft


def cap_for(soft_limit: int) -> int:
    return max(16, min(MAX_CONNECTIONS, soft_limit - RESERVE))


class ConnectionCap:
    """At most `cap` connections: one more closes the oldest that has no request in progress (a half-open
    one, or one idle between requests). A request being answered (an API call, a log followed, a console's
    websocket) is never cut."""

    def __init__(self, cap: int):
        self.cap = cap
        self._busy: dict[object, int] = {}
        self._closing: set[object] = set()  # closed to make room, not yet gone
        self.closed = 0  # connections closed to make room

    def install(self, server: web.Server) -> None:
        """Watch the server's connections (its connection_made and connection_lost, wrapped on this instance)."""
        made, lost = server.connection_made, server.connection_lost

        def connection_made(handler, transport) -> None:
            made(handler, transport)
            if len(server.connections) - len(self._closing) > self.cap:
                self._make_room(server, handler)

        def connection_lost(handler, exc) -> None:
            lost(handler, exc)
            self._closing.discard(handler)

        server.connection_made = connection_made  # type: ignore[method-assign]
        server.connection_lost = connection_lost  # type: ignore[method-assign,assignment]

    def _make_room(self, server: web.Server, newcomer) -> None:
        for handler in server.connections:  # oldest first
            if handler is not newcomer and not self._busy.get(handler) and handler not in self._closing:
                self._closing.add(handler)
                handler.force_close()
                self.closed += 1
                return

    @web.middleware
    async def middleware(self, request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        protocol = request.protocol
        self._busy[protocol] = self._busy.get(protocol, 0) + 1
        try:
            return await handler(request)
        finally:
            left = self._busy[protocol] - 1
            if left:
                self._busy[protocol] = left
            else:
                del self._busy[protocol]
