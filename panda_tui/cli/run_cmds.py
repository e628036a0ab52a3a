"""Commands that run or steer: daemon, run, and the control requests (trigger, pause, resume, kill, reload,
forget)."""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import closing

import click

from panda_tui import fields
from panda_tui.cli.common import (common, fail, get_config, known_job, require_job, resolve_db, running_jobs, safe, say,
                                  terminal_width)
from panda_tui.config import ConfigError
from panda_tui.store import connect, control, lease, ledger
from panda_tui.text import said_once, status_word


@click.command()
@click.option("--secrets-file", type=click.Path(), default=None, help="KEY=VALUE file for secrets (mode 600).")
@click.option("--standby", is_flag=True, help="If another scheduler holds the database, wait and take over "
              "when it dies, instead of refusing to start.")
@click.option("--group", default=None, help="Let this group read the database (mode 640): its members get "
              "read-only consoles.")
@common
def daemon(config_path: str, db_path: str | None, secrets_file: str | None, standby: bool,
           group: str | None) -> None:
    """Run the scheduler headless; JSON decision log on stdout. SIGHUP reloads, SIGTERM stops."""
    import faulthandler
    faulthandler.enable()  # a watchdog kill (SIGABRT) leaves every thread's stack in the journal
    from panda_tui.engine.daemon import run_headless
    from panda_tui.engine.events import stdout_log
    from panda_tui.engine.ownership import LeaseHeld
    config = get_config(config_path, secrets_file, runnable=True)
    path = resolve_db(db_path)
    events = stdout_log()
    if group:
        from panda_tui.store.db import share_with_group
        connect(path).close()
        from panda_tui.decisions import Shared
        events.emit(Shared(share_with_group(path, group)))
    if sys.stderr.isatty():  # a person started it: one plain line first (a service's journal gets JSON only)
        say(start_line(config, path, standby), terminal_width(), err=True)  # wrapped between words
    try:
        code = asyncio.run(run_headless(config, path, events, standby, secrets_file))
    except LeaseHeld as exc:
        from panda_tui.cli.lease_holder import daemon_refused
        fail(daemon_refused(exc.holder, path), 1)
    sys.exit(code)


def start_line(config, path: str, standby: bool) -> str:
    """`panda-tui daemon: config … · db … · 8 jobs (7 scheduled) · lease free: taking it`."""
    with closing(connect(path)) as conn:
        holder = lease.live_holder(conn)
    scheduled = sum(1 for job in config.jobs.values() if job.enabled)
    then = "; decisions follow as JSON lines on stdout"
    if holder is None:
        held = "lease free: taking it" + then
    elif standby:
        held = f"lease held by {lease.shown_owner(holder.owner)}: waiting to take over (--standby)" + then
    else:  # the next line says who holds it and how to hand over (lease_holder.daemon_refused)
        held = f"lease held by {lease.shown_owner(holder.owner)}: not starting"
    return (f"panda-tui daemon: config {safe(os.path.abspath(config.path))} · db {safe(path)} · "
            f"{len(config.jobs)} job{'s' if len(config.jobs) != 1 else ''} ({scheduled} scheduled) · {held}")


@click.command(name="run")
@click.argument("job")
@click.option("--secrets-file", type=click.Path(), default=None)
@click.option("--force", is_flag=True, help="Run even if the job's policy refuses (a run still going with "
              'concurrency = "forbid", max_concurrent reached): for a local test.')
@common
def run_cmd(config_path: str, db_path: str | None, job: str, secrets_file: str | None, force: bool) -> None:
    """Run one attempt of JOB now, in the foreground, and exit with its exit code. The job's concurrency
    policy applies as to any run: when it refuses, the run is recorded skipped and the exit code is 75."""
    config = get_config(config_path, secrets_file, runnable=True)
    require_job(config, job)
    code = asyncio.run(_run_once(config, resolve_db(db_path), job, secrets_file, force))
    sys.exit(code)


