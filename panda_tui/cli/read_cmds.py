"""Commands that only read the store: executions, status, logs."""

from __future__ import annotations

import json
import sys
import time

import click

from panda_tui.cli.common import common, fail, get_config, resolve_db, safe
from panda_tui.readmodel.status import read_status, run_json, status_json
from panda_tui.schedule import human_duration
from panda_tui.store import connect, logs, ledger
from panda_tui.store.ledger import HAS_LOGS
from panda_tui.text import iso


def _conn(db_path: str | None):
    return connect(resolve_db(db_path), readonly=True)


@click.command()
@click.argument("job")
@click.option("--limit", "-n", default=20, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON array of runs.")
@common
def executions(config_path: str, db_path: str | None, job: str, limit: int, as_json: bool) -> None:
    """JOB's runs, newest first."""
    rows = ledger.history(_conn(db_path), job, limit)
    if as_json:
        click.echo(json.dumps([run_json(r) for r in rows], indent=1))
        return
    if not rows:
        click.echo(f"no runs of {safe(job)} yet")
        return
    click.echo(f"{'ID':>7}  {'SCHEDULED':20}  {'LATE':>7}  {'DURATION':>8}  {'STATUS':9}  EXIT  TRY  {'TRIGGER':8}  REASON")
    for r in rows:
        late = "" if r.lateness is None else f"{r.lateness * 1000:.0f}ms"
        dur = "" if r.duration_s is None else human_duration(r.duration_s)
        click.echo(f"{r.id:>7}  {iso(r.scheduled_at):20}  {late:>7}  {dur:>8}  {r.status:9}  "
                   f"{'' if r.exit_code is None else r.exit_code:>4}  {r.attempt:>3}  {r.trigger:8}  {safe(r.reason or '')}")


@click.command()
@click.option("--json", "as_json", is_flag=True)
@common
def status(config_path: str, db_path: str | None, as_json: bool) -> None:
    """Every job's health. Exit 1 when a job's last run failed or a run went missing in 24 h."""
    config = get_config(config_path)
    now = time.time()
    current = read_status(_conn(db_path), config, now)
    if as_json:
        click.echo(json.dumps(status_json(current), indent=1))
    else:
        click.echo(f"scheduler: {safe(current.holder) if current.holder else 'not running'}")
        for host, info in current.engines.items():
            click.echo(f"docker {host}: {'up' if info.get('up') else 'DOWN: ' + safe(info.get('error'))}")
        for h in current.jobs:
            rate = "-" if h.failure_rate is None else f"{h.failure_rate:.0%} failed"
            last = h.last.status if h.last else "never ran"
            nxt = "-" if h.next_at is None else f"in {human_duration(max(0, h.next_at - now))}"
            click.echo(f"{h.glyph} {h.state:8} {safe(h.name):24} next {nxt:10} last {last:10} {rate:11} "
                       f"missed 24h: {h.missed_24h}")
    sys.exit(1 if current.trouble else 0)


@click.command(name="logs")
@click.argument("job")
@click.option("--latest", "which", flag_value="latest", default=True, help="The newest run (default).")
@click.option("--run", "run_id", type=int, default=None, help="A run by id.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing until the run ends.")
@common
def logs_cmd(config_path: str, db_path: str | None, job: str, which: str, run_id: int | None, follow: bool) -> None:
    """Print a run's log lines in order (stderr lines marked with "!")."""
    conn = _conn(db_path)
    run = ledger.get(conn, run_id) if run_id is not None else ledger.latest(conn, job, HAS_LOGS)
    if run is None:
        fail(f"no run {run_id}" if run_id is not None else f"{job} has no runs with logs yet", 1)
    seq = 0
    while True:
        batch = logs.read(conn, run.id, seq, 5000)
        for line in batch:
            mark = {"err": "! ", "sys": "# "}.get(line.stream, "  ")
            click.echo(mark + safe(line.text))
        if batch:
            seq = batch[-1].seq
            continue
        if not follow or not ledger.get(conn, run.id).active:
            break
        time.sleep(0.1)
    if run.logs_pruned:
        click.echo(f"# logs of run {run.id} were pruned by retention", err=True)
