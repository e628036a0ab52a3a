"""Who may come in: one token, on every route, by bearer header or by the cookie `/?token=` sets.

Only hashes are kept (of the token, and of the cookie derived from it); comparisons are constant-time;
failed attempts are counted per client and, past a limit, refused unseen; a state-changing request (or
the console's websocket) that rides on the cookie must come from this origin."""

from __future__ import annotations

import enum
import hashlib
import hmac
import ipaddress
import json
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from aiohttp import web

COOKIE = "panda_session"
_COOKIE_LABEL = b"panda-tui serve cookie v1"
SAFE_METHODS = ("GET", "HEAD")


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).digest()


def cookie_for(token: str) -> str:
    """The cookie's value: derived from the token, so the token itself never sits in a browser's jar."""
    return hmac.new(token.encode("utf-8"), _COOKIE_LABEL, hashlib.sha256).hexdigest()


class Guard:
    def __init__(self, token: str):
        self._token = _digest(token)
        self._cookie = _digest(cookie_for(token))

    def token_ok(self, candidate: str) -> bool:
        return hmac.compare_digest(_digest(candidate), self._token)

    def cookie_ok(self, candidate: str) -> bool:
        return hmac.compare_digest(_digest(candidate), self._cookie)


class FailureLimiter:
    """At most `limit` failed attempts per client in `window` seconds; past that, the client's requests are
    refused without looking at what they carry, until its oldest failure leaves the window."""

    def __init__(self, limit: int = 10, window: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = 10_000):
        self.limit, self.window, self.clock, self.max_clients = limit, window, clock, max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def wait(self, client: str) -> float:
        """Seconds until `client` may try again; 0 when it may now."""
        times = self._failures.get(client)
        if not times:
            return 0.0
        now = self.clock()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[client]
            return 0.0
        return times[0] + self.window - now if len(times) >= self.limit else 0.0

    def failed(self, client: str) -> None:
        times = self._failures.setdefault(client, deque(maxlen=self.limit))
        times.append(self.clock())
        self._failures.move_to_end(client)
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)


class Proxies:
    """The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (`serve --trusted-proxy`,
    an address or a network). From anyone else those headers are ignored: a client that could name its own
    address could guess tokens without limit, or lock a proxy's users out by forging theirs."""

    def __init__(self, specs: list[str] | tuple[str, ...] = ()):
        self.networks = []
        for spec in specs:
            try:
                self.networks.append(ipaddress.ip_network(spec.strip(), strict=False))
            except ValueError:
                raise ValueError(f"--trusted-proxy {spec}: expected an IP address or a network like "
                                 "10.0.0.0/24") from None

    def trusts(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def client(self, request: web.BaseRequest) -> str:
        return self.resolve(request.remote or "?", request.headers.get("X-Forwarded-For", ""))

    def resolve(self, peer: str, forwarded: str) -> str:
        """The peer; behind trusted proxies, the last address in X-Forwarded-For that is not one of them."""
        hop = peer
        if not self.trusts(hop):
            return hop
        for entry in reversed(forwarded.split(",")):
            entry = entry.strip()
            try:
                ipaddress.ip_address(entry)
            except ValueError:
                return hop  # not an address: what came before it is no one's word
            hop = entry
            if not self.trusts(hop):
                return hop
        return hop

    def https(self, request: web.BaseRequest) -> bool:
        forwarded = request.headers.get("X-Forwarded-Proto", "").lower() == "https"
        return request.secure or (forwarded and self.trusts(request.remote or ""))


NO_PROXIES = Proxies()


def client_of(request: web.BaseRequest, proxies: Proxies = NO_PROXIES) -> str:
    return proxies.client(request)


def same_origin(request: web.Request) -> bool:
    """Whether the browser says the request comes from a page of this server (CSRF, websocket hijacking)."""
    origin = request.headers.get("Origin")
    if origin:
        return urlsplit(origin).netloc.lower() == (request.host or "").lower()
    return request.headers.get("Sec-Fetch-Site") == "same-origin"


class Seen(enum.Enum):
    NONE = "none"
    BAD = "bad"
    BEARER = "bearer"
    COOKIE = "cookie"
    QUERY = "query"


def look(request: web.Request, guard: Guard) -> Seen:
    """Which credential the request carries and whether it is good. A bearer header decides alone; `?token=`
    counts on `/` only (elsewhere a token in a URL would end up in logs and histories)."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        return Seen.BEARER if scheme.lower() == "bearer" and guard.token_ok(value.strip()) else Seen.BAD
    if request.path == "/" and "token" in request.query:
        return Seen.QUERY if guard.token_ok(request.query["token"]) else Seen.BAD
    cookie = request.cookies.get(COOKIE)
    if cookie is not None:
        return Seen.COOKIE if guard.cookie_ok(cookie) else Seen.BAD
    return Seen.NONE


def refusal(request: web.Request, status: int, message: str, headers: dict | None = None) -> web.Response:
    """JSON for the API and metrics, a line of text for a browser."""
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="panda-tui"'
    if request.path.startswith(("/api/", "/metrics")) or "json" in request.headers.get("Accept", ""):
        return web.Response(status=status, text=json.dumps({"error": message}), content_type="application/json",
                            headers=headers)
    return web.Response(status=status, text=f"panda-tui: {message}\n", content_type="text/plain", headers=headers)


NO_TOKEN = ("this needs the token: open the URL `panda-tui serve` printed (http://HOST:PORT/?token=…), "
            "or send `Authorization: Bearer TOKEN`")


def middleware(guard: Guard, limiter: FailureLimiter, proxies: Proxies = NO_PROXIES):
    @web.middleware
    async def authenticate(request: web.Request, handler):
        client = proxies.client(request)
        wait = limiter.wait(client)
        if wait:
            return refusal(request, 429, f"too many failed attempts from {client}; try again in "
                           f"{math.ceil(wait)} s", {"Retry-After": str(math.ceil(wait))})
        seen = look(request, guard)
        if seen is Seen.BAD:
            limiter.failed(client)
            response = refusal(request, 401, "wrong token; " + NO_TOKEN)
            if COOKIE in request.cookies:
                response.del_cookie(COOKIE, path="/")
            return response
        if seen is Seen.NONE:
            return refusal(request, 401, NO_TOKEN)
        if seen is Seen.QUERY:
            return _enter(request, proxies.https(request))
        acting = request.method not in SAFE_METHODS or request.headers.get("Upgrade", "").lower() == "websocket"
        if seen is Seen.COOKIE and acting and not same_origin(request):
            return refusal(request, 403, "cross-site request refused: it must come from this server's own page, "
                           "or carry `Authorization: Bearer TOKEN`")
        return await handler(request)

    return authenticate


def _enter(request: web.Request, secure: bool) -> web.Response:
    """`/?token=…`: trade the token for the cookie, and send the browser to a URL without it."""
    rest = [(k, v) for k, v in request.query.items() if k != "token"]
    response = web.Response(status=303, headers={"Location": "/" + ("?" + urlencode(rest) if rest else "")})
    response.set_cookie(COOKIE, cookie_for(request.query["token"]), httponly=True, samesite="Strict", path="/",
                        secure=secure)
    return response
