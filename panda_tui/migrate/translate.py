"""A crontab, as Debian's cron reads it, written out as a jobs.toml that fires at the same instants.

Each job keeps what cron gave its command: the shell (SHELL), the environment lines above it, the
working directory (cron starts commands in $HOME), the user (the line's in the system format, else the
crontab's owner: whoever imports it, unless --user says), HOME, LOGNAME and SHELL as cron sets them, and
the "%" input on stdin. So a scheduler running as someone else refuses the jobs instead of running them
as itself in another's home; the header and the summary (summary.py) say whose jobs they are.
What has no direct equivalent is kept as a comment and said once on stderr, naming the line: MAILTO
(a commented alert suggestion), @reboot, lines cron itself refuses, CRON_TZ and TZ (see below), and the
one daylight-saving case where cron runs a line more than once (see dstcheck). So are what cron does
that is easily not what was meant: a "%" that ends the command (inside quotes, a syntax error), and a
last entry with no newline (Debian's cron then ignores the whole file).

CRON_TZ sets the following jobs' timezone, as cronie reads it; Debian's cron ignores it (one zone for
all), so the import says so when it differs from the system zone. TZ only reaches the command's
environment: no Linux cron schedules by it, and the import keeps the instants.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import textwrap
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from panda_tui.config import ConfigError, build_config
from panda_tui.fields import STDIN_MAX
from panda_tui.migrate import crontab, dstcheck, limits, names, summary
from panda_tui.migrate.limits import ImportRefused
from panda_tui.migrate.crontab import Entry, Refused, Setting
from panda_tui.schedule import parse_schedule
from panda_tui.text import safe

DEFAULT_SHELL = "/bin/sh"
DEFAULTS = '''[defaults]
# Kept as cron had them: cron starts every slot even while the last run goes on, and never runs a slot
# it missed while it was down. Tighten these per job once you have seen them run.
concurrency = "allow"
max_concurrent = 10
catchup = "none"
# cron never stopped a job; panda-tui stops a run after its timeout. Raise it for jobs that take longer.
timeout = "1h"
'''


@dataclass(frozen=True)
class Source:
    label: str  # "crontab -l", "stdin", or a path
    text: str
    system: bool = False  # the /etc/crontab format, with a user field


@dataclass(frozen=True)
class Options:
    zone: str
    zone_source: str
    disabled: bool = False
    owner: str | None = None  # the owner of a user crontab, when it is not the one importing
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    home: Callable[[str | None], str | None] = lambda user: _home(user)
    me: Callable[[], str | None] = lambda: _me()  # the account importing: a user crontab's owner by default
    is_account: Callable[[str], bool] = lambda name: _home(name) is not None


@dataclass(frozen=True)
class Imported:
    name: str
    source: str
    entry: Entry
    schedule: str
    timezone: str
    user: str | None


@dataclass
class Result:
    toml: str
    warnings: list[str]
    jobs: list[Imported]
    summary: list[str] = field(default_factory=list)  # for stderr, after the jobs.toml


class ImportBug(Exception):
    """The output would not load: a bug in the import, never the user's doing."""


@dataclass
class _State:
    env: dict[str, str] = field(default_factory=dict)
    shell: str | None = None
    mailto: str | None = None
    cron_tz: str | None = None


def translate(sources: list[Source], options: Options) -> Result:
    entries: list[tuple[Source, Entry]] = []
    parsed = [(source, crontab.parse(source.text, source.system)) for source in sources]
    undecodable = [line for source, items in parsed
                   for line in limits.undecodable(source.label, [(item.number, item.text) for item in items])]
    if undecodable:
        raise ImportRefused("\n".join(undecodable))
    for source, items in parsed:
        entries += [(source, item) for item in items if isinstance(item, Entry)]
    origin = sources[0].label if len(sources) == 1 else f"{len(sources)} files"
    limits.check_jobs(origin, len(entries))
    job_names = iter(names.unique_names([entry.command for _, entry in entries]))
    out = limits.Parts(origin, ["", DEFAULTS])
    warnings: list[str] = []
    jobs: list[Imported] = []
    for source, items in parsed:
        state = _State()
        warnings += _system_like(source, items, options)
        for item in items:
            where = f"{source.label}:{item.number}"
            if isinstance(item, Setting):
                out.append(_setting(item, state, where, options, warnings))
            elif isinstance(item, Refused):
                out.append(_comment(f"{source.label} line {item.number}, not imported: {item.reason}", item.text))
                warnings.append(f"{where}: not imported: {item.reason}")
            else:
                block, imported = _job(item, next(job_names), source, state, options, warnings)
                out.append(block)
                if imported is not None:
                    jobs.append(imported)
        warnings += _unterminated(source, items)
    zone_line, firing = summary.zones([job.timezone for job in jobs], options.zone, options.zone_source)
    owner_lines = summary.owners([job.user for job in jobs])
    out[0] = _header(sources, [zone_line] + owner_lines)
    toml = "\n".join(part.strip("\n") + "\n" for part in out if part.strip())
    limits.check_bytes(origin, toml)
    if jobs:
        _check(toml)
    closing = f"imported {len(jobs)} job{'s' if len(jobs) != 1 else ''} from {origin}, {firing}"
    return Result(toml, warnings, jobs, [closing] + owner_lines)


