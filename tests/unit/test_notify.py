"""The notify protocol's pieces: the Notifier on a real datagram socket, the pace of the supervision on an
injected clock, and the scheduler loop's hooks and sleep bound on a fake clock."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid

from panda_tui.config import load_config
from panda_tui.engine.notify import Notifier
from panda_tui.engine.scheduler import CONTROL_EVERY
from panda_tui.engine.supervision import Supervision, Systemd
from panda_tui.engine.wiring import build
from tests.clocks import FakeClock
from tests.fakes import FakeRunners
from tests.jobfiles import job, write_jobs


def listener(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + address[1:].encode() if address.startswith("@") else address)
    sock.settimeout(2)
    return sock


def test_nothing_happens_without_notify_socket():
    environ = {"PATH": "/usr/bin"}
    notifier = Notifier.from_environ(environ)
    assert not notifier.enabled and notifier.watchdog_every is None
    assert notifier.send("READY=1") is False
    assert environ == {"PATH": "/usr/bin"}


def test_abstract_address_and_the_variables_leave_the_environment():
    address = f"@panda-unit-{uuid.uuid4().hex}"
    sock = listener(address)
    environ = {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid()), "X": "1"}
    notifier = Notifier.from_environ(environ)
    assert environ == {"X": "1"}  # nothing started from here can speak for the scheduler
    assert notifier.watchdog_every == 15.0
    assert notifier.send("READY=1", "STATUS=2 jobs · 0 running · 0 failing")
    assert sock.recv(4096).decode() == "READY=1\nSTATUS=2 jobs · 0 running · 0 failing"
    notifier.close()
    sock.close()


def test_a_watchdog_meant_for_another_pid_is_not_ours(tmp_path):
    path = str(tmp_path / "n")
    sock = listener(path)
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"})
    assert notifier.enabled and notifier.watchdog_every is None
    assert notifier.send("STATUS=x") and sock.recv(100) == b"STATUS=x"
    sock.close()
    assert notifier.send("STATUS=y") is False  # the manager went away: no exception


def test_pings_at_half_the_watchdog_and_status_only_when_it_changes(tmp_path):
    path = str(tmp_path / "n")
    sock = listener(path)
    sock.settimeout(0.05)
    now = [100.0]
    line = ["1 job · 0 running · 0 failing"]
    supervision = Systemd(Notifier(path, watchdog_usec=4_000_000), lambda: line[0], lambda: now[0])
    assert supervision.max_sleep == 2.0  # the loop never sleeps past a due ping

    def heard() -> list[str]:
        got = []
        while True:
            try:
                got.append(sock.recv(4096).decode())
            except TimeoutError:
                return got

    supervision.ready()
    assert heard() == ["READY=1\nSTATUS=1 job · 0 running · 0 failing"]
    for at, expected in ((101.9, []), (102.0, ["WATCHDOG=1"]), (103.5, []), (104.1, ["WATCHDOG=1"])):
        now[0] = at
        supervision.ticked()
        assert heard() == expected, at
    line[0] = "1 job · 1 running · 0 failing"
    now[0] = 106.2
    supervision.ticked()
    assert heard() == ["WATCHDOG=1", "STATUS=1 job · 1 running · 0 failing"]
    supervision.stopping()
    assert heard()[0].startswith("STOPPING=1\n")
    sock.close()


class Recorder(Supervision):
    def __init__(self, max_sleep: float | None):
        self.max_sleep = max_sleep
        self.calls: list[str] = []

    def ready(self) -> None:
        self.calls.append("ready")

    def ticked(self) -> None:
        self.calls.append("ticked")

    def stopping(self) -> None:
        self.calls.append("stopping")


class SleepyClock(FakeClock):
    """Moves on by itself as the loop sleeps, and remembers how long each sleep was asked to be."""

    def __init__(self, start: float):
        super().__init__(start)
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None, on_time=None) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)
        if on_time is not None:
            on_time(lambda: None)
        await asyncio.sleep(0)


async def loop_for(tmp_path, max_sleep: float | None) -> tuple[Recorder, SleepyClock]:
    cfg, db = write_jobs(tmp_path, job("daily", "@daily"))  # nothing due for hours: the loop would idle
    clock = SleepyClock(1_780_000_000.0)
    sched = build(load_config(cfg), db, clock=clock, runners=FakeRunners(), watch_config=False)
    sched.supervision = recorder = Recorder(max_sleep)
    stop = asyncio.Event()
    task = asyncio.ensure_future(sched.run(stop))
    while len(clock.sleeps) < 20:
        await asyncio.sleep(0)
    stop.set()
    await task
    return recorder, clock


async def test_the_loop_is_ready_after_start_ticks_each_pass_and_never_sleeps_past_the_watchdog(tmp_path):
    recorder, clock = await loop_for(tmp_path, max_sleep=0.1)
    assert recorder.calls[0] == "ready" and recorder.calls[-1] == "stopping"
    assert set(recorder.calls[1:-1]) == {"ticked"} and len(recorder.calls) - 2 >= 20
    assert max(clock.sleeps) <= 0.1
    (tmp_path / "idle").mkdir()
    idle, idle_clock = await loop_for(tmp_path / "idle", max_sleep=None)
    assert 0.1 < max(idle_clock.sleeps) <= CONTROL_EVERY  # without a watchdog, control requests set the pace
