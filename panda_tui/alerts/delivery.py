"""Deliver the outbox over HTTP (httpx) or Apprise, off the dispatch path: retries with backoff, each attempt
recorded."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from panda_tui import decisions as d
from panda_tui.alerts import answer, channels, formats
from panda_tui.clock import Clock
from panda_tui.config import AlertTarget, Config
from panda_tui.secrets import SECRET_REF, Redactor, SecretError, available
from panda_tui.store import outbox, state
from panda_tui.store.db import Database

if TYPE_CHECKING:  # imported when something is sent: it costs 85 ms and pulls in its own CLI's rich
    import httpx

POLL_EVERY = 1.0
CONCURRENCY = 8
PING_TIMEOUT = 10.0
def resolve_request(config: Config, url: str, headers: dict[str, str]
                    ) -> tuple[str, dict[str, str], Redactor]:
    """Expand ${secret:NAME} in the URL and the headers (the values live only in memory, for the request),
    and a Redactor for them: an error or an answer that quotes either must not carry a value anywhere."""
    if not SECRET_REF.search(url) and not any(SECRET_REF.search(v) for v in headers.values()):
        return url, dict(headers), Redactor(())
    texts, mask = channels.expand_all([url, *headers.values()], available(config))
    return texts[0], dict(zip(headers, texts[1:])), mask


async def send(client: httpx.AsyncClient, config: Config, target: AlertTarget, event: dict[str, Any]
               ) -> tuple[int | None, str | None]:
    """(HTTP status, None) when it went through (status None for Apprise, which has no HTTP answer of its own),
    else (status or None, why not: masked)."""
    if target.apprise:
        return await asyncio.to_thread(send_apprise, config, target, event)
    import httpx
    mask = Redactor(())
    try:
        url, headers, mask = await asyncio.to_thread(resolve_request, config, target.url, target.headers)
        response = await client.post(url, json=formats.body(target.format, event), headers=headers,
                                     timeout=target.timeout)
    except SecretError as exc:
        return None, str(exc)
    except httpx.TimeoutException:
        return None, f"no answer within {target.timeout:g}s"
    except Exception as exc:  # httpx's own, or a header it refuses: its words may quote the header
        return None, mask(f"{type(exc).__name__}: {exc}")[:300]
    return response.status_code, None if response.is_success else mask(response.text)[:200]


def send_apprise(config: Config, target: AlertTarget, event: dict[str, Any]) -> tuple[int | None, str | None]:
    """One message through Apprise (blocking: it runs in a worker thread), bounded by the target's timeout."""
    mask = Redactor(())
    try:
        pool = available(config) if SECRET_REF.search(target.url) else {}
        url, mask = channels.expand(target.url, pool)
        url = channels.with_dedup(url, event.get("job"), event.get("event", ""))
        text = formats.full(event) if channels.scheme(url) in channels.FULL_TEXT else formats.short(event)
        error = channels.send(url, formats.headline(event), text or formats.headline(event),
                              formats.failure(event), target.timeout)
    except SecretError as exc:
        return None, str(exc)
    except Exception as exc:  # a plugin's own trouble: its words may quote the URL
        return None, mask(f"{type(exc).__name__}: {exc}")[:300]
    return None, None if error is None else mask(error)


async def ping(client: httpx.AsyncClient, url: str, params: dict | None = None) -> tuple[int | None, str | None]:
    import httpx
    try:
        response = await client.get(url, params=params, timeout=PING_TIMEOUT)
    except httpx.TimeoutException:
        return None, f"no answer within {PING_TIMEOUT:g}s"
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300]
    return response.status_code, None if response.is_success else response.text[:200]


GROUP = "group"


def stream_key(item: outbox.Item, target: AlertTarget | None) -> tuple:
    """One job's events to one target go out in order, one by one; a group_wait target's, and those a
    maintenance window held, go out together."""
    if item.target != "ping" and (item.payload.get("held") or (target is not None and target.group_wait)):
        return (GROUP, item.target)
    return (item.job, item.target)


