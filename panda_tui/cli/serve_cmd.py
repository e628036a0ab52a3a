"""`panda-tui serve`: the console in a browser, a JSON API and Prometheus metrics, behind one token.

The web libraries are imported only here, when the command runs: the daemon and the console never pay for
them."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys

import click

from panda_tui.cli.common import common, fail, get_config, resolve_db, safe


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Keep the default and reach it through `ssh -L` or a TLS reverse proxy.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port, printed).")
@click.option("--allow-control", is_flag=True,
              help="Let the token's holder act: POST trigger/pause/resume/kill, and the console's keys. "
                   "Without it everything is read-only.")
@click.option("--token-file", type=click.Path(dir_okay=False), default=None,
              help="Read the token from this file (mode 600). Else PANDA_WEB_TOKEN, else a new one is shown "
                   "on the terminal (never into a log: with no terminal, serve refuses to start).")
@click.option("--max-consoles", default=4, show_default=True, type=click.IntRange(0, 64),
              help="Browser consoles open at once (each is a console process).")
@click.option("--trusted-proxy", "trusted_proxies", multiple=True, metavar="ADDR",
              help="A reverse proxy (address or network) whose X-Forwarded-For and X-Forwarded-Proto are "
                   "believed; repeatable. From anyone else those headers are ignored.")
@common
def serve(config_path: str, db_path: str | None, host: str, port: int, allow_control: bool,
          token_file: str | None, max_consoles: int, trusted_proxies: tuple[str, ...]) -> None:
    """Serve the console in a browser, a JSON API (/api/...) and Prometheus metrics (/metrics)."""
    import asyncio

    from panda_tui.store import connect
    from panda_tui.store.db import writable
    from panda_tui.web.app import Settings, make_app, run
    from panda_tui.web.auth import Guard, Proxies
    from panda_tui.web.redact import log_to_stderr
    from panda_tui.web.token import TokenError, resolve_token

    try:
        Proxies(trusted_proxies)
    except ValueError as exc:
        fail(str(exc), 2)
    get_config(config_path)  # a broken jobs.toml is reported before anything listens
    path = resolve_db(db_path)
    connect(path, readonly=not allow_control, create=False).close()
    if allow_control and not writable(path):
        fail(f"--allow-control: {path} is not writable by this user, and control requests are rows in it", 2)
    try:
        token, source = resolve_token(token_file)
    except TokenError as exc:
        fail(str(exc), 2)
    terminal = _terminal()
    if source == "generated" and terminal is None:
        fail("no token given, and a new one would be printed into a log (neither stdout nor stderr is a "
             "terminal): give it one with --token-file FILE (mode 600) or PANDA_WEB_TOKEN, e.g. `(umask 077; "
             "python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > ~/.panda-web-token)`", 2)
    settings = Settings(config_path, path, host, port, allow_control, max_consoles, trusted_proxies)
    server = make_app(settings, Guard(token))
    log_to_stderr()

    def ready(bound: int) -> None:
        base = f"http://{url_host(host)}:{bound}/"
        mode = "control allowed" if allow_control else "read-only (start with --allow-control to act)"
        click.echo(f"panda-tui serve: console, /api and /metrics on {base} for {safe(path)}; {mode}")
        if not loopback(host):
            click.echo(f"panda-tui serve: listening on {host} over plain HTTP: put TLS in front of it "
                       "(see README: reverse proxy), or bind 127.0.0.1 and use `ssh -L`", err=True)
        if source == "generated":  # on the terminal only: stdout may be a log while stderr is the screen
            click.echo(f"open this URL (its token is shown once, never stored): {base}?token={token}",
                       err=terminal is sys.stderr)
        else:  # never the token itself: under systemd or nohup this line goes to a log
            where = f"in {safe(os.path.abspath(token_file))}" if token_file else "from PANDA_WEB_TOKEN"
            click.echo(f"token {where} (not shown here); open {base}?token=TOKEN or send "
                       "`Authorization: Bearer TOKEN`")
        sys.stdout.flush()

    try:
        asyncio.run(run(server, settings, ready))
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {os.strerror(exc.errno) if exc.errno else exc}", 1)


def _terminal():
    """The stream a new token may be shown on: stdout, else stderr, when it is a terminal; else None."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream.isatty():
                return stream
        except (AttributeError, ValueError):
            continue
    return None


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host
