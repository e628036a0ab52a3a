"""systemd's notify protocol, spoken by a real `panda-tui daemon` to a real unix datagram socket, as systemd
would hear it: READY first, WATCHDOG at its pace, STATUS, STOPPING on SIGTERM, silence while the loop hangs."""

from __future__ import annotations

import os
import signal
import socket
import tempfile
import threading
import time
import uuid

import pytest

from panda_tui.engine.supervision import STALL_VARIABLE
from panda_tui.store import connect, lease
from tests.faults.conftest import events
from tests.integration.helpers import Daemon, wait_until
from tests.jobfiles import job, write_jobs


class NotifySocket:
    """The service manager's end: a datagram socket that keeps every message with the time it arrived."""

    def __init__(self, address: str):
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(b"\0" + address[1:].encode() if address.startswith("@") else address)
        self.sock.settimeout(0.1)
        self.messages: list[tuple[float, dict[str, str]]] = []
        self._open = True
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while self._open:
            try:
                data = self.sock.recv(4096)
            except (TimeoutError, OSError):
                continue
            fields = dict(line.split("=", 1) for line in data.decode().splitlines())
            self.messages.append((time.monotonic(), fields))

    def times(self, key: str) -> list[float]:
        return [t for t, fields in list(self.messages) if key in fields]

    def values(self, key: str) -> list[str]:
        return [fields[key] for _, fields in list(self.messages) if key in fields]

    def close(self) -> None:
        self._open = False
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def notify_path():
    # sun_path holds 107 bytes: pytest's tmp_path can be longer than that
    directory = tempfile.mkdtemp(prefix="panda-notify-", dir="/tmp")
    listener = NotifySocket(os.path.join(directory, "notify"))
    yield listener
    listener.close()
    os.unlink(listener.address)
    os.rmdir(directory)


def test_ready_then_watchdog_at_its_pace_status_silence_while_hung_and_stopping(tmp_path, notify_path):
    cfg, db = write_jobs(tmp_path, job("ok", "@every 1s"), job("bad", "@every 1s", "exit 3"),
                         job("slow", "@every 1s", "sleep 2"))
    stall = tmp_path / "stall"
    # WATCHDOG_USEC=2 s: a ping is due every second, and systemd would kill after two without one
    daemon = Daemon(cfg, db, env={"NOTIFY_SOCKET": notify_path.address, "WATCHDOG_USEC": "2000000",
                                  STALL_VARIABLE: str(stall)})
    try:
        wait_until(lambda: notify_path.values("READY"), 30, what="READY=1")
        assert notify_path.messages[0][1]["READY"] == "1"  # the very first thing said
        assert notify_path.messages[0][1]["STATUS"].startswith("3 jobs · ")
        holder = lease.live_holder(connect(db))  # READY means the lease is held
        assert holder is not None and f":{daemon.proc.pid}:" in holder.owner
        assert "lease_acquired" in daemon.output()

        wait_until(lambda: len(notify_path.times("WATCHDOG")) >= 5, 20, what="five pings")
        pings = notify_path.times("WATCHDOG")
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        assert all(0.95 <= gap < 2.0 for gap in gaps), gaps  # never early, never past the deadline
        assert pings[0] - notify_path.times("READY")[0] >= 0.95

        wait_until(lambda: "3 jobs · 1 running · 1 failing" in notify_path.values("STATUS"), 20,
                   what="a STATUS line with the failing job and the running one")

        stall.write_text("3")  # the test hook: the loop blocks for 3 s, as on a hung read
        wait_until(lambda: any(e["event"] == "test_stall" for e in events(daemon.output())), 10)
        before = len(notify_path.times("WATCHDOG"))
        wait_until(lambda: len(notify_path.times("WATCHDOG")) > before + 1, 15, what="pings after the stall")
        pings = notify_path.times("WATCHDOG")
        hung = [b - a for a, b in zip(pings, pings[1:])]
        assert max(hung) >= 3.0, hung  # not one ping while the loop was blocked
        assert 0.95 <= pings[before + 1] - pings[before] < 2.0  # and the pace is back after it

        daemon.proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        wait_until(lambda: notify_path.values("STOPPING"), 5, what="STOPPING=1")
        assert notify_path.times("STOPPING")[0] - sent < 1.0
        assert daemon.proc.wait(30) == 0
        last_time, last = notify_path.messages[-1]
        assert last["STOPPING"] == "1" and not [t for t in notify_path.times("WATCHDOG") if t > last_time]
        assert len(notify_path.values("READY")) == 1
    finally:
        daemon.stop()


def test_a_standby_is_ready_and_pings_while_it_waits_then_takes_over(tmp_path):
    cfg, db = write_jobs(tmp_path, job("a", "@every 1s"))
    holder = Daemon(cfg, db)
    listener = NotifySocket(f"@panda-test-{uuid.uuid4().hex}")  # an abstract-namespace address
    standby = None
    try:
        wait_until(lambda: "lease_acquired" in holder.output(), 20, what="the first daemon")
        standby = Daemon(cfg, db, args=("--standby",),
                         env={"NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "1000000"})
        wait_until(lambda: listener.values("READY"), 20, what="the standby's READY=1")
        assert listener.values("STATUS")[0].startswith("standby: waiting for the lease held by ")
        wait_until(lambda: len(listener.times("WATCHDOG")) >= 3, 10, what="pings while waiting")
        assert holder.stop() == 0
        wait_until(lambda: "1 job · 0 running · 0 failing" in listener.values("STATUS")
                   or "1 job · 1 running · 0 failing" in listener.values("STATUS"), 30, what="the takeover")
        assert standby.stop() == 0
        assert listener.messages[-1][1]["STOPPING"] == "1"
    finally:
        listener.close()
        holder.stop()
        if standby is not None:
            standby.stop()