class Deliverer:
    """Sends what the outbox holds. Its needs are handed in: the store, the running config, a clock, an
    HTTP client, where to report, and what to do on each pass (the alerter's slow check)."""

    def __init__(self, db: Database, config: Callable[[], Config], clock: Clock,
                 client: httpx.AsyncClient | None, report: Callable[[d.Decision], None],
                 on_pass: Callable[[], None] | None = None, run_id: int | None = None):
        self.db = db
        self.run_id = run_id  # only this run's items (a foreground run with no scheduler up), else all
        self.config = config
        self.clock = clock
        self._client = client  # made on first use when None: a scheduler with no alerts never loads httpx
        self.report = report
        self.on_pass = on_pass
        self._gate = asyncio.Semaphore(CONCURRENCY)
        self._inflight: set[tuple] = set()  # (job, target) streams being delivered
        self._tasks: set[asyncio.Task] = set()
        self._last_heartbeat = 0.0
        self._last_trouble: str | None = None

    async def run(self) -> None:
        while True:
            try:
                self.tick()
            except Exception as exc:  # delivery trouble must never stop the scheduler
                self._trouble(f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(POLL_EVERY)

    def _trouble(self, error: str) -> None:
        """Said once, not once a second, while the same trouble lasts."""
        if error != self._last_trouble:
            self._last_trouble = error
            self.report(d.AlertError(error))

    def tick(self) -> None:
        if self.on_pass is not None:
            self.on_pass()
        now = self.clock.now()
        streams: dict[tuple, list[outbox.Item]] = {}
        targets = self.config().alerts
        for item in outbox.due(self.db.conn, now, run_id=self.run_id):
            streams.setdefault(stream_key(item, targets.get(item.target)), []).append(item)
        for key, items in streams.items():
            if key not in self._inflight:
                self._inflight.add(key)
                items = sorted(items, key=lambda i: i.id)
                self._spawn(self._deliver_group(key, items) if key[0] == GROUP else self._deliver_stream(key, items))
        settings = self.config().scheduler
        if self.run_id is None and settings.heartbeat and time.monotonic() - self._last_heartbeat >= settings.heartbeat_every:
            self._last_heartbeat = time.monotonic()
            self._spawn(self._scheduler_heartbeat(settings.heartbeat))

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx
            self._client = httpx.AsyncClient(follow_redirects=True)
        return self._client

    async def settle(self) -> None:
        """Wait for every delivery under way (for tests and an orderly stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver_stream(self, key: tuple, items: list[outbox.Item]) -> None:
        """One job's events to one target go out in order (a /start must not overtake its /fail);
        the first failure stops the stream until its retry is due."""
        try:
            for item in items:
                if not await self._deliver(item):
                    break
        finally:
            self._inflight.discard(key)

    async def _deliver_group(self, key: tuple, items: list[outbox.Item]) -> None:
        """Events released together (group_wait, or a maintenance window's end) go out as one message."""
        try:
            held = next((i.payload["held"] for i in items if i.payload.get("held")), None)
            event = {"event": "group", "alerts": [i.payload for i in items], "window": held}
            await self._deliver(items[0], event, items)
        finally:
            self._inflight.discard(key)

    async def _deliver(self, item: outbox.Item, event: dict | None = None,
                       items: list[outbox.Item] | None = None) -> bool:
        async with self._gate:
            started = time.monotonic()
            if item.target == "ping":
                status, error = await ping(self.client, item.payload["url"], {"rid": item.payload.get("rid")})
            else:
                config = self.config()
                target = config.alerts.get(item.target)
                if target is None:
                    status, error = None, f"alert target {item.target!r} is no longer in jobs.toml"
                else:
                    whole = await asyncio.to_thread(answer.complete, self.db.path, event or item.payload)
                    status, error = await send(self.client, config, target, whole)
            elapsed = time.monotonic() - started
        try:
            with self.db.transaction() as conn:
                for one in items or [item]:
                    outbox.record(conn, one, self.clock.now(), status, error, elapsed)
        except sqlite3.Error as exc:  # it stays due, and is sent again once the store can record it
            self._trouble(f"cannot record an alert's delivery: {exc}")
            return False
        self.report(d.AlertSent(item.job, item.run_id, item.event, item.target, status, error))
        return outbox.went_through(status, error)

    async def _scheduler_heartbeat(self, url: str) -> None:
        status, error = await ping(self.client, url)
        now = self.clock.now()
        with contextlib.suppress(sqlite3.Error):
            with self.db.transaction() as conn:
                state.put_scheduler_heartbeat(conn, status, error, now)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()


async def start_delivery(deliverer: Deliverer, exits: AsyncExitStack) -> None:
    """Run the deliverer until `exits` closes."""
    task = asyncio.ensure_future(deliverer.run())

    async def stop() -> None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await deliverer.close()

    exits.push_async_callback(stop)
