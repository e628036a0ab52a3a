"""[[maintenance]] windows and [serve] in jobs.toml: each problem one line naming file, window and field."""

from __future__ import annotations

from typing import Any

from panda_tui import fields as f
from panda_tui.config.model import During, Maintenance, choices
from panda_tui.schedule import parse_schedule

WINDOW_FIELDS = ("name", "schedule", "timezone", "duration", "start", "end", "jobs", "during")


def load_windows(raw: Any, label: str, job_names: set[str], errors: list[str]) -> tuple[Maintenance, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(w, dict) for w in raw):
        errors.append(f"{label}: maintenance: expected [[maintenance]] tables, got {f.type_name(raw)}")
        return ()
    out = []
    for number, spec in enumerate(raw, 1):
        window = _window(number, spec, label, job_names, errors)
        if window is not None:
            out.append(window)
    return tuple(out)


def _window(number: int, spec: dict[str, Any], label: str, job_names: set[str], errors: list[str]
            ) -> Maintenance | None:
    name = str(spec.get("name") or f"maintenance {number}")
    where = f'{label}: [[maintenance]] "{name}"'
    start = len(errors)
    for key in spec:
        if key not in WINDOW_FIELDS:
            errors.append(f"{where}: {key}: unknown field (expected {', '.join(WINDOW_FIELDS)})")
    values: dict[str, Any] = {"name": name}
    parsers = {"duration": f.duration, "start": _instant, "end": _instant, "jobs": f.str_list,
               "during": f.choice(*choices(During))}
    for key, parse in parsers.items():
        if key in spec:
            try:
                values[key] = parse(spec[key])
            except ValueError as exc:
                errors.append(f"{where}: {key}: {exc}")
    if "schedule" in spec:
        try:
            values["schedule"] = parse_schedule(spec["schedule"], f.timezone(spec.get("timezone", "UTC")))
        except ValueError as exc:
            errors.append(f"{where}: schedule: {exc}")
        if "duration" not in spec:
            errors.append(f'{where}: duration: missing (a schedule opens the window for this long, e.g. "2h")')
    elif "start" in spec or "end" in spec:
        if "start" not in spec or "end" not in spec:
            errors.append(f"{where}: {'end' if 'start' in spec else 'start'}: missing (a window needs both)")
        elif len(errors) == start and values["end"] <= values["start"]:
            errors.append(f"{where}: end: must come after start")
    else:
        errors.append(f'{where}: schedule: missing (a cron expression plus a duration, or a start and an end)')
    for job in values.get("jobs", ()):
        if job not in job_names:
            errors.append(f'{where}: jobs: no job named "{job}"')
    if len(errors) > start:
        return None
    return Maintenance(**values)


def _instant(value: Any) -> float:
    """A TOML date-time (2026-12-24T22:00:00Z) or epoch seconds."""
    if hasattr(value, "timestamp") and hasattr(value, "hour"):
        if value.tzinfo is None:
            raise ValueError("expected a date-time with an offset, like 2026-12-24T22:00:00Z")
        return value.timestamp()
    return f.instant(value)


def load_serve(raw: Any, label: str, errors: list[str]) -> str | None:
    """[serve] public_url: where `panda-tui serve` is reached; alerts link to runs there."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        errors.append(f"{label}: serve: expected a table [serve], got {f.type_name(raw)}")
        return None
    for key in raw:
        if key != "public_url":
            errors.append(f"{label}: [serve]: {key}: unknown field (expected public_url)")
    if "public_url" not in raw:
        return None
    try:
        return f.url(raw["public_url"]).rstrip("/")
    except ValueError as exc:
        errors.append(f"{label}: [serve]: public_url: {exc}")
        return None
