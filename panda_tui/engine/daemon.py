"""Run the scheduler: headless in the foreground (daemon), or on a thread of its own (embedded)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from panda_tui import decisions as d
from panda_tui.config import Config
from panda_tui.engine.events import EventLog
from panda_tui.engine.ownership import LeaseHeld
from panda_tui.engine.scheduler import Scheduler
from panda_tui.engine.notify import Notifier
from panda_tui.engine.store_health import StoreFailed
from panda_tui.engine.wiring import build, supervise
from panda_tui.store import lease

STORE_FAILED = 4  # the exit code when the store can no longer be written


def _prepare_loop(loop: asyncio.AbstractEventLoop) -> None:
    # Docker calls use threads of their own; this pool serves log flushes and quick blocking calls.
    loop.set_default_executor(ThreadPoolExecutor(max_workers=32, thread_name_prefix="panda"))


async def run_headless(config: Config, db_path: str, events: EventLog, standby: bool = False,
                       secrets_file: str | None = None) -> int:
    """Until SIGTERM/SIGINT; SIGHUP reloads. With `standby`, wait for the lease instead of refusing.
    Returns the process exit code."""
    loop = asyncio.get_running_loop()
    _prepare_loop(loop)
    notifier = Notifier.from_environ()  # systemd's NOTIFY_SOCKET, if any; taken out of the environment
    sched = build(config, db_path, events=events, role="daemon", secrets_file=secrets_file)
    supervise(sched, notifier, events)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(sched.reload("SIGHUP")))
    # What start-up made (modules, config, the engine) lives as long as the process: out of the collector's
    # sight, a full collection no longer walks it (tens of ms on the loop, at any moment, a slot's too).
    gc.freeze()
    try:
        if standby and not await _wait_for_lease(sched, stop, events):
            await sched.shutdown()
            return 0
        await sched.run(stop, acquire=not standby)
    except LeaseHeld as exc:
        events.emit(d.Refused(str(exc)))
        await sched.shutdown()
        raise
    except (StoreFailed, sqlite3.Error) as exc:
        # Nothing can be recorded any more: stop at once, leaving runs as they are. The service manager
        # starts a new scheduler, which re-attaches them once the store can be written.
        events.emit(d.StoreFailed(str(exc)))
        print(f"error: {exc}; stopping so that the service manager restarts the scheduler", file=sys.stderr)
        with contextlib.suppress(Exception):
            await sched.exits.aclose()
        return STORE_FAILED
    return 3 if sched.lease_lost else 0


async def _wait_for_lease(sched: Scheduler, stop: asyncio.Event, events: EventLog) -> bool:
    """A hot standby: poll until the holder's heartbeat lapses (or it provably died), then take over."""
    announced = False
    while not stop.is_set():
        try:
            sched.acquire()
            return True
        except LeaseHeld as exc:
            if not announced:
                events.emit(d.Standby(lease.shown_owner(exc.holder.owner)))
                sched.supervision.standby(exc.holder.owner)
                announced = True
        sched.supervision.alive()
        try:
            await asyncio.wait_for(stop.wait(), min(0.5, sched.supervision.max_sleep or 0.5))
        except TimeoutError:
            pass
    return False


class EmbeddedScheduler:
    """The very same scheduler on a background thread, for a console that found no daemon."""

    def __init__(self, config: Config, db_path: str, claim: lease.Claim | None = None):
        """`claim`: the lease this console took before building its scheduler (acquire() holds on to it)."""
        self.events = EventLog(None)
        self.sched = build(config, db_path, events=self.events, role="console")
        if claim is not None:
            self.sched.ownership.adopt(claim)
        self._loop = asyncio.new_event_loop()
        _prepare_loop(self._loop)
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="panda-scheduler", daemon=True)
        self.error: BaseException | None = None  # what the loop died of
        self.on_error: Callable[[BaseException], None] | None = None  # called on its thread when it does
        self._ready = threading.Event()
        self._launching = threading.Lock()
        self._stopped = False

    def start(self) -> None:
        """Acquire the lease now (LeaseHeld propagates), then run the loop on the thread."""
        self.acquire()
        self.launch()

    def acquire(self) -> None:
        """Hold the lease (LeaseHeld propagates): from now on this console is the scheduler, even before
        launch() sets the loop going (a console launches it after its first screen)."""
        try:
            self.sched.acquire()
        except LeaseHeld:
            self._loop.run_until_complete(self.sched.shutdown(grace=0))
            self._loop.close()
            raise

    def launch(self) -> None:
        """Run the loop on its thread; once (later calls do nothing)."""
        with self._launching:
            if self._thread.ident is not None or self._stopped:
                return
            self._thread.start()
        self._ready.wait(5)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._stop = asyncio.Event()
        self._ready.set()
        try:
            self._loop.run_until_complete(self.sched.run(self._stop, acquire=False))
        except BaseException as exc:  # surfaced in the console header
            self.error = exc
            if self.on_error is not None:
                self.on_error(exc)
        finally:
            self._loop.close()

    def stop(self, timeout: float = 30.0) -> None:
        with self._launching:
            self._stopped, launched = True, self._thread.ident is not None
        if not launched:  # acquired, never launched: let the lease go all the same
            self._loop.run_until_complete(self.sched.shutdown(grace=0))
            self._loop.close()
            return
        self._ready.wait(5)
        if self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._loop.call_soon_threadsafe(self.sched.wake)
            self._thread.join(timeout)

    @property
    def running(self) -> int:
        """Runs in progress, which quitting would stop."""
        return len(self.sched.flight.executions())

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()
