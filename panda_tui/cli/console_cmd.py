"""Open the console: embed a scheduler when none holds the lease, else attach to the daemon."""

from __future__ import annotations

import os
import sys

import click

from panda_tui.cli.common import fail, get_config, resolve_db, safe
from panda_tui.config import ConfigError
from panda_tui.store import StoreError, connect, lease
from panda_tui.store.db import writable


def decide_mode(config, path: str, read_only: bool):
    """(mode, why read-only, embedded scheduler or None). Embeds only when no scheduler holds the lease."""
    if read_only:
        connect(path, readonly=True).close()
        return "read-only", "opened with --read-only", None
    if os.path.exists(path) and not writable(path):
        connect(path, readonly=True).close()
        return "read-only", f"you can read {path} but not write it", None
    conn = connect(path)
    holder = lease.live_holder(conn)
    conn.close()
    if holder is not None:
        return "attached", None, None
    from panda_tui.config.runas import require_runnable
    from panda_tui.engine.daemon import EmbeddedScheduler
    from panda_tui.engine.ownership import LeaseHeld
    require_runnable(config)  # this console would run the jobs: the same rule as the daemon's
    embedded = EmbeddedScheduler(config, path)
    try:
        embedded.start()
    except LeaseHeld:
        return "attached", None, None
    return "embedded", None, embedded


def open_console(config_path: str, db_path: str | None, read_only: bool) -> None:
    try:
        config = get_config(config_path)
    except ConfigError as exc:
        click.echo(safe("\n".join(exc.errors)), err=True)
        sys.exit(2)
    path = resolve_db(db_path)
    try:
        mode, reason, embedded = decide_mode(config, path, read_only)
    except StoreError as exc:
        fail(str(exc), 1)
    except ConfigError as exc:
        click.echo(safe("\n".join(exc.errors)), err=True)
        sys.exit(2)
    from panda_tui.tui.app import PandaApp
    app = PandaApp(config, path, mode=mode, read_only_reason=reason)
    try:
        app.run()
    finally:
        if embedded is not None:
            running = embedded.running
            click.echo("panda-tui: stopping the embedded scheduler"
                       + (f" (waiting up to 10s for {running} running run(s), then killing them)" if running else ""),
                       err=True)
            embedded.stop()
            click.echo("panda-tui: embedded scheduler stopped; start `panda-tui daemon` to keep jobs running "
                       "without the console", err=True)
