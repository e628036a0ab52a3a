"""Coming from cron: `import crontab` (a jobs.toml on stdout) and `exec` (a run cron starts, recorded)."""

from __future__ import annotations

import asyncio
import glob
import os
import re
import subprocess
import sys

import click

from panda_tui.cli.common import config_option, db_option, fail, resolve_db, safe
from panda_tui.config import ConfigError, empty_config, load_config
from panda_tui.store import StoreError, connect
from panda_tui.store.ledger import Run, RunStatus
from panda_tui.text import status_word


@click.group(name="import")
def import_group() -> None:
    """Turn another scheduler's jobs into a jobs.toml (printed on stdout)."""


@import_group.command(name="crontab")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--system", is_flag=True, help="The system format (a user field after the schedule). Without "
              "FILE: /etc/crontab and /etc/cron.d/*.")
@click.option("--timezone", "zone", default=None, help="The zone cron runs in (default: read as Debian's cron "
              "reads it: TZ in /etc/default/cron, else /etc/localtime).")
@click.option("--user", "owner", default=None, help="Whose user crontab FILE is (default: you, or the name of "
              "a file in /var/spool/cron/crontabs): its jobs get user = NAME, and HOME, LOGNAME and USER.")
@click.option("--disabled", is_flag=True, help="Write every job with enabled = false, to run them with "
              "`panda-tui exec` from cron first.")
def import_crontab(files: tuple[str, ...], system: bool, zone: str | None, owner: str | None,
                   disabled: bool) -> None:
    """Translate a crontab into jobs.toml: every job fires when cron would fire it.

    FILE is a crontab file, or - for stdin; without FILE, `crontab -l` (or, with --system, /etc/crontab
    and /etc/cron.d/*). Warnings, one per line, name the source line. Exit 1 when nothing was imported."""
    from panda_tui.migrate.systemzone import SystemZone, ZoneUnknown, cron_zone
    from panda_tui.migrate.translate import ImportBug, ImportRefused, Options, translate
    sources = _sources(files, system)
    try:
        found = SystemZone(_zone(zone), "--timezone") if zone else cron_zone()
    except ZoneUnknown as exc:
        fail(str(exc), 2)
    try:
        result = translate(sources, Options(found.name, found.source, disabled=disabled, owner=owner))
    except ImportRefused as exc:
        fail(str(exc), 2)
    except ImportBug as exc:
        fail(str(exc), 1)
    for warning in result.warnings:
        click.echo(f"warning: {safe(warning)}", err=True)
    if not result.jobs:
        fail("no jobs to import" + (" (see the warnings above)" if result.warnings else ""), 1)
    click.echo(result.toml, nl=False)
    for line in result.summary:  # what was imported, the zones it fires in, and whose jobs they are
        click.echo(safe(line), err=True)


def _zone(name: str) -> str:
    from panda_tui import fields
    try:
        return fields.timezone(name)
    except ValueError as exc:
        fail(f"--timezone: {exc}", 2)


def _sources(files: tuple[str, ...], system: bool):
    from panda_tui.migrate import crontab
    from panda_tui.migrate.translate import Source
    if not files and system:
        files = _system_files()
    if not files:
        return [Source("crontab -l", _crontab_l(), False)]
    out = []
    for path in files:
        if path == "-":
            out.append(Source("stdin", _read("stdin", sys.stdin.fileno()), system))
            continue
        if not system and crontab.system_path(path):
            fail(f"{path}: a system crontab (a user field after the schedule): import it with --system", 2)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)  # a FIFO (<(crontab -l)) is read as a pipe is
        except OSError as exc:
            fail(f"{path}: cannot read: {exc.strerror}", 2)
        try:
            out.append(Source(path, _read(path, fd), system))
        finally:
            os.close(fd)
    return out


def _read(label: str, fd: int) -> str:
    """The text of a crontab, at most as large as a jobs.toml may be. Bytes, not text mode: only "\n" ends a
    line (a lone "\r" stays inside its line, as cron hands it to sh -c); bytes that are not UTF-8 are kept
    (surrogate-escaped) so that the import can name their line."""
    from panda_tui.config.load import MAX_BYTES
    from panda_tui.files import FileRefused, read_capped, size_text
    try:
        return read_capped(fd, MAX_BYTES).decode("utf-8", "surrogateescape")
    except FileRefused:
        fail(f"{label}: larger than {size_text(MAX_BYTES)}, more than a jobs.toml may hold: is it a crontab?", 2)
    except OSError as exc:
        fail(f"{label}: cannot read: {exc.strerror}", 2)


def _system_files() -> tuple[str, ...]:
    """/etc/crontab and the /etc/cron.d files Debian's cron reads: names of letters, digits, "_" and "-"
    only (so not *.dpkg-old, nor README); the others are named on stderr."""
    found = ["/etc/crontab"] if os.path.isfile("/etc/crontab") else []
    for path in sorted(glob.glob("/etc/cron.d/*")):
        if not os.path.isfile(path):
            continue
        if re.fullmatch(r"[A-Za-z0-9_-]+", os.path.basename(path)):
            found.append(path)
        else:
            click.echo(f"note: skipped {safe(path)}: Debian's cron does not read files named so", err=True)
    if not found:
        fail("no /etc/crontab and no /etc/cron.d/* here: pass the files to import", 1)
    return tuple(found)


