"""The store and the config as the web handlers see them: reads on a worker thread with a connection of their
own (the event loop also carries every console's keystrokes), and jobs.toml re-read when it changes."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from typing import TypeVar

from panda_tui.config import Config, ConfigError
from panda_tui.engine.config_source import ConfigSource
from panda_tui.store import connect

T = TypeVar("T")


class Backend:
    def __init__(self, config_path: str, db_path: str, allow_control: bool):
        self.source = ConfigSource(config_path)
        self._config = self.source.load()  # ConfigError at start is the caller's to report
        self.db_path = db_path
        self.allow_control = allow_control
        self.config_error: str | None = None  # why the file on disk is not the config in use
        self._lock = threading.Lock()

    @property
    def config(self) -> Config:
        """The newest valid jobs.toml (an invalid edit keeps the last good one, like the scheduler does)."""
        with self._lock:
            if self.source.changed():
                try:
                    self._config = self.source.load()
                    self.config_error = None
                except ConfigError as exc:
                    self.config_error = "; ".join(exc.errors[:3])
            return self._config

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
