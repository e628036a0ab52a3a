from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from panda_tui.config import load_config
from panda_tui.engine.daemon import EmbeddedScheduler
from panda_tui.readmodel.running import RunningConfig
from panda_tui.tui.app import PandaApp
from panda_tui.tui.demo import fill
from tests.jobfiles import QUICK_STOP, write_jobs


@pytest.fixture(autouse=True)
def utc_clock_display(local_zone):
    """Screens show local time: pin the zone so snapshots match everywhere."""
    local_zone("UTC")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("demo") / "demo.db")
    fill(path)
    return path


@dataclass
class World:
    """A jobs.toml, a database, and a scheduler running on it (embedded on a thread, as the console would)."""
    cfg: Path
    db: str
    scheduler: EmbeddedScheduler

    def app(self, mode: str = "attached", **kwargs) -> PandaApp:
        """A console on this world, reading the job set the way `panda-tui` does (embedded: it watches the
        world's scheduler as its own)."""
        if mode == "embedded":
            kwargs.setdefault("scheduler", self.scheduler)
        return PandaApp(RunningConfig(str(self.cfg)), self.db, mode=mode, **kwargs)


@pytest.fixture
def world(tmp_path):
    """World(jobs_toml): a scheduler runs until the test ends."""
    started = []

    def make(*tables: str) -> World:
        cfg, db = write_jobs(tmp_path, *tables, QUICK_STOP)
        embedded = EmbeddedScheduler(load_config(cfg), db)
        embedded.start()
        started.append(embedded)
        return World(Path(cfg), db, embedded)

    yield make
    for embedded in started:
        embedded.stop()


def idle_store(directory: Path, *tables: str) -> tuple[str, str]:
    """A jobs.toml and a store no scheduler holds (none ever ran): (config path, database path)."""
    from panda_tui.store.db import Database
    cfg, db = write_jobs(directory, *tables)
    Database(db).close()
    return cfg, db


def write_store(path: str, change: Callable[[sqlite3.Connection], object]) -> None:
    """One transaction on the store at `path`, as another process (a daemon) would write it."""
    from panda_tui.store.db import Database
    db = Database(path)
    try:
        with db.transaction() as conn:
            change(conn)
    finally:
        db.close()


async def until(pilot, cond, timeout: float = 30.0, what: str = "condition") -> None:
    """Let the console work until cond() holds (never a fixed wait)."""
    for _ in range(int(timeout / 0.05)):
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"{what} not reached on screen")


async def started(app, pilot, rows: list[str] | None = None, count: int | None = None) -> None:
    """The console is up and its job list shows rows: any (the default), exactly `rows` top to bottom, or
    `count` of them. The set-up every console test begins with."""
    def shown() -> bool:
        names = app.main.jobs.rows_shown if app.main is not None else []
        if rows is not None:
            return names == rows
        return len(names) == count if count is not None else bool(names)
    await until(pilot, shown, what=f"job list {rows or count or 'with rows'}")