def _crontab_l() -> str:
    try:
        done = subprocess.run(["crontab", "-l"], capture_output=True, timeout=30)
    except FileNotFoundError:
        fail("crontab is not installed here: pass a crontab FILE, or - to read one on stdin", 2)
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip()
        fail(f"crontab -l: {why or f'exit {done.returncode}'}", 1)
    from panda_tui.config.load import MAX_BYTES
    if len(done.stdout) > MAX_BYTES:
        fail(f"crontab -l: larger than {MAX_BYTES >> 20} MiB, more than a jobs.toml may hold", 2)
    return done.stdout.decode("utf-8", "surrogateescape")  # as a file is read: "\r" kept, bad bytes named


@click.command(name="exec", context_settings={"ignore_unknown_options": True})
@click.argument("job")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--secrets-file", type=click.Path(), default=None, help="KEY=VALUE file for secrets (mode 600).")
@config_option
@db_option
@click.pass_context
def exec_cmd(ctx: click.Context, job: str, command: tuple[str, ...], secrets_file: str | None, config_path: str,
             db_path: str | None) -> None:
    """Run COMMAND as a run of JOB (trigger "external") and exit with its code: for a crontab line,
    `*/5 * * * * panda-tui exec backup -- /usr/local/bin/backup.sh`.

    Output passes through; the run, its log (secrets masked), exit code and duration are recorded, and
    JOB's timeout, alerts and heartbeat apply (JOB need not be in jobs.toml: [defaults] then apply).
    If panda-tui cannot record the run (an invalid jobs.toml, an unusable database), it says so on stderr
    and runs COMMAND anyway, as cron would have."""
    from panda_tui.fields import job_name
    from panda_tui.migrate.external import exit_code, job_for
    try:
        job_name(job)  # the rule jobs.toml's names follow: the run is recorded under this name
    except ValueError as exc:
        shown = job if len(job) <= 80 else job[:80] + "…"
        fail(f"exec: job name {shown!r}: {exc}", 2)  # repr: a line break or an escape sequence shows as such
    argv = list(command[1:] if command and command[0] == "--" else command)
    if not argv:
        fail("exec: no COMMAND: panda-tui exec JOB -- COMMAND [ARGS...]", 2)
    config_path, explicit = _config_for_exec(ctx, config_path)
    try:
        if not explicit and not os.path.exists(config_path):
            config = empty_config(config_path)
        else:
            config = load_config(config_path, secrets_file)
        spec = job_for(config, job, argv)
        path = resolve_db(db_path or ctx.find_root().params.get("db_path"))
        connect(path).close()
    except (ConfigError, StoreError) as exc:
        _run_unrecorded(argv, str(exc))
    except Exception as exc:  # noqa: BLE001 - whatever goes wrong on our side, cron's command still runs
        _run_unrecorded(argv, f"cannot record the run ({type(exc).__name__}: {exc})")
    echo = _Echo()
    noted: list[str] = []

    def note(text: str) -> None:
        noted.append(text)
        if not re.fullmatch(r"\[panda\] failed: exit \d+", text):  # the exit code says that already
            click.echo(safe(text), err=True)

    run = asyncio.run(_exec_recorded(config, path, spec, argv, secrets_file, echo, note))
    if run.status == RunStatus.SKIPPED:
        click.echo(f"panda-tui exec: run {run.id} skipped, COMMAND not run: {safe(run.reason or '')}", err=True)
    elif run.exit_code is None and run.reason and not noted:  # it never started: say why, for cron's mail
        click.echo(f"panda-tui exec: run {run.id} {status_word(run.status)}: {safe(run.reason)}", err=True)
    sys.exit(exit_code(run))


async def _exec_recorded(config, path: str, spec, argv: list[str], secrets_file: str | None, echo: _Echo,
                         note) -> Run:
    from panda_tui.engine.foreground import Unrecorded
    from panda_tui.migrate.external import exit_code, run_external
    try:
        return await run_external(config, path, spec, secrets_file=secrets_file, echo=echo.write, note=note)
    except StoreError as exc:  # the run could not even be written: cron's command still runs
        _run_unrecorded(argv, str(exc))
    except Unrecorded as exc:
        click.echo(f"panda-tui exec: {safe(str(exc))}", err=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exit_code(exc.run))  # threads still wait on the busy store: do not wait for them
    raise AssertionError("unreachable")


def _config_for_exec(ctx: click.Context, own: str | None) -> tuple[str, bool]:
    """The jobs file exec reads, and whether someone named it: `exec --config`, then `panda-tui --config`
    or PANDA_CONFIG; else ./jobs.toml, which exec may do without (then [defaults] apply)."""
    if own:
        return own, True
    root = ctx.find_root()
    named = root.get_parameter_source("config_path") not in (None, click.core.ParameterSource.DEFAULT)
    return root.params.get("config_path") or "jobs.toml", named


def _run_unrecorded(argv: list[str], why: str) -> None:
    lines = why.splitlines() or [why]
    for line in lines:
        click.echo(f"panda-tui exec: {safe(line)}", err=True)
    click.echo("panda-tui exec: running the command without recording it", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        click.echo(f"panda-tui exec: {safe(argv[0])}: {exc.strerror}", err=True)
        sys.exit(127 if isinstance(exc, FileNotFoundError) else 126)


class _Echo:
    """The command's output, raw, to our own stdout and stderr; a reader that went away stops only this."""

    def __init__(self) -> None:
        self.broken: set[int] = set()

    def write(self, stream: str, chunk: bytes) -> None:
        fd = 1 if stream == "out" else 2
        if fd in self.broken:
            return
        view = memoryview(chunk)
        try:
            while view:
                view = view[os.write(fd, view):]
        except OSError:
            self.broken.add(fd)
