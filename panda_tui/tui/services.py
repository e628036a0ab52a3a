"""What the console's screens need from around them, handed in once instead of reached for through the app:
the store, the clock, the marks, the mode, the one way to act, the jobs to show, and what was last seen."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from panda_tui.readmodel.running import JobSource
from panda_tui.readmodel.snapshot import Snapshot
from panda_tui.tui.controls import Controls
from panda_tui.tui.marks import Marks
from panda_tui.tui.mode import ConsoleMode
from panda_tui.tui.widgets.notice_bar import Notices


class JobReader(Protocol):
    """Which jobs to show (readmodel.running: RunningConfig, FixedJobs)."""

    def read(self, conn: sqlite3.Connection, now: float | None = None) -> JobSource: ...


class OwnScheduler(Protocol):
    """The scheduler an embedded console runs (engine.daemon.EmbeddedScheduler), as far as the console
    looks at it: whether its loop died, a hook called (on its thread) when it does, and its runs going. `mode` and
    `scheduler` of Services change once, when the console starts one (S)."""

    on_error: Callable[[BaseException], None] | None

    @property
    def error(self) -> BaseException | None: ...

    @property
    def running(self) -> int:
        """Runs in progress, which quitting would stop."""
        ...


@dataclass
class Latest:
    """What the console last read of the store, for the keys that work on every screen (help's alarms,
    quit's question). The main screen writes it; nothing else does."""
    snapshot: Snapshot | None = None
    scheduler_error: str | None = None  # the embedded scheduler's loop died of this (whole)


@dataclass
class Services:
    db_path: str
    clock: Callable[[], float]
    marks: Marks
    mode: ConsoleMode
    read_only_reason: str
    controls: Controls
    jobs: JobReader
    notices: Notices  # what the notice line said, newest last
    scheduler: OwnScheduler | None = None  # the one this console runs (embedded), else None
    starter: Callable[[], OwnScheduler | None] | None = None  # starts one here (blocking; None: the lease was taken)
    latest: Latest = field(default_factory=Latest)

    @property
    def read_only(self) -> bool:
        return self.mode is ConsoleMode.READ_ONLY
