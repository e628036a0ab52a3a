"""Run real attempts through the real scheduler pieces, on a real SQLite file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from panda_tui.config import load_config
from panda_tui.engine.wiring import build
from panda_tui.store import connect, logs
from panda_tui.store import ledger as store_ledger
from tests.jobfiles import write_jobs
from tests.procs import spawn


class Bench:
    """A scheduler without a loop: the test dispatches and awaits runs itself."""

    def __init__(self, tmp_path: Path, toml: str, secrets_file: str | None = None):
        self.cfg, self.db = write_jobs(tmp_path, toml)
        self.sched = build(load_config(self.cfg, secrets_file), self.db, watch_config=False)

    async def run(self, name: str, trigger: str = "manual"):
        execution = self.start(name, trigger)
        await execution.task
        return self.get(execution.run_id)

    def start(self, name: str, trigger: str = "manual", at: float | None = None):
        """Dispatch a run of `name` and return its execution."""
        job = self.sched.config.jobs[name]
        self.sched.flight.dispatch(job, time.time() if at is None else at, trigger)
        return self.sched.flight.executions(name)[-1]

    def get(self, run_id: int):
        with closing(connect(self.db, readonly=True)) as conn:  # as a console reads: works after close()
            return store_ledger.get(conn, run_id)

    def lines(self, run_id: int, stream: str | None = None) -> list[str]:
        with closing(connect(self.db, readonly=True)) as conn:
            return [l.text for l in logs.read(conn, run_id, 0, 1_000_000) if stream is None or l.stream == stream]

    async def close(self):
        await self.sched.shutdown(grace=1)


class Daemon:
    """A real `panda-tui daemon` process."""

    def __init__(self, cfg: str, db: str, env: dict | None = None, args: tuple[str, ...] = (),
                 log_dir: str | None = None):
        """Its output goes to a file beside the database, or in `log_dir` (a test that fills the store's disk
        must not take the daemon's stdout with it)."""
        self.cfg, self.db = cfg, db
        name = Path(db).with_suffix(f".daemon.{time.time_ns()}.log")
        self.log = open(Path(log_dir) / name.name if log_dir else name, "w+")
        self.proc = spawn([sys.executable, "-m", "panda_tui", "daemon", "--config", cfg, "--db", db, *args],
                           stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()


# A deadline is what a failing test costs, never what a passing one takes: each is stretched by this factor,
# so that a machine running two suites on two cores (3-5x slower than a quiet one) still meets them.
PATIENCE = float(os.environ.get("PANDA_TEST_PATIENCE", "3"))


def wait_until(cond, timeout: float = 30.0, interval: float = 0.05, what: str = "condition"):
    """Poll `cond` until it returns something true (returned); fail after timeout x PATIENCE seconds."""
    deadline = time.monotonic() + timeout * PATIENCE
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def ledger(db: str, job: str):
    """The job's runs, oldest first."""
    conn = connect(db)
    try:
        return list(reversed(store_ledger.history(conn, job, 100_000)))
    finally:
        conn.close()

