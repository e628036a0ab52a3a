"""What every command shares: --config/--db, loading them, and turning known failures into one-line errors."""

from __future__ import annotations

import functools
import os
import shutil
import sys
import textwrap
from typing import Callable, NoReturn

from panda_tui.config import Config, ConfigError, load_config
from panda_tui.store import StoreError, default_db_path
from panda_tui.text import safe


def echo_err(text: str) -> None:
    """click.echo to stderr. This module imports click only where it is used: opening the console goes without
    it (cli/console_args.py)."""
    import click
    click.echo(text, err=True)


def fail(message: str, code: int = 1) -> NoReturn:
    echo_err(f"error: {safe(message)}" if "\n" not in message else safe_lines(message))
    sys.exit(code)


def terminal_width() -> int:
    """The width lines are fitted to: the terminal's (COLUMNS when set), 80 when there is none."""
    return max(40, shutil.get_terminal_size((80, 24)).columns)


def say(line: str, width: int, indent: str = "    ", err: bool = False) -> None:
    """A line of free text (an error's words, a reason, a job's next runs) wrapped to `width` between words,
    its continuation indented; `err`: on stderr."""
    import click
    click.echo("\n".join(textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False)) or line,
               err=err)


def safe_lines(text: str) -> str:
    return "\n".join(safe(line) for line in text.splitlines())


def config_option(fn: Callable, top: bool = False) -> Callable:
    """On the group (`panda-tui --config A cmd`) or on a command (`panda-tui cmd --config A`): the
    command's own wins, then the group's, then PANDA_CONFIG, then ./jobs.toml."""
    import click
    return click.option("--config", "config_path", envvar="PANDA_CONFIG" if top else None,
                        default="jobs.toml" if top else None, show_default=top, type=click.Path(dir_okay=True),
                        help="The jobs file (or set PANDA_CONFIG)." if top else "The jobs file.")(fn)


def db_option(fn: Callable, top: bool = False) -> Callable:
    import click
    return click.option("--db", "db_path", envvar="PANDA_DB" if top else None, default=None, type=click.Path(),
                        help=(f"The SQLite store (or set PANDA_DB). Default: {default_db_path()}" if top
                              else "The SQLite store."))(fn)


def group_options(fn: Callable) -> Callable:
    return config_option(db_option(fn, top=True), top=True)


def _from_group(kwargs: dict) -> None:
    """Fill --config/--db a command was not given from the group's (which already read the environment)."""
    import click
    root = click.get_current_context().find_root()
    for key, fallback in (("config_path", "jobs.toml"), ("db_path", None)):
        if key in kwargs and kwargs[key] is None:
            kwargs[key] = root.params.get(key) or fallback


def common(fn: Callable) -> Callable:
    """--config and --db, plus friendly handling of config and store errors."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        _from_group(kwargs)
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            echo_err(safe_lines(str(exc)))
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
    """The database's real path: a symlink to it, or a folder reached through one, is the same store, so what
    is keyed by its path (the folder of local runs beside it) is found whichever way a command was given it."""
    return os.path.realpath(db_path or default_db_path())


def require_job(config: Config, name: str) -> None:
    if name not in config.jobs:
        import difflib
        close = difflib.get_close_matches(name, list(config.jobs), n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        fail(f'{os.path.basename(config.path)}: no job named "{name}"{hint}', 2)


def running_jobs(config_path: str, conn):
    """The jobs a command speaks of: those the scheduler runs, as it stored them, else the local jobs.toml."""
    from panda_tui.readmodel.running import RunningConfig
    return RunningConfig(config_path).read(conn)


def known_job(source, conn, job: str) -> None:
    """A job nobody knows (not in the running config, never run) is a typo: exit 2 with a suggestion."""
    import difflib

    from panda_tui.store import ledger
    names = set(source.config.jobs) if source.config else set()
    if job in names or ledger.latest(conn, job) is not None:
        return
    close = difflib.get_close_matches(job, sorted(names), n=1)
    fail(f'no job named "{job}"' + (f' (did you mean "{close[0]}"?)' if close else ""), 2)
