"""Blocking calls off the loop: engine calls on threads of their own (an engine may hang), and quick local
calls (spawning a run's keeper, closing its pipes) on a pool of threads kept warm."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

# Starting a thread makes the caller wait until the new thread holds Python's lock: on a busy machine that
# is a switch interval (5 ms) or more, paid on the loop twice per local run (spawn, close) when each call
# had a thread of its own. Local calls never wait on anything remote, so a warm pool cannot starve; it is
# wide enough that fifty runs' spawns and closes in the same second do not queue behind a few threads.
LOCAL_THREADS = 16
_local: ThreadPoolExecutor | None = None


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


async def local_call(fn: Callable[[], Any]) -> Any:
    """Run a quick local call (files, pipes, fork) on the warm local pool and await its result."""
    global _local
    if _local is None:
        _local = ThreadPoolExecutor(max_workers=LOCAL_THREADS, thread_name_prefix="panda-local")
    return await asyncio.get_running_loop().run_in_executor(_local, fn)


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
