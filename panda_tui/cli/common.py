"""What every command shares: --config/--db, loading them, and turning known failures into one-line errors."""

from __future__ import annotations

import functools
import os
import sys
from typing import Callable, NoReturn

import click

from panda_tui.config import Config, ConfigError, load_config
from panda_tui.store import StoreError, default_db_path
from panda_tui.text import safe

def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {safe(message)}" if "\n" not in message else safe_lines(message), err=True)
    sys.exit(code)


def safe_lines(text: str) -> str:
    return "\n".join(safe(line) for line in text.splitlines())


def config_option(fn: Callable) -> Callable:
    return click.option("--config", "config_path", envvar="PANDA_CONFIG", default="jobs.toml",
                        show_default=True, type=click.Path(dir_okay=True),
                        help="The jobs file (or set PANDA_CONFIG).")(fn)


def db_option(fn: Callable) -> Callable:
    return click.option("--db", "db_path", envvar="PANDA_DB", default=None, type=click.Path(),
                        help=f"The SQLite store (or set PANDA_DB). Default: {default_db_path()}")(fn)


def common(fn: Callable) -> Callable:
    """--config and --db, plus friendly handling of config and store errors."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            click.echo(safe_lines(str(exc)), err=True)
            sys.exit(2)
        except StoreError as exc:
            fail(str(exc), 1)
        except KeyboardInterrupt:
            sys.exit(130)

    return config_option(db_option(wrapper))


def get_config(config_path: str, secrets_file: str | None = None, runnable: bool = False) -> Config:
    """jobs.toml; with `runnable`, also refused when this process could not run a local job as its user
    (for what runs jobs: validate, daemon, run; never for commands that only read)."""
    config = load_config(config_path, secrets_file)
    if runnable:
        from panda_tui.config.runas import require_runnable
        require_runnable(config)
    return config


def resolve_db(db_path: str | None) -> str:
    return db_path or default_db_path()


def require_job(config: Config, name: str) -> None:
    if name not in config.jobs:
        import difflib
        close = difflib.get_close_matches(name, list(config.jobs), n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        fail(f'{os.path.basename(config.path)}: no job named "{name}"{hint}', 2)