async def _run_once(config, db_path: str, name: str, secrets_file: str | None, force: bool = False) -> int:
    from panda_tui.engine.foreground import Unrecorded, run_in_foreground
    from panda_tui.store import StoreError

    def tee(stream: str, text: str) -> None:
        out = sys.stdout if stream == "out" else sys.stderr  # panda's own lines go with stderr
        out.write(safe(text) + "\n")
        out.flush()

    from panda_tui.cli.read_cmds import outcome_code
    try:
        run = await run_in_foreground(config, db_path, config.jobs[name], tee=tee, secrets_file=secrets_file,
                                      force=force, say=lambda text: click.echo(f"panda-tui run: {text}", err=True))
    except StoreError as exc:
        fail(str(exc), 1)
    except Unrecorded as exc:
        click.echo(f"panda-tui run: {safe(str(exc))}", err=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(outcome_code(exc.run))  # threads still wait on the busy store: do not wait for them
    if run.status == ledger.RunStatus.SKIPPED:
        click.echo(f"run {run.id}: not started: {safe(run.reason or '')}; `panda-tui run {name} --force` runs "
                   "it anyway", err=True)
        return outcome_code(run)
    word, reason = said_once(status_word(run.status), run.reason)
    click.echo(f"run {run.id}: {safe(word)}" + (f" ({safe(reason)})" if reason else "")
               + (f" in {run.duration_s:.2f}s" if run.duration_s is not None else ""), err=True)
    return outcome_code(run)


def _request(db_path: str | None, kind: control.ControlKind, job: str | None = None, run_id: int | None = None,
             args: dict | None = None, no_scheduler_hint: str = "", config_path: str = "jobs.toml") -> None:
    """Ask the scheduler and print its answer. Exit 2 for a job or run nobody knows, 1 when no scheduler
    runs, does not answer, or refuses."""
    path = resolve_db(db_path)
    with closing(connect(path)) as conn:
        if job is not None:
            known_job(running_jobs(config_path, conn), conn, job)
        if run_id is not None and ledger.get(conn, run_id) is None:
            fail(f"no run {run_id}", 2)
    answer = control.ask(path, kind, job=job, run_id=run_id, args=args)
    if answer.reply == control.Reply.NO_SCHEDULER:
        fail(f"no scheduler is running on {path}: start one with `panda-tui daemon`, or with `panda-tui --embed` (a console that runs it; an open console: S)"
             + no_scheduler_hint, 1)
    if not answer.ok:
        fail(answer.text, 1)
    click.echo(safe(answer.text))


@click.command()
@click.argument("job")
@click.option("--at", default=None, help="ISO 8601: a past time runs now as if scheduled then (PANDA_SCHEDULED_AT); "
              "a future one schedules the run for that time.")
@common
def trigger(config_path: str, db_path: str | None, job: str, at: str | None) -> None:
    """Ask the scheduler to run JOB now, or at --at (trigger "manual"). A time without an offset is in the
    job's time zone, as `next` reads it."""
    from panda_tui.cli.config_cmds import parse_instant
    args = {}
    if at:
        with closing(connect(resolve_db(db_path), readonly=True)) as conn:
            source = running_jobs(config_path, conn)
        spec = source.config.jobs.get(job) if source.config else None
        try:
            args = {"at": fields.instant(parse_instant(at, spec.tz if spec else "UTC").timestamp())}
        except ValueError:
            fail(f"--at {at}: expected {fields.INSTANT_HINT}", 2)
    _request(db_path, control.ControlKind.TRIGGER, job=job, args=args, config_path=config_path,
             no_scheduler_hint=f", or run it once in the foreground with `panda-tui run {job}`")


@click.command()
@click.argument("job")
@common
def pause(config_path: str, db_path: str | None, job: str) -> None:
    """Pause JOB: its slots are recorded as skipped until resumed (survives restarts)."""
    _request(db_path, control.ControlKind.PAUSE, job=job, config_path=config_path)


@click.command()
@click.argument("job")
@click.option("--catchup", is_flag=True, help="Also run the newest slot skipped while paused.")
@common
def resume(config_path: str, db_path: str | None, job: str, catchup: bool) -> None:
    """Resume a paused JOB."""
    _request(db_path, control.ControlKind.RESUME, job=job, args={"catchup": catchup}, config_path=config_path)


@click.command()
@click.argument("target")
@common
def kill(config_path: str, db_path: str | None, target: str) -> None:
    """Kill a job's running runs (JOB) or one run (RUN_ID): SIGTERM, grace, SIGKILL."""
    if target.isdigit():
        _request(db_path, control.ControlKind.KILL, run_id=int(target), config_path=config_path)
        return
    with closing(connect(resolve_db(db_path), readonly=True)) as conn:
        nothing = _nothing_to_kill(running_jobs(config_path, conn), conn, target)
    if nothing:
        fail(nothing, 2)  # as a job nobody knows: nothing of that name is there to kill
    _request(db_path, control.ControlKind.KILL, job=target, config_path=config_path)


def _nothing_to_kill(source, conn, job: str) -> str | None:
    """A job jobs.toml no longer declares (or never did: `exec`'s), with no run going: say which, at once."""
    latest = ledger.latest(conn, job)
    if source.config is None or job in source.config.jobs or latest is None or ledger.active(conn, job):
        return None
    if latest.trigger == ledger.Trigger.EXTERNAL:
        return f'"{job}" is run only by panda-tui exec and has no run going: nothing to kill'
    return f'"{job}" was removed from jobs.toml and has no run going: nothing to kill'


@click.command()
@common
def reload(config_path: str, db_path: str | None) -> None:
    """Ask the scheduler to re-read jobs.toml (an invalid file is refused; the last good one keeps running)."""
    try:
        get_config(config_path)
    except ConfigError as exc:
        click.echo(safe("\n".join(exc.errors)), err=True)
        fail("jobs.toml is invalid; not asking the scheduler to reload it", 2)
    _request(db_path, control.ControlKind.RELOAD)


@click.command()
@click.argument("job")
@common
def forget(config_path: str, db_path: str | None, job: str) -> None:
    """Remove JOB's runs and logs from the store when no config declares it (an `exec` typo, a cron job
    gone). A job in jobs.toml is refused: remove it there first. Exit 2 for a declared or unknown job."""
    with closing(connect(resolve_db(db_path), readonly=True)) as conn:
        source = running_jobs(config_path, conn)
        if source.config is not None and job in source.config.jobs:
            fail(f'"{job}" is in jobs.toml: remove it there (and reload) before forgetting it', 2)
    _request(db_path, control.ControlKind.FORGET, job=job, config_path=config_path)
