"""Read jobs.toml into a Config, collecting every error as one line that names file, job and field."""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import fields as dc_fields
from typing import Any, Callable

from panda_tui import fields as f
from panda_tui.files import FileRefused, read_regular
from panda_tui.config.model import (AlertFormat, AlertTarget, Catchup, Concurrency, Config, Job, Pull,
                                    RunnerKind, SchedulerSettings, StoreSettings, choices)
from panda_tui.config.runner_rules import check_runner
from panda_tui.config.windows import load_serve, load_windows
from panda_tui.schedule import parse_schedule

Parser = Callable[[Any], Any]

JOB_FIELDS: dict[str, Parser] = {
    "description": f.text,
    "schedule": lambda v: v,  # parsed with the time zone, below
    "timezone": f.timezone,
    "image": f.non_empty_text,
    "command": f.command,
    "stdin": f.stdin_text,
    "timeout": f.timeout,
    "kill_grace": f.duration,
    "env": f.str_map,
    "secrets": f.env_names,
    "concurrency": f.choice(*choices(Concurrency)),
    "max_concurrent": f.int_range(1, 1000),
    "queue_max": f.int_range(1, 10_000),
    "retries": f.int_range(0, 100),
    "retry_delay": f.duration,
    "catchup": f.choice(*choices(Catchup)),
    "starting_deadline": f.duration,
    "jitter": f.duration,
    "enabled": f.boolean,
    "workdir": f.non_empty_text,
    "user": f.non_empty_text,
    "network_mode": f.non_empty_text,
    "mem_limit": f.non_empty_text,
    "memory": f.byte_size,
    "cpus": f.cpus,
    "volumes": f.str_list,
    "pull": f.choice(*choices(Pull)),
    "docker_host": f.non_empty_text,
    "runner": f.choice(*choices(RunnerKind)),
    "constraints": f.constraints,
    "secrets_env": f.names_or_all,
    "log_max_lines": f.int_range(1, 100_000_000),
    "log_max_bytes": f.byte_size,
    "log_keep_runs": f.int_range(1, 1_000_000),
    "alerts": f.str_list,
    "heartbeat": f.url,
    "slow_after": f.slow_after,
    "fast_before": f.duration,
    "repeat_after": f.duration,
    "after": f.int_range(1, 1000),
    "runbook": f.url,
}
DEFAULTS_ONLY: dict[str, Parser] = {"secrets_file": f.non_empty_text}
ALERT_FIELDS: dict[str, Parser] = {
    "url": f.non_empty_text,  # an http(s) webhook, or any Apprise URL: checked below
    "format": f.choice(*choices(AlertFormat)),
    "headers": f.str_map,
    "on": f.str_list,
    "timeout": f.timeout,
    "group_wait": f.duration,
}
ALERT_EVENTS = ("started", "succeeded", "failed", "timed_out", "missed", "lost",
                "recovered", "slow", "fast", "killed", "skipped", "flapping")
SCHEDULER_FIELDS: dict[str, Parser] = {"heartbeat": f.url, "heartbeat_every": f.duration, "stop_grace": f.duration}
STORE_FIELDS: dict[str, Parser] = {"max_size": f.size_or_share, "keep_free": f.room_to_keep}
TOP_LEVEL = ("defaults", "jobs", "alerts", "scheduler", "maintenance", "serve", "store")
MAX_BYTES = 10 * 1024 * 1024  # jobs.toml
MAX_JOBS = 10_000


