"""The panda-tui command line: the click group and its options (cli/group.py), and which module holds each
command.

The commands that only read or ask (status, executions, logs, trigger, pause, ...) go through readmodel
and store.control; the rest wire up the write side or a server themselves: the console decides whether to
embed a scheduler (console_cmd), `daemon`, `run` and `exec` start one or run a job in the foreground
(run_cmds, migrate_cmds), `serve` starts the web server, and `systemd-unit` writes units (service_unit).
Each command's module is imported only when that command runs (or --help lists them all): opening the
console does not pay for the alert, web and import commands' libraries, nor for click itself when the
command line holds only the console's options (console_args.py: `python -m panda_tui` reads those without it)."""

from __future__ import annotations

import gc
import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from panda_tui.store.ledger import Run


def wire_changes() -> None:
    """Alerts carry "what changed since the last good run": readmodel.run_diff sits above alerts in the
    layers, so it is handed in here (imported only when a bad run alerts)."""
    from panda_tui.alerts import answer

    def changes(conn: sqlite3.Connection, run: Run) -> list[str]:
        from panda_tui.readmodel.run_diff import summary_for_run
        return summary_for_run(conn, run.id)

    answer.changes_source = changes


def resume_gc() -> None:
    """Collect garbage again, if `python -m panda_tui` held it off for the start-up (panda_tui/__main__.py)."""
    gc.enable()


def __getattr__(name: str) -> Any:
    """`panda_tui.cli.main`, the click group, imported when first asked for (this package imports no click)."""
    if name == "main":
        from panda_tui.cli.group import main
        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
