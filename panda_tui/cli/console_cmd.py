"""Open the console: embed a scheduler when none holds the lease, else attach to the daemon."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

from panda_tui.cli.common import echo_err, fail, get_config, resolve_db, safe, say, terminal_width
from panda_tui.cli.embedding import LateScheduler
from panda_tui.config import ConfigError
from panda_tui.readmodel.scheduler_health import daemon_gone
from panda_tui.store import StoreError, connect, lease, state
from panda_tui.store.db import writable
from panda_tui.tui.mode import ConsoleMode

if TYPE_CHECKING:
    from panda_tui.config import Config


def decide_mode(config: Config | None, path: str, read_only: bool, attach: bool = False,
                launch: bool = True, embed: bool = False) -> tuple[ConsoleMode, str | None, LateScheduler | None]:
    """(mode, why read-only, embedded scheduler or None). Embeds only when no scheduler holds the lease,
    never with `attach`, and not by itself when a daemon held it last (the daemon is down: the console says
    so, and `embed` starts one all the same). Without `launch` the embedded scheduler holds the lease but is
    the caller's to build and launch (the console does after its first screen: cli/embedding.py)."""
    if read_only:
        connect(path, readonly=True).close()
        return ConsoleMode.READ_ONLY, "opened with --read-only", None
    if os.path.exists(path) and not writable(path):
        connect(path, readonly=True).close()
        return ConsoleMode.READ_ONLY, f"you can read {path} but not write it", None
    conn = connect(path)
    try:
        holder = lease.live_holder(conn)
        gone = None if holder is not None or embed else daemon_gone(conn, time.time())
    finally:
        conn.close()
    if holder is not None or attach or config is None or gone is not None:
        return ConsoleMode.ATTACHED, None, None
    return embedded_mode(config, path, launch)


def embedded_mode(config: Config, path: str, launch: bool = True
                  ) -> tuple[ConsoleMode, str | None, LateScheduler | None]:
    """Run the scheduler in this console, if the lease is free (else attached)."""
    from panda_tui.config.runas import require_runnable
    require_runnable(config)  # this console would run the jobs: the same rule as the daemon's
    embedded = LateScheduler.take(config, path)
    if embedded is None:
        return ConsoleMode.ATTACHED, None, None
    if launch:
        embedded.launch()
    return ConsoleMode.EMBEDDED, None, embedded


def open_console(config_path: str, db_path: str | None, read_only: bool, attach: bool = False,
                 read_only_reason: str | None = None, ascii_only: bool = False, embed: bool = False) -> None:
    """Opens even when jobs.toml is broken or missing: a scheduler that holds the database shows what it
    runs, and the refusal shows in the header. Only with nothing at all to show does it exit (2)."""
    path = resolve_db(db_path)
    try:
        config, errors = get_config(config_path), []
    except ConfigError as exc:
        config, errors = None, exc.errors
    try:
        if config is None and not read_only and not _has_running_config(path):
            echo_err(safe("\n".join(errors)))
            sys.exit(2)
        if config is None:
            attach = True  # a refused file cannot be run here: watch what the store says instead
        if embed and (attach or config is None):
            fail("--embed runs the jobs here: it needs a valid jobs.toml and cannot go with --attach", 2)
        mode, reason, embedded = decide_mode(config, path, read_only, attach, launch=False, embed=embed)
    except StoreError as exc:
        fail(str(exc), 1)
    except ConfigError as exc:
        echo_err(safe("\n".join(exc.errors)))
        sys.exit(2)
    from panda_tui.readmodel.running import RunningConfig
    from panda_tui.tui.reading import read_first
    jobs = RunningConfig(config_path)
    first = read_first(path, jobs, time.time())  # the first frame shows the jobs, not an empty list
    from panda_tui.tui.app import PandaApp
    from panda_tui.tui.marks import detect
    if read_only and read_only_reason:
        reason = read_only_reason
    starter = None
    if mode is ConsoleMode.ATTACHED and config is not None and not attach:
        def starter() -> LateScheduler | None:  # the console's key for "start one here"
            return embedded_mode(config, path)[2]

    def after_first_screen() -> None:
        from panda_tui.cli import resume_gc
        resume_gc()
        if embedded is not None:
            embedded.launch()
    app = PandaApp(jobs, path, mode=mode, read_only_reason=reason, marks=detect(ascii_only),
                   after_first_screen=after_first_screen, scheduler=embedded, starter=starter, first=first)
    try:
        app.run()
    finally:
        if embedded is None and isinstance(app.services.scheduler, LateScheduler):
            embedded = app.services.scheduler  # one started with the key (S)
        if embedded is not None:
            stop_embedded(embedded)


def stop_embedded(embedded: LateScheduler) -> None:
    """Stop the console's scheduler as the console quits, saying so on stderr (wrapped between words)."""
    running, width = embedded.running, terminal_width()
    say("panda-tui: stopping the embedded scheduler"
        + (f" (waiting up to 10s for {running} running run(s), then killing them)" if running else ""),
        width, err=True)
    embedded.stop()
    say("panda-tui: embedded scheduler stopped; start `panda-tui daemon` to keep jobs running without the "
        "console", width, err=True)


def _has_running_config(path: str) -> bool:
    """Whether a scheduler ever stored the config it ran in this database (so there is something to show)."""
    if not os.path.exists(path):
        return False
    conn = connect(path, readonly=True)
    try:
        return state.running_config(conn) is not None
    finally:
        conn.close()