class ConfigError(Exception):
    """Raised with every problem found; str() is one line per problem."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def load_config(path: str, secrets_file: str | None = None, *, channels: bool = True) -> Config:
    """`channels=False`: Apprise URLs are not checked by Apprise (readers that only show the jobs do not
    load it; the scheduler and `validate` do)."""
    label = os.path.basename(path) or path
    data = _read_toml(path, label)
    return build_config(data, path, secrets_file, channels=channels)


def _read_toml(path: str, label: str) -> dict[str, Any]:
    try:
        raw = read_regular(path, MAX_BYTES)
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found (create one with `panda-tui init {path}`)"]) from None
    except FileRefused as exc:
        raise ConfigError([f"{path}: {exc}"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{label}: not UTF-8 text (byte {exc.start})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{label}: TOML syntax error: {exc}"]) from None
    except RecursionError:
        raise ConfigError([f"{label}: TOML nested too deeply"]) from None


def build_config(data: dict[str, Any], path: str, secrets_file: str | None = None, *,
                 channels: bool = True) -> Config:
    label = os.path.basename(path) or path
    errors: list[str] = []
    for key in data:
        if key not in TOP_LEVEL:
            errors.append(f"{label}: {_printable(key)}: unknown section{_did_you_mean(key, TOP_LEVEL)} "
                          f"(expected {', '.join('[' + t + ']' for t in TOP_LEVEL)})")
    defaults = _table(data, "defaults", label, errors)
    alerts_table = _table(data, "alerts", label, errors)
    alerts = _load_alerts(alerts_table, label, errors, channels)
    scheduler = _load_scheduler(_table(data, "scheduler", label, errors), label, errors)
    store = StoreSettings(**_check_fields(_table(data, "store", label, errors), STORE_FIELDS,
                                          f"{label}: [store]", errors))
    default_values = _check_fields(defaults, {**JOB_FIELDS, **DEFAULTS_ONLY}, f"{label}: [defaults]", errors)
    jobs_table = _table(data, "jobs", label, errors)
    if len(jobs_table) > MAX_JOBS:
        raise ConfigError([f"{label}: {len(jobs_table)} jobs; one scheduler runs at most {MAX_JOBS:,}"])
    if not jobs_table and not errors:
        errors.append(f"{label}: no jobs: add a [jobs.NAME] table with a schedule and a command or image")
    jobs: dict[str, Job] = {}
    warnings: list[str] = []
    for name, raw in jobs_table.items():
        # a target declared with an error is named by that error once, not again by each job using it
        job = _load_job(name, raw, default_values, set(alerts_table), label, errors)
        if job is not None:
            jobs[name] = job
    warnings += [f'{label}: alert "{_printable(t.name)}": url: holds a password; put it in the secrets file and '
                 "write ${secret:NAME} in its place" for t in alerts.values() if _literal_password(t.url)]
    maintenance = load_windows(data.get("maintenance"), label, set(jobs_table), errors)
    public_url = load_serve(data.get("serve"), label, errors)
    if errors:
        raise ConfigError(errors)
    sfile = secrets_file or default_values.get("secrets_file")
    if sfile and not os.path.isabs(sfile):
        sfile = os.path.join(os.path.dirname(os.path.abspath(path)), sfile)
    return Config(path=path, jobs=jobs, alerts=alerts, scheduler=scheduler, store=store,
                  secrets_file=sfile, maintenance=maintenance, public_url=public_url, warnings=tuple(warnings), data=data,
                  defaults={k: v for k, v in default_values.items() if k in JOB_FIELDS})


def job_from_defaults(config: Config, name: str) -> Job:
    """A job that is not in jobs.toml, made of its [defaults] (`panda-tui exec` of an unlisted JOB). Its
    schedule is never used: it only exists to be run from outside."""
    values: dict[str, Any] = dict(config.defaults)
    tz = values.pop("timezone", "UTC")
    raw = values.pop("schedule", None)
    try:
        schedule = parse_schedule(raw, tz) if raw else parse_schedule("@yearly", tz)
    except ValueError:
        schedule = parse_schedule("@yearly", tz)
    known = {fld.name for fld in dc_fields(Job)}
    return Job(name=name, schedule=schedule, **{k: v for k, v in values.items() if k in known})


def empty_config(path: str) -> Config:
    """No jobs.toml at all: every default is panda-tui's own."""
    return Config(path=path, jobs={})


def _table(data: dict[str, Any], key: str, label: str, errors: list[str]) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        errors.append(f"{label}: {key}: expected a table [{key}], got {f.type_name(value)}")
        return {}
    return value


