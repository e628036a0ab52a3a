"""Getting started and running for real: init, systemd-unit, export kubernetes."""

from __future__ import annotations

import getpass
import grp
import os
from importlib import resources

import click

from panda_tui.cli.common import common, fail, get_config, resolve_db, safe
from panda_tui.cli.service_unit import (DEFAULT_CONFIG, DEFAULT_DB, LEVELS, SERVE_TOKEN_FILE, render, render_serve,
                                        token_file_warnings, warnings)
from panda_tui.cli.unit_syntax import UnitValueError
from panda_tui.export_k8s import cronjobs


@click.command()
@click.argument("path", default="jobs.toml", type=click.Path())
def init(path: str) -> None:
    """Write a commented starter jobs.toml (one local job, one Docker job) to PATH (a folder: PATH/jobs.toml)."""
    if path.endswith(os.sep) or os.path.isdir(path):
        path = os.path.join(path, "jobs.toml")
    if os.path.exists(path):
        fail(f"{path}: already exists; not overwriting it", 1)
    text = resources.files("panda_tui").joinpath("templates/jobs.toml").read_text()
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "x") as fh:
            fh.write(text)
    except OSError as exc:
        fail(f"{path}: cannot write it: {exc.strerror}", 1)
    click.echo(f"wrote {path}: check it with `panda-tui validate --config {path}`, "
               f"then run `panda-tui --config {path}`")


@click.command(name="systemd-unit")
@click.option("--user", default=None, help="The account the service runs as (default: you).")
@click.option("--hardening", type=click.Choice(LEVELS), default="strict", show_default=True,
              help="How much the daemon (and the local jobs it runs) is sandboxed.")
@click.option("--serve", "serve_unit", is_flag=True,
              help=f"Print panda-tui-serve.service instead: `panda-tui serve` beside the daemon, on its database, "
                   f"read-only, strict, its token in {SERVE_TOKEN_FILE}.")
@click.option("--host", default=None, help="With --serve: the address serve listens on (default 127.0.0.1).")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="With --serve: its port (default 8080).")
@click.option("--allow-control", is_flag=True, help="With --serve: let the token's holder act (see serve --help).")
@common
def systemd_unit(config_path: str, db_path: str | None, user: str | None, hardening: str, serve_unit: bool,
                 host: str | None, port: int | None, allow_control: bool) -> None:
    """Print a systemd unit for `panda-tui daemon`, or with --serve for `panda-tui serve` (default paths:
    /etc/panda-tui/jobs.toml and /var/lib/panda-tui/panda.db, the units' configuration and state directories)."""
    context = click.get_current_context()
    if not serve_unit and (host is not None or port is not None or allow_control):
        fail("--host, --port and --allow-control are for the serve unit: add --serve", 2)
    if serve_unit and context.get_parameter_source("hardening") != click.core.ParameterSource.DEFAULT:
        fail("--hardening is for the daemon's unit (its local jobs run in its sandbox); the serve unit runs no "
             "jobs and is always strict", 2)
    user = user or getpass.getuser()
    try:
        import pwd
        group = grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
    except KeyError:
        group = user
    source = context.get_parameter_source("config_path")
    config = DEFAULT_CONFIG if source == click.core.ParameterSource.DEFAULT else os.path.abspath(config_path)
    db = os.path.abspath(db_path) if db_path else DEFAULT_DB
    try:
        text = (render_serve(user, group, config, db, host or "127.0.0.1", port or 8080, allow_control) if serve_unit
                else render(user, group, config, db, hardening))
    except UnitValueError as exc:
        fail(str(exc), 2)
    found = warnings(user, db, private_tmp=serve_unit or hardening == "strict", config=config)
    for warning in found + (token_file_warnings(user) if serve_unit else []):
        click.echo(f"warning: {safe(warning)}", err=True)
    click.echo(text, nl=False)


@click.group()
def export() -> None:
    """Export jobs.toml to other schedulers."""


@export.command(name="kubernetes")
@click.option("--namespace", default=None)
@common
def export_kubernetes(config_path: str, db_path: str | None, namespace: str | None) -> None:
    """One CronJob manifest per job (YAML on stdout); what cannot be expressed is warned on stderr."""
    config = get_config(config_path)
    paused = set()
    path = resolve_db(db_path)
    if os.path.exists(path):
        from panda_tui.store import connect, state
        paused = state.paused_jobs(connect(path, readonly=True))
    documents, warnings = cronjobs(config, paused, namespace)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(documents, nl=False)
