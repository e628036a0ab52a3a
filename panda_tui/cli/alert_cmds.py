"""alerts: what the outbox holds and how delivery went; `alerts test TARGET` sends one now."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time

import click
import httpx

from panda_tui.store import outbox
from panda_tui.alerts.delivery import send
from panda_tui.cli.common import common, fail, get_config, resolve_db, safe
from panda_tui.text import iso
from panda_tui.store import connect


TIMES = ("created_at", "delivered_at", "given_up_at", "next_attempt_at")


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", "-n", default=30, show_default=True, type=click.IntRange(1, 10_000))
@common
@click.pass_context
def alerts(ctx: click.Context, config_path: str, db_path: str | None, as_json: bool, limit: int) -> None:
    """Recent alerts and pings, with each one's delivery state."""
    if ctx.invoked_subcommand is not None:
        return
    rows = outbox.listing(connect(resolve_db(db_path), readonly=True), limit)
    if as_json:  # times in ISO 8601 UTC, as `status --json` and `executions --json` give them
        click.echo(json.dumps([{**r, **{k: iso(r[k]) if r[k] is not None else None for k in TIMES}} for r in rows],
                              indent=1))
        return
    if not rows:
        click.echo("no alerts yet")
        return
    for r in rows:
        if r["delivered_at"]:
            answer = f"HTTP {r['last_status']}, " if r["last_status"] is not None else ""
            state = f"delivered ({answer}attempt {r['attempts']})"
        elif r["given_up_at"] and not r["attempts"]:  # taken back before a try (an ack)
            state = r["last_error"] or "withdrawn"
        elif r["given_up_at"]:
            state = f"GAVE UP after {r['attempts']} attempts: {r['last_error'] or r['last_status']}"
        elif r["attempts"]:
            state = (f"retrying ({r['attempts']} attempts, last: {r['last_error'] or 'HTTP ' + str(r['last_status'])}),"
                     f" next {iso(r['next_attempt_at'])}")
        elif r["next_attempt_at"] > time.time():
            state = f"held until {iso(r['next_attempt_at'])} (group_wait or a maintenance window)"
        else:
            state = "pending"
        click.echo(f"{r['id']:>6} {iso(r['created_at'])} {safe(r['job'] or '-'):18} {r['event']:10} "
                   f"→ {safe(r['target']):10} {safe(state)}")


@alerts.command(name="test")
@click.argument("target")
@common
def test_target(config_path: str, db_path: str | None, target: str) -> None:
    """Send a test event to TARGET now and print the answer."""
    config = get_config(config_path)
    spec = config.alerts.get(target)
    if spec is None:
        fail(f'no alert target "{target}" (defined: {", ".join(config.alerts) or "none"})', 2)
    event = {"event": "test", "job": None, "run_id": None, "status": "test", "host": socket.gethostname(),
             "reason": "a test event from `panda-tui alerts test`", "scheduled_at": iso(time.time())}

    async def go():
        async with httpx.AsyncClient() as client:
            return await send(client, config, spec, event)

    started = time.monotonic()
    status, error = asyncio.run(go())
    took = time.monotonic() - started
    if outbox.went_through(status, error):
        click.echo(f"{target}: " + (f"HTTP {status}" if status is not None else "sent") + f" in {took:.2f}s")
        return
    click.echo(f"{target}: failed after {took:.2f}s: " + (f"HTTP {status} " if status else "") + safe(error or ""),
               err=True)
    sys.exit(1)
