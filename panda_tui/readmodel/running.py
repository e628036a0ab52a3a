"""Which jobs a reader shows: the config the scheduler runs, as it stored it, when one holds the database;
otherwise the local jobs.toml, as it is now (re-read when its stat changes). A console or `status` so never
depends on a local file being valid, and follows every reload the scheduler makes without being asked to."""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Literal

from panda_tui.config import Config, ConfigError, load_config
from panda_tui.store import lease, state


# "scheduler": what the live scheduler runs; "local": the file here; "stored": what a stopped scheduler ran
Origin = Literal["scheduler", "local", "stored"]


@dataclass(frozen=True)
class JobSource:
    config: Config | None
    origin: Origin
    refused: list[str] = field(default_factory=list)  # why jobs.toml is refused, by the scheduler or here
    loaded_at: float | None = None


class RunningConfig:
    """Reads the job set; rebuilds a Config only when the stored one changed (consoles poll this)."""

    def __init__(self, local_path: str):
        self.local_path = local_path
        self._stamp: float | None = None
        self._stored: Config | None = None
        self._local_stamp: tuple | None = None
        self._local: Config | list[str] = []  # the local file's config, or why it is refused
        self._good_local: Config | None = None  # the file's last valid config, shown while an edit is refused
        self._local_read = False

    def read(self, conn: sqlite3.Connection, now: float | None = None) -> JobSource:
        now = time.time() if now is None else now
        stored = self._stored_config(conn)
        scheduler_errors = state.config_errors(conn)
        if lease.live_holder(conn, now) is not None and stored is not None:
            return JobSource(stored, "scheduler", scheduler_errors, self._stamp)
        local = self._local_config()
        read_at = self._local_stamp[0] / 1e9 if self._local_stamp else None  # a new stamp: a new source
        if isinstance(local, Config):
            return JobSource(local, "local", loaded_at=read_at)
        if self._good_local is not None:  # an edit refused: the file's last valid jobs stay listed
            return JobSource(self._good_local, "local", local, read_at)
        return JobSource(stored, "stored" if stored is not None else "local", local, self._stamp)

    def _local_config(self) -> Config | list[str]:
        stamp = _file_stamp(self.local_path)
        if not self._local_read or stamp is None or stamp != self._local_stamp:
            self._local_stamp, self._local_read = stamp, True
            try:
                self._local = self._good_local = load_config(self.local_path, channels=False)  # shown, not sent to
            except ConfigError as exc:
                self._local = exc.errors
        return self._local

    def _stored_config(self, conn: sqlite3.Connection) -> Config | None:
        stamp = state.running_config_stamp(conn)
        if stamp != self._stamp:
            self._stamp = stamp
            self._stored = state.last_good_config(conn, channels=False)  # shown, not sent to
        return self._stored


def _file_stamp(path: str) -> tuple | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size, info.st_ino


class FixedJobs:
    """A job set given outright (tests, screenshots, probes): read() always answers it."""

    def __init__(self, config: Config):
        self.config = config

    def read(self, conn: sqlite3.Connection, now: float | None = None) -> JobSource:
        return JobSource(self.config, "local")
