"""A real `panda-tui serve` process on 127.0.0.1, on a free port it picks and prints."""

from __future__ import annotations

import io
import os
import pty
import re
import signal
import subprocess
import sys
import threading

from panda_tui.store import connect
from tests.procs import spawn

TOKEN = "test-token-0123456789abcdef"


class Served:
    """`terminal`: its stdout and stderr are a terminal (a pseudo-terminal read here), as when a person runs it;
    else a pipe, as under systemd or nohup. `python`: what runs `panda_tui` (default: this interpreter, -m)."""

    def __init__(self, cfg: str, db: str, *args: str, token: str | None = TOKEN, env: dict | None = None,
                 terminal: bool = False, python: list[str] | None = None):
        connect(db).close()  # serve reads an existing store; the daemon would have made it
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        full_env.pop("PANDA_WEB_TOKEN", None)
        if token is not None:
            full_env["PANDA_WEB_TOKEN"] = token
        self.token = token
        self.cfg, self.db = cfg, db
        argv = [*(python or [sys.executable, "-m", "panda_tui"]), "serve", "--config", cfg, "--db", db, "--port", "0",
                *args]
        if terminal:
            main, side = pty.openpty()
            self.proc = spawn(argv, stdin=subprocess.DEVNULL, stdout=side, stderr=side, env=full_env)
            os.close(side)
            output = io.TextIOWrapper(io.FileIO(main, "rb"), encoding="utf-8", errors="replace")  # \r\n read as \n
        else:
            self.proc = spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                         env=full_env)
            output = self.proc.stdout
        self.lines: list[str] = []
        self._started = threading.Event()
        threading.Thread(target=self._read, args=(output,), daemon=True).start()
        if not self._started.wait(30) or self.proc.poll() is not None:
            self.stop()
            raise AssertionError("panda-tui serve did not start:\n" + self.output())
        match = re.search(r"on (http://127\.0\.0\.1:(\d+)/)", self.output())
        self.url = match.group(1).rstrip("/")
        self.port = int(match.group(2))

    def _read(self, output) -> None:
        try:
            for line in output:
                self.lines.append(line)
                if "?token=" in line:  # the last line of the announcement
                    self._started.set()
        except OSError:  # a pseudo-terminal whose other side closed (EIO)
            pass
        self._started.set()

    def output(self) -> str:
        return "".join(self.lines)

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def consoles(self) -> list[int]:
        """Pids of the console processes this server runs (its children)."""
        found = []
        for entry in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == self.proc.pid:
                found.append(int(entry))
        return found

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait(10)

