"""kill -9 of a real daemon: runs are settled, logs whole, slots accounted for, the lease passes on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from panda_tui.runners import keeper
from panda_tui.store import connect, logs
from tests.faults.conftest import events, rows, submit
from tests.integration.helpers import Daemon, wait_until
from tests.jobfiles import job, write_jobs
from tests.procs import spawn

pytestmark = pytest.mark.slow


@pytest.mark.docker
def test_kill9_with_ten_container_and_five_local_runs(tmp_path, docker_client, busybox_image, figure):
    gate = tmp_path / "gate"  # each job prints its first line, then waits for gate/go: all 15 print before the kill
    gate.mkdir()
    jobs = []
    for n in range(10):
        pause = "0.1" if n < 5 else "0.4"  # c0-c4 finish while the daemon is down; c5-c9 outlive it
        jobs.append(f'[jobs.c{n}]\nschedule = "@yearly"\nimage = "{busybox_image}"\nnetwork_mode = "none"\n'
                    f'volumes = ["{gate}:/gate:ro"]\n'
                    f'command = "echo c{n}-1; while [ ! -e /gate/go ]; do sleep 0.05; done; '
                    f'for i in $(seq 2 20); do echo c{n}-$i; sleep {pause}; done; exit {n}"\n')
    for n in range(5):
        pause = 0.5 if n < 3 else 8  # l0-l2 end while the daemon is down; l3-l4 outlive it
        jobs.append(f'[jobs.l{n}]\nschedule = "@yearly"\n'
                    f'command = "echo l{n}; while [ ! -e {gate}/go ]; do sleep 0.05; done; sleep {pause}; '
                    f'echo l{n} done; exit {10 + n}"\n')
    jobs.append(job("tick", "@every 2s", catchup="none"))
    cfg, db = write_jobs(tmp_path, *jobs)
    first = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in first.output(), 20, what="daemon start")
        for n in range(10):
            submit(db, "trigger", f"c{n}")
        for n in range(5):
            submit(db, "trigger", f"l{n}")
        wait_until(lambda: rows(db, "SELECT COUNT(*) FROM runs WHERE job != 'tick' AND status='running'"
                                    " AND log_lines > 0")[0][0] == 15, 60, what="15 runs printing")
        # catch-up starts from the last slot a scheduler saw: make sure "tick" has been seen once
        wait_until(lambda: rows(db, "SELECT COUNT(*) FROM runs WHERE job='tick'")[0][0] >= 1, 10, what="a tick")
    finally:
        first.kill9()
    killed_at = time.time()
    (gate / "go").touch()
    # while nobody watches: c0-c4 and l0-l2 end, and two tick slots pass
    refs = [ref for (ref,) in rows(db, "SELECT runner_ref FROM runs WHERE job IN ('c0','c1','c2','c3','c4')")]
    wait_until(lambda: all(docker_client.containers.get(ref).status == "exited" for ref in refs), 60,
               what="c0-c4 ended")
    ended = [os.path.join(keeper.run_dir(keeper.runs_dir(db), run_id), keeper.ENDED)
             for (run_id,) in rows(db, "SELECT id FROM runs WHERE job IN ('l0','l1','l2')")]
    wait_until(lambda: all(map(os.path.exists, ended)), 60, what="l0-l2 ended (their keepers wrote the exit)")
    wait_until(lambda: time.time() > killed_at + 4.5, 10, what="two tick slots")
    second = Daemon(str(cfg), db)
    try:
        wait_until(lambda: rows(db, "SELECT COUNT(*) FROM runs WHERE job != 'tick' AND status IN"
                                    " ('queued','running')")[0][0] == 0, 60, what="every run settled")
    finally:
        assert second.stop() == 0
    conn = connect(db)
    settled = 0
    for n in range(10):
        (run_id, status, code), = rows(db, "SELECT id, status, exit_code FROM runs WHERE job=?", f"c{n}")
        lines = [l.text for l in logs.read(conn, run_id, 0, 1000) if l.stream == "out"]
        assert (status, code) == ("succeeded" if n == 0 else "failed", n), (n, status, code)
        assert lines == [f"c{n}-{i}" for i in range(1, 21)], (n, lines)  # whole, no duplicates
        settled += 1
    for n in range(5):
        (run_id, status, code), = rows(db, "SELECT id, status, exit_code FROM runs WHERE job=?", f"l{n}")
        assert (status, code) == ("failed", 10 + n), (n, status, code)
        lines = [l.text for l in logs.read(conn, run_id, 0, 1000) if l.stream == "out"]
        assert lines == [f"l{n}", f"l{n} done"], (n, lines)
        settled += 1
    gone = rows(db, "SELECT COUNT(*) FROM runs WHERE job='tick' AND status='missed' AND reason LIKE"
                    " 'scheduler down from%' AND scheduled_at > ?", killed_at)[0][0]
    assert gone >= 2
    assert rows(db, "SELECT COUNT(*) FROM runs WHERE status IN ('queued','running')")[0][0] <= 1  # a live tick
    figure(f"{settled}/15 runs (10 containers, 5 local) reconciled with their exit codes and whole logs, "
           f"0 stuck, {gone} slots recorded missed")


def test_kill9_while_the_writer_holds_a_batch(tmp_path, figure):
    cfg, db = write_jobs(tmp_path, job("flood", "@yearly", ["seq", "1", "50000000"], log_max_lines=100000000,
                                       log_max_bytes="4g"))
    d = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in d.output(), 20)
        submit(db, "trigger", "flood")
        wait_until(lambda: (rows(db, "SELECT MAX(log_lines) FROM runs")[0][0] or 0) > 200_000, 30)
    finally:
        d.kill9()
    keeper = int(rows(db, "SELECT runner_ref FROM runs")[0][0].split(":")[0])
    os.killpg(keeper, signal.SIGKILL)  # the flood lives on under its keeper; no second daemon comes for it
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    conn = connect(db)
    run_id, counted = rows(db, "SELECT id, out_lines FROM runs")[0]
    texts = [l.text for l in logs.read(conn, run_id, 0, 10_000_000)]
    assert texts == [str(i) for i in range(1, len(texts) + 1)]  # intact, in order, no gap
    assert counted == len(texts)  # the counter was committed with its batch
    figure(f"store clean (integrity ok), {len(texts)} lines intact up to the last committed batch")


def test_two_daemons_at_once_ten_times_one_lease_and_a_takeover(tmp_path, figure):
    cfg, db = write_jobs(tmp_path, job("tick", "@every 1s"))
    takeovers = []
    for attempt in range(10):
        pair = [spawn([sys.executable, "-m", "panda_tui", "daemon", "--standby", "--config", str(cfg),
                        "--db", db], stdout=open(tmp_path / f"d{attempt}{k}.log", "w"),
                       stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
                for k in "ab"]
        logs_of = [tmp_path / f"d{attempt}{k}.log" for k in "ab"]
        states = lambda: [[e["event"] for e in events(p.read_text())] for p in logs_of]  # noqa: E731
        wait_until(lambda: all(("lease_acquired" in s) or ("standby" in s) for s in states()), 20)
        holders = [i for i, s in enumerate(states()) if "lease_acquired" in s]
        assert len(holders) == 1, states()
        holder, other = pair[holders[0]], pair[1 - holders[0]]
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        killed = time.monotonic()
        wait_until(lambda: "lease_acquired" in states()[1 - holders[0]], 15, what="takeover")
        takeovers.append(time.monotonic() - killed)
        # the taker runs a slot of its own before it is stopped (was: a fixed 1.2 s)
        wait_until(lambda: "started" in _after_lease(states()[1 - holders[0]]), 15, what="the taker's first slot")
        other.send_signal(signal.SIGTERM)
        assert other.wait(30) == 0
    doubles = rows(db, "SELECT COUNT(*) FROM (SELECT job, scheduled_at, attempt FROM runs"
                       " GROUP BY 1, 2, 3 HAVING COUNT(*) > 1)")[0][0]
    assert doubles == 0
    assert max(takeovers) < 10  # within the lease TTL
    figure(f"10/10 starts: exactly one holder; takeover after kill -9 in max {max(takeovers):.2f}s "
           f"(TTL 10s); 0 slots run twice over {rows(db, 'SELECT COUNT(*) FROM runs')[0][0]} runs")


def _after_lease(names: list[str]) -> list[str]:
    return names[names.index("lease_acquired"):] if "lease_acquired" in names else []


def test_wall_clock_jumps_while_the_loop_runs(tmp_path, figure):
    """The real run() loop on an injected clock: an hour forward, an hour back."""
    import asyncio
    from panda_tui.config import load_config
    from panda_tui.engine.wiring import build
    from tests.clocks import FakeClock
    from tests.fakes import FakeRunners
    cfg, db = write_jobs(tmp_path, job("m", "* * * * *", catchup="latest"))
    start = 1_800_000_000.0 - 1_800_000_000.0 % 60
    clock = FakeClock(start)
    runners = FakeRunners()

    async def scenario():
        sched = build(load_config(cfg), db, clock=clock, runners=runners,
                      watch_config=False)
        stop = asyncio.Event()
        task = asyncio.ensure_future(sched.run(stop))
        for step in [60] * 3 + ["fwd"] + [60] * 3 + ["back"] + [60] * 5:
            if step == "fwd":
                clock.step_wall(3600)
            elif step == "back":
                clock.step_wall(-3600)
            else:
                clock.advance(step)
            await asyncio.sleep(0.05)
            for handle in runners.fake.handles.values():
                if not handle.done.done():
                    from panda_tui.runners.base import Outcome
                    handle.done.set_result(Outcome(0))
            await asyncio.sleep(0.05)
        stop.set()
        sched.wake()  # the fake clock never moves on its own: wake the loop so it sees the stop
        await task

    asyncio.run(scenario())
    slots = rows(db, "SELECT scheduled_at, status FROM runs ORDER BY scheduled_at")
    assert len({s for s, _ in slots}) == len(slots)  # no slot twice
    missed = sum(1 for _, st in slots if st == "missed")
    assert missed >= 55  # the hour jumped over: recorded missed, newest run (catchup = latest)
    figure(f"{len(slots)} slots, 0 run twice, {missed} recorded missed across the forward jump")


def test_a_daemon_started_through_a_symlink_reattaches_a_run_started_through_the_real_path(tmp_path):
    go = tmp_path / "go"
    script = (f"for i in 1 2 3; do echo line-$i; done; while [ ! -e '{go}' ]; do sleep 0.05; done; "
              "for i in 4 5 6 7 8 9 10 11 12; do echo line-$i; done")
    cfg, db = write_jobs(tmp_path, job("slow", "@yearly", script))
    (tmp_path / "elsewhere").mkdir()
    link = tmp_path / "elsewhere" / "link.db"
    link.symlink_to(db)
    first = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in first.output(), 20, what="daemon start")
        submit(db, "trigger", "slow")
        wait_until(lambda: rows(db, "SELECT log_lines FROM runs WHERE job='slow'") == [(3,)], 20,
                   what="three lines stored")
    finally:
        first.kill9()
    second = Daemon(cfg, str(link))
    try:
        wait_until(lambda: "lease_acquired" in second.output(), 20, what="second daemon start")
        go.touch()
        wait_until(lambda: rows(db, "SELECT status FROM runs WHERE job='slow'")[0][0] not in ("queued", "running"),
                   30, what="the run settled")
    finally:
        assert second.stop() == 0
    (run_id, status, reason), = rows(db, "SELECT id, status, reason FROM runs WHERE job='slow'")
    assert status == "succeeded", reason
    texts = [l.text for l in logs.read(connect(db, readonly=True), run_id, 0, 100) if l.stream == "out"]
    assert texts == [f"line-{i}" for i in range(1, 13)]
    assert not (tmp_path / "elsewhere" / ".link.db.runs").exists()  # one run folder, the database's own
