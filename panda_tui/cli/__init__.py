"""The panda-tui command line. Commands parse, call the domain, and print; no logic of their own."""

from __future__ import annotations

import click

from panda_tui import __version__
from panda_tui.cli.common import group_options
from panda_tui.cli.config_cmds import next_cmd, validate


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="panda-tui")
@group_options
@click.option("--read-only", is_flag=True, help="Open the console without any key that acts.")
@click.option("--attach", is_flag=True, help="Never run a scheduler in the console: keys that act ask the "
              "daemon, and say so when none runs (the browser console of `serve` opens this way).")
@click.option("--read-only-reason", default=None, hidden=True)  # what the header says instead of --read-only
@click.option("--ascii", "ascii_only", is_flag=True, help="ASCII marks and sparklines instead of glyphs "
              "(also PANDA_ASCII=1, and on by itself when the locale is not UTF-8).")
@click.pass_context
def main(ctx: click.Context, config_path: str, db_path: str | None, read_only: bool, attach: bool,
         read_only_reason: str | None, ascii_only: bool) -> None:
    """Run and watch scheduled jobs. With no command, opens the console."""
    if ctx.invoked_subcommand is None:
        from panda_tui.cli.console_cmd import open_console
        open_console(config_path, db_path, read_only, attach, read_only_reason, ascii_only)


main.add_command(validate)
main.add_command(next_cmd)

from panda_tui.cli.read_cmds import executions, logs_cmd, status  # noqa: E402
from panda_tui.cli.run_cmds import daemon, kill, pause, reload, resume, run_cmd, trigger  # noqa: E402

for _command in (daemon, run_cmd, trigger, pause, resume, kill, reload, executions, status, logs_cmd):
    main.add_command(_command)

from panda_tui.cli.alert_cmds import alerts  # noqa: E402

main.add_command(alerts)

from panda_tui.cli.setup_cmds import export, init, systemd_unit  # noqa: E402

for _command in (init, systemd_unit, export):
    main.add_command(_command)

from panda_tui.cli.serve_cmd import serve  # noqa: E402

main.add_command(serve)

from panda_tui.cli.migrate_cmds import exec_cmd, import_group  # noqa: E402

main.add_command(import_group)
main.add_command(exec_cmd)
