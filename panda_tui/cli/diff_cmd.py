"""`panda-tui diff JOB [RUN] [--against RUN]`: what changed since the job's last good run."""

from __future__ import annotations

import json
from contextlib import closing

import click

from panda_tui.cli.common import common, fail, known_job, resolve_db, running_jobs, safe
from panda_tui.readmodel.run_diff import NoSuchRun, default_run, describe, diff_for_run
from panda_tui.store import connect, ledger


@click.command(name="diff")
@click.argument("job")
@click.argument("run_id", metavar="[RUN]", required=False, type=int)
@click.option("--against", "against", type=int, default=None,
              help="Compare with this run (default: the job's last successful run before RUN).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@common
def diff_cmd(config_path: str, db_path: str | None, job: str, run_id: int | None, against: int | None,
             as_json: bool) -> None:
    """What changed between RUN (default: JOB's last failed run) and the job's last successful run before it:
    config fields, env names (never a value), secrets, image, host or node, exit code, duration against the
    median, and the log lines that are new. Exit 0; 2 for an unknown job or run; 1 when JOB has no finished run."""
    with closing(connect(resolve_db(db_path), readonly=True)) as conn:
        known_job(running_jobs(config_path, conn), conn, job)
        run = ledger.get(conn, run_id) if run_id is not None else default_run(conn, job)
        if run_id is not None and (run is None or run.job != job):
            fail(f'no run {run_id} of "{job}"', 2)
        if run is None:
            fail(f'"{job}" has no finished run to compare', 1)
        try:
            diff = diff_for_run(conn, run.id, against)
        except NoSuchRun as exc:
            fail(str(exc), 2)
    assert diff is not None
    if as_json:
        click.echo(json.dumps({"job": job, **diff.as_dict(), "lines": describe(diff)}, indent=1))
        return
    for line in describe(diff):
        click.echo(safe(line))
