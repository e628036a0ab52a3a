"""The store and the jobs as the web handlers see them: reads on a worker thread with a connection of their
own (the event loop also carries every console's keystrokes), and the job set the scheduler runs (as it
stored it), else the local jobs.toml: the same as consoles and `status` show."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from typing import TypeVar

import time

from panda_tui.config import Config, ConfigError
from panda_tui.readmodel.running import RunningConfig
from panda_tui.store import connect

T = TypeVar("T")


class Backend:
    def __init__(self, config_path: str, db_path: str, allow_control: bool):
        self.jobs = RunningConfig(config_path)
        self.db_path = db_path
        self.allow_control = allow_control
        self.config_error: str | None = None  # why jobs.toml is refused (by the scheduler, or here)
        self._lock = threading.Lock()
        self._read_at = 0.0
        config = self._read()
        if config is None:  # nothing to serve: the caller reports it
            raise ConfigError([self.config_error or "no jobs: jobs.toml is missing and no scheduler stored any"])
        self._config: Config = config

    @property
    def config(self) -> Config:
        """The jobs to show, read again at most once a second (a few cheap reads of the store)."""
        with self._lock:
            if time.monotonic() - self._read_at > 1.0:
                self._config = self._read() or self._config
            return self._config

    def _read(self) -> Config | None:
        self._read_at = time.monotonic()
        source = self.read_here(self.jobs.read)
        self.config_error = "; ".join(source.refused[:3]) or None
        return source.config

    async def read(self, fn: Callable[..., T], *args) -> T:
        return await asyncio.to_thread(self.read_here, fn, *args)

    def read_here(self, fn: Callable[..., T], *args) -> T:
        """The same, on the calling thread (one that is not the event loop's)."""
        conn = connect(self.db_path, readonly=True)
        try:
            return fn(conn, *args)
        finally:
            conn.close()

    async def write(self, fn: Callable[..., T], *args) -> T:
        return await asyncio.to_thread(self._write, fn, *args)

    def _write(self, fn: Callable[[sqlite3.Connection], T], *args) -> T:
        conn = connect(self.db_path, create=False)
        try:
            return fn(conn, *args)
        finally:
            conn.close()