def _check_fields(raw: dict[str, Any], spec: dict[str, Parser], where: str, errors: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        parser = spec.get(key)
        if parser is None:
            errors.append(f"{where}: {_printable(key)}: unknown field{_did_you_mean(key, spec)}")
            continue
        try:
            out[key] = parser(value)
        except ValueError as exc:
            errors.append(f"{where}: {key}: {_printable(str(exc))}")
        except RecursionError:
            errors.append(f"{where}: {key}: value nested too deeply")
    return out


def _load_job(name: str, raw: Any, defaults: dict[str, Any], alert_names: set[str],
              label: str, errors: list[str]) -> Job | None:
    where = f'{label}: job "{_printable(name)}"'
    start = len(errors)
    try:
        f.job_name(name)
    except ValueError as exc:
        errors.append(f"{where}: name: {exc}")
    if not isinstance(raw, dict):
        errors.append(f"{where}: expected a table [jobs.{_printable(name)}], got {f.type_name(raw)}")
        return None
    values = {k: v for k, v in defaults.items() if k in JOB_FIELDS}
    values.update(_check_fields(raw, JOB_FIELDS, where, errors))
    present = set(raw) | set(defaults)
    if "schedule" not in present:
        errors.append(f'{where}: schedule: missing (expected a cron expression like "*/5 * * * *" or "@every 30s")')
    if "command" not in present and "image" not in present:
        errors.append(f"{where}: command: missing (a job needs a command, an image, or both)")
    for target in values.get("alerts", ()):
        if target not in alert_names:
            errors.append(f"{where}: alerts: unknown target {target!r}{_did_you_mean(target, alert_names)} "
                          f"(define it as [alerts.{_printable(target)}])")
    if "stdin" in raw and values.get("image"):
        errors.append(f"{where}: stdin: only for local commands (this job has an image)")
    if len(errors) == start:
        check_runner(values, set(raw), where, errors)
    tz = values.pop("timezone", "UTC")
    if "schedule" in values and not any(": timezone: " in e for e in errors[start:]):
        try:
            values["schedule"] = parse_schedule(values["schedule"], tz)
        except ValueError as exc:
            errors.append(f"{where}: schedule: {exc}")
    if len(errors) > start:
        return None
    known = {fld.name for fld in dc_fields(Job)}
    return Job(name=name, **{k: v for k, v in values.items() if k in known})


def _load_alerts(raw: dict[str, Any], label: str, errors: list[str], channels: bool = True
                 ) -> dict[str, AlertTarget]:
    targets: dict[str, AlertTarget] = {}
    for name, spec in raw.items():
        where = f'{label}: alert "{_printable(name)}"'
        if not isinstance(spec, dict):
            errors.append(f"{where}: expected a table [alerts.{_printable(name)}], got {f.type_name(spec)}")
            continue
        start = len(errors)
        values = _check_fields(spec, ALERT_FIELDS, where, errors)
        if "url" not in values and "url" not in spec:
            errors.append(f"{where}: url: missing (expected an http(s):// webhook or an Apprise URL)")
        _check_url(values, spec, where, errors, channels)
        for event in values.get("on", ()):
            if event not in ALERT_EVENTS:
                errors.append(f"{where}: on: unknown event {event!r}{_did_you_mean(event, ALERT_EVENTS)} "
                              f"(expected {', '.join(ALERT_EVENTS)})")
        if len(errors) == start:
            targets[name] = AlertTarget(name=name, **values)
    return targets


def _check_url(values: dict[str, Any], spec: dict[str, Any], where: str, errors: list[str],
               channels: bool = True) -> None:
    """An http(s) URL is our webhook (format json|slack); any other is an Apprise channel, checked here."""
    url = values.get("url")
    if url is None:
        return
    if url.lower().startswith(("http://", "https://")):
        try:
            f.url(url)
        except ValueError as exc:
            errors.append(f"{where}: url: {exc}")
        return
    from panda_tui.config.channel_check import check_url  # Apprise loads only for a config that uses it
    problem = check_url(url, with_apprise=channels)
    if problem:
        errors.append(f"{where}: url: {problem}")
    for key in ("format", "headers"):
        if key in spec:
            errors.append(f"{where}: {key}: only for an http(s) webhook (Apprise's {url.split('://')[0]}:// "
                          "formats its own messages)")


def _literal_password(url: str) -> bool:
    from urllib.parse import urlsplit
    try:
        password = urlsplit(url).password
    except ValueError:
        return False
    return password is not None and password != "" and "${secret:" not in password


def _load_scheduler(raw: dict[str, Any], label: str, errors: list[str]) -> SchedulerSettings:
    values = _check_fields(raw, SCHEDULER_FIELDS, f"{label}: [scheduler]", errors)
    return SchedulerSettings(**values)


def _did_you_mean(word: str, options) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _printable(name: object) -> str:
    """A name or message made safe for one line: control characters and line breaks escaped."""
    text = str(name)
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
