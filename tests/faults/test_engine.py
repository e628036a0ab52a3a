"""The Docker engine goes away and comes back; containers that are not ours are never touched."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.conftest import ledger_on
from tests.faults.conftest import rows
from tests.integration.helpers import Daemon, wait_until
from tests.jobfiles import job, write_jobs

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_engine_stopped_then_back(tmp_path, second_engine, busybox_image, figure):
    """The engine stays down until its container slots have failed and local slots ran beside them; every
    step waits on what it needs to see, never a fixed time."""
    cfg, db = write_jobs(tmp_path, job("boxed", "@every 3s", "echo in a box", image=busybox_image,
                                       network_mode="none", pull="never", docker_host=second_engine.host),
                         job("plain", "@every 3s", "echo local"))
    header_states: list[str] = []
    d = Daemon(str(cfg), db)
    boxed = "SELECT COUNT(*) FROM runs WHERE job='boxed' AND scheduled_at > ? AND status = ?"
    try:
        wait_until(lambda: "lease_acquired" in d.output(), 20, what="daemon start")
        wait_until(lambda: rows(db, boxed, 0, "succeeded")[0][0] >= 1, 30, what="a container run")
        console = asyncio.new_event_loop()
        watcher = console.create_task(_watch_header(str(cfg), db, header_states))

        def drive(cond, what: str) -> None:  # the console runs while the test waits
            console.run_until_complete(_until(cond, watcher, what))

        drive(lambda: any("✓ up" in s for s in header_states), "the header showing the engine up")
        second_engine.stop()
        stopped = time.time()
        drive(lambda: rows(db, boxed, stopped + 1, "failed")[0][0] >= 2 and rows(
            db, "SELECT COUNT(*) FROM runs WHERE job='plain' AND status='succeeded' AND scheduled_at > ?",
            stopped + 1)[0][0] >= 2 and any("DOWN" in s for s in header_states), "container slots failing")
        second_engine.start()
        restarted = time.time()
        drive(lambda: rows(db, "SELECT COUNT(*) FROM runs WHERE job='boxed' AND status='succeeded'"
                               " AND started_at > ?", restarted)[0][0] >= 1, "dispatch resumed")
        drive(lambda: any("✓ up" in s for s in header_states[_first_down(header_states):]), "the header up again")
        watcher.cancel()
        console.run_until_complete(asyncio.gather(watcher, return_exceptions=True))
        console.close()
        assert d.proc.poll() is None  # the scheduler kept running throughout
    finally:
        d.stop()
    window = rows(db, "SELECT status, reason FROM runs WHERE job='boxed' AND scheduled_at BETWEEN ? AND ?",
                  stopped + 1, restarted - 1)
    assert window and all(s in ("failed", "missed") for s, _ in window)
    assert all(r.startswith("docker engine unreachable") for s, r in window if s == "failed"), window
    plain = rows(db, "SELECT COUNT(*) FROM runs WHERE job='plain' AND status='succeeded' AND scheduled_at"
                     " BETWEEN ? AND ?", stopped, restarted)[0][0]
    assert plain >= 2  # local jobs never noticed
    figure(f"{len(window)} container slots in the {restarted - stopped:.0f} s outage failed with 'docker engine "
           f"unreachable', {plain} local runs unaffected, header showed the engine down then up, dispatch resumed "
           f"without a restart")


def _first_down(states: list[str]) -> int:
    return next((i for i, s in enumerate(states) if "DOWN" in s), len(states))


async def _until(cond, watcher: asyncio.Task, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if watcher.done():
            watcher.result()  # the console's own failure, if any
            raise AssertionError(f"the console stopped before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def _watch_header(cfg: str, db: str, out: list[str]) -> None:
    from panda_tui.config import load_config
    from panda_tui.tui.app import PandaApp
    from panda_tui.tui.widgets.status_header import StatusHeader
    app = PandaApp(load_config(cfg), db, mode="attached")
    async with app.run_test(size=(160, 30)) as pilot:
        while True:  # until cancelled
            await pilot.pause(0.5)  # a sample each half second: this loop watches, it waits for nothing
            if app.main is not None:
                out.append(app.main.query_one(StatusHeader).words)


def test_containers_of_another_database_or_nobody_are_never_touched(tmp_path, docker_client, busybox_image, figure):
    theirs = docker_client.containers.run(busybox_image, ["sleep", "120"], detach=True, network_mode="none",
                                          labels={"panda.db": "another-db", "panda.run_id": "1", "panda.job": "x"})
    nobody = docker_client.containers.run(busybox_image, ["sleep", "120"], detach=True, network_mode="none")
    try:
        cfg, db = write_jobs(tmp_path, job("x", "@yearly", "true", image=busybox_image, network_mode="none"))
        with ledger_on(db) as book:
            run_id = book.insert("x", time.time(), trigger="schedule", now=time.time(), runner="docker").id
            book.start(run_id, time.time())  # a crash left it running; its container is not ours
        d = Daemon(str(cfg), db)
        try:
            wait_until(lambda: rows(db, "SELECT status FROM runs WHERE id=?", run_id)[0][0] == "lost", 30)
        finally:
            d.stop()
        theirs.reload()
        nobody.reload()
        assert theirs.status == "running" and nobody.status == "running"
        reason = rows(db, "SELECT reason FROM runs WHERE id=?", run_id)[0][0]
        assert reason.startswith("container is gone")
        figure("0 foreign containers touched (another database's and an unlabelled one still running)")
    finally:
        theirs.remove(force=True)
        nobody.remove(force=True)
