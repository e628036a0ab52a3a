"""What every runner promises, proved on each: local processes, real Docker containers and real Swarm
services (on this machine's engine as a single-node swarm) alike."""

from __future__ import annotations

import asyncio
import textwrap
import time

import pytest

from tests.conftest import run_cli
from tests.integration.helpers import Bench, Daemon, ledger, wait_until

KINDS = ["local", pytest.param("docker", marks=pytest.mark.docker), pytest.param("swarm", marks=[pytest.mark.docker, pytest.mark.swarm])]


@pytest.fixture(params=KINDS)
def kind(request) -> str:
    return request.param


@pytest.fixture
def job_toml(kind, request):
    """The job "c" as the runner under test runs it: a command string, run by sh either way. (A swarm
    service takes no network_mode "none": with no network named it gets the node's default one, and an
    engine started as CI starts it (--bridge=none) has none but loopback.)"""
    image = request.getfixturevalue("busybox_image") if kind != "local" else None
    if kind == "swarm":
        request.getfixturevalue("swarm")

    def make(command: str, extra: str = "", schedule: str = "@daily") -> str:
        where = {"local": "", "docker": f'image = "{image}"\nnetwork_mode = "none"\npull = "never"\n',
                 "swarm": f'image = "{image}"\nrunner = "swarm"\n'}[kind]
        quote = "'" * 3  # a TOML literal string: the command's backslashes and quotes stay as they are
        return (f'[jobs.c]\nschedule = "{schedule}"\n{where}command = {quote}{command}{quote}\n'
                + textwrap.dedent(extra) + "\n")
    return make


@pytest.fixture
async def bench(tmp_path, job_toml):
    made: list[Bench] = []

    def make(command: str, extra: str = "") -> Bench:
        made.append(Bench(tmp_path, job_toml(command, extra)))
        return made[-1]

    yield make
    for b in made:
        await b.close()


async def until_output(b: Bench, run_id: int, lines: list[str], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while b.lines(run_id, "out") != lines:
        assert time.monotonic() < deadline, b.lines(run_id)
        await asyncio.sleep(0.05)


async def test_output_in_order_per_stream_and_the_exit_code(bench, kind):
    b = bench("for i in 1 2 3; do echo out$i; echo err$i >&2; done; exit 3")
    run = await b.run("c")
    assert (run.status, run.exit_code, run.reason, run.runner) == ("failed", 3, "exit 3", kind)
    assert b.lines(run.id, "out") == ["out1", "out2", "out3"]
    assert b.lines(run.id, "err") == ["err1", "err2", "err3"]


async def test_a_long_line_and_a_last_line_without_newline(bench):
    b = bench("head -c 40000 /dev/zero | tr '\\000' x; echo; printf 'no newline at the end'")
    run = await b.run("c")
    assert run.status == "succeeded"
    assert b.lines(run.id, "out") == ["x" * 40000, "no newline at the end"]


async def test_the_run_knows_its_job_attempt_trigger_and_env(bench):
    b = bench("echo $PANDA_JOB $PANDA_RUN_ID $PANDA_ATTEMPT $PANDA_TRIGGER $GREETING", 'env = { GREETING = "hi" }')
    run = await b.run("c")
    assert b.lines(run.id, "out") == [f"c {run.id} 1 manual hi"]


async def test_the_timeout_bounds_a_run_that_ignores_sigterm(bench):
    b = bench('trap "" TERM; echo started; sleep 600', 'timeout = "2s"\nkill_grace = "1s"')
    started = time.monotonic()
    run = await b.run("c")
    assert (run.status, run.reason) == ("timed_out", "timed out after 2s")
    assert time.monotonic() - started < 120  # not the 600 s the run asked for (loose: a loaded machine)
    assert b.lines(run.id, "out") == ["started"]


async def test_kill_stops_the_run_and_records_it_killed(bench):
    b = bench("echo up; sleep 60", 'kill_grace = "1s"')
    execution = b.start("c")
    await until_output(b, execution.run_id, ["up"])
    execution.kill("killed on request")
    await execution.task
    run = b.get(execution.run_id)
    assert (run.status, run.reason) == ("killed", "killed on request")
    assert [t for t in b.lines(run.id, "sys") if "killed" in t] == ["[panda] killed on request"]  # said once


@pytest.mark.slow
@pytest.mark.parametrize("ends_while_down", [False, True], ids=["runs-on", "ends-while-down"])
def test_a_run_outlives_a_killed_scheduler_and_is_followed_to_its_end(tmp_path, kind, job_toml, ends_while_down):
    """kill -9 of the daemon mid-run; the next one re-attaches through the runner, reads the rest of the
    log without gaps or doubles, and records the real exit code."""
    go = tmp_path / "go"
    cfg, db = str(tmp_path / "jobs.toml"), str(tmp_path / "panda.db")
    # the job waits for the test, which a container cannot see: it ends on a timer there instead
    wait = f"while [ ! -e {go} ]; do sleep 0.05; done" if kind == "local" else "sleep 3"
    done = tmp_path / "done"
    (tmp_path / "jobs.toml").write_text(job_toml(f"echo up; {wait}; for i in $(seq 1 20); do echo line$i; done; "
                                                 f"touch {done}; exit 7", schedule="@yearly"))
    first = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in first.output(), 20, what="daemon start")
        assert run_cli("trigger", "c", "--config", cfg, "--db", db).returncode == 0
        wait_until(lambda: ledger(db, "c") and ledger(db, "c")[0].runner_ref and "up" in lines(db), 30,
                   what="the run started and printed")
    finally:
        first.kill9()
    assert ledger(db, "c")[0].status == "running"
    go.touch()
    if ends_while_down:
        wait_until(lambda: job_ended(kind, ledger(db, "c")[0].runner_ref, done), 30, what="the job ended")
    restarted = time.time()
    second = Daemon(cfg, db)
    try:
        wait_until(lambda: ledger(db, "c")[0].status != "running", 40, what="run settled")
    finally:
        assert second.stop() == 0
    run = ledger(db, "c")[0]
    assert (run.status, run.exit_code) == ("failed", 7), run
    if ends_while_down:  # its end is when it ended, not when a scheduler came to look
        assert run.finished_at < restarted, (run.finished_at, restarted)
    assert lines(db) == ["up"] + [f"line{i}" for i in range(1, 21)]  # complete, no duplicates


def job_ended(kind: str, ref: str, done) -> bool:
    """A local job says so with a file, touched just before its `exit`: a second later its keeper has long
    noted the end (a few ms after), and a scheduler that came to look would say a later time. A container's
    end is the engine's to tell."""
    if kind == "local":
        return done.exists() and time.time() > done.stat().st_mtime + 1
    import docker
    if kind == "swarm":  # the service's one task
        return [t["Status"]["State"] for t in docker.from_env().api.tasks(filters={"service": ref})] == ["failed"]
    return docker.from_env().containers.get(ref).status == "exited"


def lines(db: str) -> list[str]:
    from panda_tui.store import connect, logs
    conn = connect(db)
    try:
        return [l.text for l in logs.read(conn, 1, 0, 100_000) if l.stream == "out"]
    finally:
        conn.close()
