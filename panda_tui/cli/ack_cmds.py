"""ack and unack: "I'm on it" for a failing job, asked of the scheduler like pause and resume; a note in the
store, so recorded even when no scheduler runs (store.control.ask)."""

from __future__ import annotations

import getpass
import socket

import click

from panda_tui import fields
from panda_tui.cli.common import common, fail
from panda_tui.cli.run_cmds import _request
from panda_tui.store import control


def who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@click.command()
@click.argument("job")
@click.option("--for", "for_", default=None, metavar="DURATION", help='Silence for this long ("2h"), '
              "successes and flapping included; without it, until the job's next success.")
@click.option("--note", default="", help="What you are doing about it (shown with the ack).")
@common
def ack(config_path: str, db_path: str | None, job: str, for_: str | None, note: str) -> None:
    """Acknowledge a failing, flapping or missed-runs JOB: its reminders stop until its next success (the runs
    it missed stay acknowledged), or with --for, for that long. Its recovery is still announced. The console's
    `a` asks for the same: --for and --note. Recorded even when no scheduler runs; the next one's alerts honour it."""
    args: dict = {"by": who(), "note": note}
    if for_ is not None:
        try:
            args["for"] = fields.positive_duration(for_)
        except ValueError as exc:
            fail(f"--for: {exc}", 2)
    _request(db_path, control.ControlKind.ACK, job=job, args=args, config_path=config_path)


@click.command()
@click.argument("job")
@common
def unack(config_path: str, db_path: str | None, job: str) -> None:
    """Take back an acknowledgement: JOB's reminders go out again (also when no scheduler runs)."""
    _request(db_path, control.ControlKind.UNACK, job=job, config_path=config_path)
