"""validate and next: read jobs.toml, never the store."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from panda_tui.cli.common import common, fail, get_config, require_job, safe, say, terminal_width
from panda_tui.schedule import to_local
from panda_tui.secrets import SecretError, secret_warnings
from panda_tui.text import iso


@click.command()
@click.option("--secrets-file", type=click.Path(), default=None, help="KEY=VALUE file for secrets.")
@common
def validate(config_path: str, db_path: str | None, secrets_file: str | None) -> None:
    """Check jobs.toml; print each job's next 3 run times in UTC (wrapped to the terminal, 80 columns when it
    has none; `next JOB` gives them in the job's zone). Exit 2 on errors."""
    config = get_config(config_path, secrets_file, runnable=True)
    now = datetime.now(timezone.utc)
    click.echo(f"ok: {len(config.jobs)} job{'s' if len(config.jobs) != 1 else ''}")
    for job in config.jobs.values():
        times = ", ".join(iso(t.timestamp()) for t in job.schedule.next_after(now, 3))  # UTC, as README says
        state = "" if job.enabled else " (disabled)"
        _next_runs(f"  {safe(job.name)}{state}: {job.schedule.explain()}", times, terminal_width())
    try:
        warnings = secret_warnings(config)
    except SecretError as exc:
        fail(str(exc), 2)
    for warning in (*config.warnings, *warnings, *missing_images(config), *not_managers(config)):
        click.echo(f"warning: {safe(warning)}", err=True)


def _next_runs(head: str, times: str, width: int) -> None:
    """`  backup: At 02:30 every day (UTC); next …` on one line when it fits; else the times on the next
    line(s), under one another's start, so no line passes the terminal's edge."""
    if len(head) + len(times) + 7 <= width:
        click.echo(f"{head}; next {times}")
        return
    say(head, width, " " * 6)
    say(f"      next {times}", width, " " * 11)


def missing_images(config, timeout: float = 3.0) -> list[str]:
    """Jobs with pull = "never" whose image is not on their engine, when that engine answers: their runs
    would all fail. An engine that does not answer is not checked (the scheduler says so when it runs)."""
    wanted = [job for job in config.jobs.values() if job.image and job.pull == "never"]
    if not wanted:
        return []
    import docker

    from panda_tui.readmodel.health import missing_image_words
    out = []
    for host in sorted({job.docker_host for job in wanted}, key=str):
        try:
            client = docker.DockerClient(base_url=host, timeout=timeout) if host else docker.from_env(timeout=timeout)
            client.ping()
            present = {tag for image in client.images.list() for tag in image.tags}
        except Exception:
            continue
        for job in (j for j in wanted if j.docker_host == host and j.image not in present):
            where = host or "the local engine"
            out.append(f'job "{job.name}": {missing_image_words(job.image or "", where)}')
    return out


def not_managers(config, timeout: float = 3.0) -> list[str]:
    """Swarm jobs whose engine answers but is no swarm manager: every run would fail."""
    from panda_tui.runners.swarm import manager_problem
    hosts = sorted({job.docker_host for job in config.jobs.values() if job.runner_kind == "swarm"}, key=str)
    out = []
    for host in hosts:
        problem = manager_problem(host, timeout)
        if problem:
            names = ", ".join(f'"{job.name}"' for job in config.jobs.values()
                              if job.runner_kind == "swarm" and job.docker_host == host)
            out.append(f"job {names}: runner: {problem}; every run will fail until it is")
    return out


@click.command(name="next")
@click.argument("job")
@click.option("--count", "-n", default=5, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--after", default=None, help="ISO 8601 instant to start from (default: now).")
@common
def next_cmd(config_path: str, db_path: str | None, job: str, count: int, after: str | None) -> None:
    """Print JOB's next fire times in its time zone."""
    config = get_config(config_path)
    require_job(config, job)
    spec = config.jobs[job]
    start = parse_instant(after, spec.tz) if after else datetime.now(timezone.utc)
    shown = 0
    try:
        for t in spec.schedule.iter_after(start):
            if shown == count:
                return
            click.echo(_when(t, spec.tz))
            shown += 1
    except (OverflowError, ValueError):
        fail(f"{'no' if not shown else 'no further'} fire time of {job} after {start:%Y-%m-%dT%H:%M:%SZ}: "
             "the calendar ends at the year 9999", 2)


def parse_instant(text: str, tz: str = "UTC") -> datetime:
    """ISO 8601; a time without offset is read in `tz`."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--after/--at: expected an ISO 8601 time like 2026-03-29T01:00:00+01:00, got {text!r}", 2)
    if value.tzinfo is None:
        from zoneinfo import ZoneInfo
        value = value.replace(tzinfo=ZoneInfo(tz))
    try:
        return value.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        fail(f"--after/--at: {text!r} is out of the calendar's range", 2)


def _when(instant: datetime, tz: str) -> str:
    """A fire time in the job's zone; a UTC job's with `Z`, as every other time panda-tui prints."""
    shown = to_local(instant, tz).isoformat()
    return shown.replace("+00:00", "Z") if tz in ("UTC", "Etc/UTC") else shown
