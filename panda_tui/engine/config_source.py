"""Where the running config comes from: jobs.toml (and the secrets file named with it), watched for changes."""

from __future__ import annotations

import os

from panda_tui.config import Config, load_config
from panda_tui.engine.store_health import StoreHealth
from panda_tui.store import state
from panda_tui.store.ledger import Ledger
from panda_tui.config.runas import require_runnable


class ConfigSource:
    def __init__(self, path: str, secrets_file: str | None = None, watch: bool = True):
        self.path = path
        self.secrets_file = secrets_file  # `daemon --secrets-file`: kept for every reload
        self.watch = watch
        self._stamp = _stamp(path)

    def changed(self) -> bool:
        """Whether the file changed since the last load (cheap: one stat)."""
        return self.watch and _stamp(self.path) != self._stamp

    def load(self) -> Config:
        """Read and validate the file (blocking: call it off the loop); raises ConfigError. The stamp moves
        on either way, so a broken file is reported once, not on every look."""
        self._stamp = _stamp(self.path)
        config = load_config(self.path, self.secrets_file)
        require_runnable(config)  # a user this scheduler cannot switch to is refused like any error
        return config


def _stamp(path: str) -> tuple[float, int, int] | None:
    try:
        info = os.stat(path)
        return (info.st_mtime, info.st_size, info.st_ino)
    except OSError:
        return None


def remember_reload(ledger: Ledger, store: StoreHealth, now: float, why: str, errors: list[str],
                    config: Config | None = None) -> None:
    """The last reload's result, and with an accepted one the config now running: what consoles, `status` and
    `serve` show. A full disk keeps the write for later."""
    def write() -> None:
        with ledger.transaction() as conn:
            state.record_reload(conn, now, why, errors)
            if config is not None:
                state.put_running_config(conn, config.path, config.data, now)
                state.baseline_slots(conn, [name for name, job in config.jobs.items() if job.enabled], now)
    store.attempt("record the running config", write, keep=True)
