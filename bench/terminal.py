"""The console as a user meets it: a real process on a real pty of a given size, every byte it writes
counted with its arrival time, and fed to pyte so the screen can be read back (is it sane, what does it
show)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import threading
import time

import pyte

CUP = re.compile(rb"\x1b\[(\d+);\d+H")


class Terminal:
    """`argv` on a pty of cols x rows; a thread drains it (a console blocks on a full pty otherwise)."""

    def __init__(self, argv: list[str], cols: int = 80, rows: int = 24, env: dict | None = None,
                 cwd: str | None = None):
        self.cols, self.rows = cols, rows
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.chunks: list[tuple[float, bytes]] = []  # (monotonic time, bytes) per read
        self.lock = threading.Lock()
        full_env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows),
                    **(env or {})}
        self.started = time.monotonic()
        pid, fd = pty.fork()
        if pid == 0:  # the child: the pty is its controlling terminal and stdin/stdout/stderr
            try:
                if cwd:
                    os.chdir(cwd)
                os.execvpe(argv[0], argv, full_env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.kill(pid, signal.SIGWINCH)
        self._stop = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._stop:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.chunks.append((time.monotonic(), data))
                self.stream.feed(data)

    def text(self) -> str:
        with self.lock:
            return "\n".join(self.screen.display)

    def wait_for(self, *words: str, timeout: float = 30.0) -> float:
        """Seconds from the start until every word is on the screen at once."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.text()
            if all(w in shown for w in words):
                return time.monotonic() - self.started
            time.sleep(0.005)
        raise TimeoutError(f"not on screen after {timeout}s: {words}\n{self.text()}")

    def bytes_between(self, start: float, end: float) -> int:
        with self.lock:
            return sum(len(data) for t, data in self.chunks if start <= t < end)

    def bytes_by_second(self, start: float, end: float) -> list[int]:
        seconds = [0] * max(1, int(end - start + 0.999))
        with self.lock:
            for t, data in self.chunks:
                if start <= t < end:
                    seconds[int(t - start)] += len(data)
        return seconds

    def bytes_by_row(self, start: float, end: float) -> dict[int, int]:
        """Where the bytes went: each byte counts for the screen row the cursor was last moved to (0:
        before any cursor move, e.g. mode switches)."""
        rows: dict[int, int] = {}
        row = 0
        with self.lock:
            data = b"".join(d for t, d in self.chunks if start <= t < end)
        at = 0
        for match in CUP.finditer(data):
            rows[row] = rows.get(row, 0) + match.start() - at
            row, at = int(match.group(1)), match.start()
        rows[row] = rows.get(row, 0) + len(data) - at
        return rows

    def send(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def close(self, timeout: float = 15.0) -> int | None:
        """Quit as a user would (q, then y if asked), then SIGTERM, then SIGKILL."""
        code = None
        for step in ("q", "y", signal.SIGTERM, signal.SIGKILL):
            try:
                if isinstance(step, str):
                    self.send(step)
                else:
                    os.kill(self.pid, step)
            except OSError:
                pass
            deadline = time.monotonic() + timeout / 4
            while time.monotonic() < deadline:
                done, status = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    code = os.waitstatus_to_exitcode(status)
                    break
                time.sleep(0.05)
            if code is not None:
                break
        self._stop = True
        self._reader.join(1)
        try:
            os.close(self.fd)
        except OSError:
            pass
        return code


def panda(*args: str) -> list[str]:
    return [sys.executable, "-m", "panda_tui", *args]
