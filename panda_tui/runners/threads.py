"""Blocking calls on threads of their own: engine calls and process spawns must not hold up the loop."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable


async def in_thread(fn: Callable[[], Any]) -> Any:
    """Run `fn` on a new thread (never a shared pool a slow engine could starve) and await its result."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def target() -> None:
        try:
            result = fn()
        except BaseException as exc:  # handed to the awaiting coroutine
            loop.call_soon_threadsafe(_settle, future, None, exc)
        else:
            loop.call_soon_threadsafe(_settle, future, result, None)

    threading.Thread(target=target, daemon=True, name="panda-call").start()
    return await future


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