def _header(sources: list[Source], about: list[str]) -> str:
    origin = "".join(f"\n#   {safe(limits.shown(s.label))}" for s in sources)
    return (f"# Imported by `panda-tui import crontab` from:{origin}\n"
            + "".join(_comment_lines(line[:1].upper() + line[1:]) for line in about)
            + "# Review with `panda-tui validate` and `panda-tui next JOB --count 10`.\n")


def _comment_lines(text: str) -> str:
    return textwrap.fill(safe(text), 110, initial_indent="# ", subsequent_indent="#   ") + "\n"


def _setting(item: Setting, state: _State, where: str, options: Options, warnings: list[str]) -> str:
    name, value = item.name, item.value
    if name == "SHELL":
        state.shell = value
        return ""
    if name == "MAILTO":
        state.mailto = value
        if not value:
            warnings.append(f"{where}: MAILTO is empty: cron mailed nothing for the jobs below; "
                            "panda-tui keeps their output in its log")
            return f"# MAILTO=\"\" ({where}): cron mailed nothing for the jobs below.\n"
        target = _alert_name(value)
        warnings.append(f"{where}: MAILTO={value}: panda-tui sends no mail; see the commented "
                        f"[alerts.{target}] suggestion in the output")
        return (f"# MAILTO={safe(value)} ({where}): cron mailed the output of the jobs below to {safe(value)}.\n"
                "# panda-tui keeps every run's output in its log and alerts through a webhook instead, e.g.:\n"
                f"# [alerts.{target}]\n"
                "# url = \"https://hooks.example/...\"   # a chat webhook, or a mail gateway's\n"
                "# on = [\"failed\", \"timed_out\", \"missed\", \"lost\", \"recovered\"]\n"
                f"# and in each job below: alerts = [\"{target}\"]\n")
    if name == "LOGNAME":
        warnings.append(f"{where}: LOGNAME={value}: cron sets LOGNAME to the crontab's owner whatever this says, "
                        "and so does the import")
        return ""
    if name == "CRON_TZ":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            warnings.append(f"{where}: CRON_TZ={value}: not a zone name this system knows; ignored")
            return ""
        state.cron_tz = value
        if value != options.zone:
            warnings.append(f"{where}: CRON_TZ={value}: the jobs below get timezone = \"{value}\", as cronie "
                            f"reads CRON_TZ; Debian's cron ignores it and fires them in {options.zone}: if that "
                            f"is what ran them, set their timezone to \"{options.zone}\"")
        return ""
    state.env[name] = value
    if name == "TZ" and value.lstrip(":") != options.zone:
        warnings.append(f"{where}: TZ={value}: passed to the commands below, as cron does; cron still fires "
                        f"them in {options.zone}, and so do the imported jobs (set timezone = \"{value}\" on a "
                        "job to fire it on that zone's clock)")
    elif "$" in value:
        warnings.append(f"{where}: {name}={value}: cron does not expand variables in environment lines, "
                        "and panda-tui does not either: the value is kept as written")
    return ""


def _job(entry: Entry, name: str, source: Source, state: _State, options: Options,
         warnings: list[str]) -> tuple[str, Imported | None]:
    where = f"{source.label}:{entry.number}"
    zone = state.cron_tz or options.zone
    title = f"{source.label} line {entry.number}"
    try:
        parse_schedule(entry.schedule, zone)
    except ValueError as exc:
        warnings.append(f"{where}: not imported: {exc}")
        return _comment(f"{title}, not imported: {exc}", entry.text), None
    if entry.stdin and len(entry.stdin.encode("utf-8")) > STDIN_MAX:
        reason = f"its % input is over {STDIN_MAX // 1024} KiB: put it in a file the command reads"
        warnings.append(f"{where}: not imported: {reason}")
        return _comment(f"{title}, not imported: {reason}", entry.text), None
    if entry.text.endswith("\r"):
        warnings.append(f"{where}: the line ends with a carriage return (a file saved on Windows?): cron hands "
                        "it to the shell as part of the command, and so will panda-tui")
    if entry.stdin is not None:
        warnings.append(_percent_warning(where, entry.command))
    for fld in entry.fields or ():
        if not fld.plain and fld.expression() != fld.text:
            skipped = f" (it skips {fld.skipped!r})" if fld.skipped else ""
            warnings.append(f"{where}: {fld.spec.name} {fld.text!r} is read by cron as {fld.expression()!r}"
                            f"{skipped}; imported as cron runs it")
    if entry.fields:
        for at, count in dstcheck.extra_runs(entry.fields, zone, options.now):
            warnings.append(f"{where}: on {at:%Y-%m-%d} the clock skips from {at:%H:%M}: Debian's cron runs "
                            f"this line {count} times at the jump, panda-tui once")
    user = entry.user if source.system else (options.owner or _spool_owner(source.label) or options.me())
    lines = [_comment(title, entry.text).rstrip("\n"), f"[jobs.{_key(name)}]",
             f"schedule = {_str(entry.schedule)}", f"timezone = {_str(zone)}"]
    shell = state.shell or DEFAULT_SHELL
    if shell == DEFAULT_SHELL:
        lines.append(f"command = {_str(entry.command)}")
    else:
        lines.append(f"command = [{_str(shell)}, '-c', {_str(entry.command)}]")
    if entry.stdin:
        lines.append(f"stdin = {_str(entry.stdin)}")
    if user:
        lines.append(f"user = {_str(user)}")
    home = state.env.get("HOME") or options.home(user)
    if home:
        lines.append(f"workdir = {_str(home)}  # cron starts commands in $HOME")
    lines.append("env = { " + ", ".join(f"{_key(k)} = {_str(v)}" for k, v in _cron_env(state, user, home, shell))
                 + " }")
    if options.disabled:
        lines.append("enabled = false  # started by cron (with `panda-tui exec`) until you enable it")
    if state.mailto:
        lines.append(f"# alerts = [\"{_alert_name(state.mailto)}\"]  # MAILTO={safe(state.mailto)}")
    return "\n" + "\n".join(lines) + "\n", Imported(name, source.label, entry, entry.schedule, zone, user)


