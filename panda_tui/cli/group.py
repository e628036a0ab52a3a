"""The click group: the console's options, --version and --help, and the commands, each imported from its
module on first use (COMMANDS). With no command it opens the console (console_cmd.open_console), as
`python -m panda_tui` does without click for a command line of the console's options only (console_args.py)."""

from __future__ import annotations

import importlib

import click

from panda_tui import __version__
from panda_tui.cli import resume_gc, wire_changes
from panda_tui.cli.common import group_options

COMMANDS = {  # name -> "module:attribute", in the order --help lists them
    "validate": "config_cmds:validate", "next": "config_cmds:next_cmd",
    "daemon": "run_cmds:daemon", "run": "run_cmds:run_cmd", "trigger": "run_cmds:trigger",
    "pause": "run_cmds:pause", "resume": "run_cmds:resume", "kill": "run_cmds:kill", "reload": "run_cmds:reload",
    "forget": "run_cmds:forget",
    "executions": "read_cmds:executions", "status": "read_cmds:status", "logs": "read_cmds:logs_cmd",
    "diff": "diff_cmd:diff_cmd",
    "alerts": "alert_cmds:alerts", "init": "setup_cmds:init", "systemd-unit": "setup_cmds:systemd_unit",
    "export": "setup_cmds:export", "serve": "serve_cmd:serve", "import": "migrate_cmds:import_group",
    "exec": "migrate_cmds:exec_cmd", "ack": "ack_cmds:ack", "unack": "ack_cmds:unack",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        if name not in self.commands:
            module, attribute = COMMANDS[name].split(":")
            self.add_command(getattr(importlib.import_module(f"panda_tui.cli.{module}"), attribute), name)
        return self.commands[name]


@click.group(cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="panda-tui")
@group_options
@click.option("--read-only", is_flag=True, help="Open the console without any key that acts.")
@click.option("--attach", is_flag=True, help="Never run a scheduler in the console: keys that act ask the "
              "daemon, and say so when none runs (the browser console of `serve` opens this way).")
@click.option("--embed", is_flag=True, help="Run a scheduler in the console when none runs, even when a daemon "
              "held the database last (by default the console then says the daemon is down, and S starts one).")
@click.option("--read-only-reason", default=None, hidden=True)  # what the header says instead of --read-only
@click.option("--ascii", "ascii_only", is_flag=True, help="ASCII marks and sparklines instead of glyphs "
              "(also PANDA_ASCII=1, and on by itself when the locale is not UTF-8).")
@click.pass_context
def main(ctx: click.Context, config_path: str, db_path: str | None, read_only: bool, attach: bool, embed: bool,
         read_only_reason: str | None, ascii_only: bool) -> None:
    """Run and watch scheduled jobs. With no command, opens the console."""
    if ctx.invoked_subcommand in ("daemon", "run", "exec"):  # what runs a scheduler, and alerts (a console's
        wire_changes()  # embedded one wires it when it is built: cli/embedding.py)
    if ctx.invoked_subcommand is not None:
        resume_gc()  # the console does after its first screen
    else:
        from panda_tui.cli.console_cmd import open_console
        open_console(config_path, db_path, read_only, attach, read_only_reason, ascii_only, embed=embed)
