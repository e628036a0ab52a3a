"""A Swarm service's log: followed while its task runs, then read once more from the start when the task
has ended. The manager never ends a followed service log by itself, and holds back a last line without a
newline until the task is over; the second read brings that line, and anything a broken stream missed,
without storing a line twice (see lines.Replay)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from panda_tui.runners.docker import plain_error
from panda_tui.runners.frames import open_log, parse_frames
from panda_tui.runners.lines import Replay
from panda_tui.store.logs import RunLog

MAX_PAUSE = 5.0  # between attempts to follow a log whose stream broke while its task runs


class ServiceLog:
    """Reads on a thread of its own from the moment it is made; `ended` (set by whoever watches the task)
    turns following into the final read."""

    def __init__(self, api: Callable[[], Any], service_id: str, sink: RunLog, ended: threading.Event,
                 skip: tuple[int, int] = (0, 0)):
        self._api = api  # the client's low-level API, fetched anew on each use (the engine may come back)
        self.service_id = service_id
        self.sink = sink
        self.ended = ended
        self.replay = Replay(sink, skip)
        self.progress = time.monotonic()
        self._lock = threading.Lock()
        self._response: Any = None  # the stream being followed, for cut()
        self._thread = threading.Thread(target=self._read, daemon=True, name=f"panda-logs-{service_id[:12]}")
        self._thread.start()

    def _read(self) -> None:
        pause = 0.2
        while not self.ended.is_set():
            self._pass(follow=True)
            if self.ended.is_set():
                break
            self.replay.again()  # the stream broke while the task runs: follow it again, skipping what is stored
            self.ended.wait(pause)
            pause = min(pause * 2, MAX_PAUSE)
        self.replay.again()
        error = self._pass(follow=False)
        if error is None:
            self.replay.finish()
        else:
            self.sink.system(f"[panda] the end of the log could not be read ({error}); lines may be missing")

    def _pass(self, follow: bool) -> str | None:
        """Read the log from its start; None when it was read to its end (or cut on purpose)."""
        try:
            response = self._open(follow)
        except Exception as exc:
            return plain_error(exc)
        if follow:
            with self._lock:
                self._response = response
            if self.ended.is_set():
                self.cut()
        try:
            raw = response.raw
            for stream, data in parse_frames(getattr(raw, "read1", None) or raw.read):
                self.progress = time.monotonic()
                self.replay.feed(stream, data)
        except Exception as exc:
            return None if follow and self.ended.is_set() else plain_error(exc)
        finally:
            with self._lock:
                self._response = None
            response.close()
        return None

    def _open(self, follow: bool) -> Any:
        return open_log(self._api(), "services", self.service_id, follow)

    def cut(self) -> None:
        """End the followed stream now (the task has ended): the reader then reads the log once more."""
        with self._lock:
            response = self._response
        if response is None:
            return
        try:
            # The one private call left: no public API reaches the socket under a streaming response, and
            # only shutting that socket down wakes a read blocked on a quiet log (closing the response from
            # this thread does not).
            sock = self._api()._get_raw_response_socket(response)
            getattr(sock, "_sock", sock).shutdown(socket.SHUT_RDWR)  # a SocketIO wraps the socket
        except Exception:
            pass  # already closed, or a transport without a socket: the reader ends when the engine closes it

    def drain(self, stall: float = 30.0) -> None:
        """Wait for the reader to reach the end, as long as it keeps making progress."""
        self.progress = time.monotonic()
        while self._thread.is_alive():
            self._thread.join(0.5)
            if self._thread.is_alive() and time.monotonic() - self.progress > stall:
                self.sink.system(f"[panda] the log stream stalled for {stall:.0f}s; lines after this may be missing")
                return