def _cron_env(state: _State, user: str | None, home: str | None, shell: str) -> list[tuple[str, str]]:
    """The crontab's environment lines, then what Debian's cron adds: HOME (unless set), LOGNAME (always the
    owner), SHELL (the crontab's, else /bin/sh). USER too (unless set): Debian's cron leaves it out, but a
    job must not see the scheduler's account there beside its own LOGNAME."""
    env = dict(state.env)
    if home:
        env.setdefault("HOME", home)
    if user:
        env["LOGNAME"] = user
        env.setdefault("USER", user)
    env["SHELL"] = shell
    return list(env.items())


def _system_like(source: Source, items: list[crontab.Item], options: Options) -> list[str]:
    if source.system:
        return []
    entries = [item for item in items if isinstance(item, Entry)]
    found = crontab.user_fields(entries, options.is_account)
    if not found:
        return []
    users = sorted({entry.command.split()[0] for entry in found})
    return [f"{source.label}:{found[0].number}: {len(found)} of {len(entries)} lines start their command with an "
            f"account name ({', '.join(users)}): is this a system crontab, with a user field after the schedule "
            f"(as /etc/crontab)? Then import it with --system: read as it is, each job runs a program called "
            f"{users[0]!r}"]


def _unterminated(source: Source, items: list[crontab.Item]) -> list[str]:
    """Debian's cron ignores a whole file whose last entry has no newline, and `crontab` refuses it."""
    last = source.text.count("\n") + 1
    if source.text.endswith("\n") or not items or items[-1].number != last or isinstance(items[-1], Setting):
        return []
    return [f"{source.label}:{last}: the file ends without a newline: Debian's cron ignores such a file "
            "(\"Missing newline before EOF, this crontab file will be ignored\") and `crontab` refuses to install "
            "it, so cron may never have run these jobs; imported anyway"]


def _percent_warning(where: str, command: str) -> str:
    shown = command if len(command) <= 50 else "…" + command[-40:]
    inside = crontab.open_at_end(command)
    if inside:
        return (f"{where}: an unescaped % inside {inside} ends the command there, as cron reads it: cron runs "
                f"{shown!r} (a shell syntax error) with the rest as its standard input; write \\% for a %")
    return (f"{where}: the unescaped % ends the command, as cron reads it: {shown!r} runs with the rest as its "
            "standard input (imported as `stdin`); write \\% if you meant a %")


def _comment(title: str, original: str) -> str:
    return f"\n# {safe(title)}:\n#   {safe(original.rstrip())}\n"


def _alert_name(mailto: str) -> str:
    first = re.split(r"[\s,]+", mailto.strip())[0]
    return names.slug(first.split("@", 1)[0]) if first else "mail"


def _str(value: str) -> str:
    """A TOML string: literal ('…') when that needs no escape, else basic, as JSON writes it."""
    if "'" not in value and (value.isprintable()
                             or all(c == "\t" or (c.isprintable() and c != "\x7f") for c in value)):
        return f"'{value}'"
    return _basic(value)


def _basic(value: str) -> str:
    """JSON's escapes are TOML's, but for DEL, which TOML wants escaped and JSON leaves as it is."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _basic(name)


def _check(toml: str) -> None:
    """The output must be a jobs.toml that loads: a failure here is a bug in the import, said plainly."""
    try:
        build_config(tomllib.loads(toml.encode("utf-8").decode("utf-8")), "imported.toml")  # as validate reads it
    except (ConfigError, tomllib.TOMLDecodeError, UnicodeError) as exc:
        raise ImportBug(f"the import produced a jobs.toml that does not load ({exc}); please report it") from None


def _spool_owner(path: str) -> str | None:
    """A crontab in cron's spool is named after its owner."""
    folder, name = os.path.split(path)
    return name if folder.rstrip("/") == "/var/spool/cron/crontabs" and name else None


def _me() -> str | None:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return None


def _home(user: str | None) -> str | None:
    try:
        return pwd.getpwnam(user).pw_dir if user else pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        return None
