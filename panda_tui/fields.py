"""Parsers for single jobs.toml values. Each raises ValueError with what was expected."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION_HINT = 'a duration like "90s", "5m", "1h30m" or a number of seconds'
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # use fullmatch: `$` would admit a final newline


def duration(value: Any) -> float:
    """Seconds from "90s", "1h30m", "250ms" or a plain number."""
    if isinstance(value, bool):
        raise ValueError(f"expected {DURATION_HINT}, got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0 or value != value or value > 10 * 365 * 86400:
            raise ValueError(f"expected {DURATION_HINT} between 0 and 10 years, got {value!r}")
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if text and _DURATION_PART.sub("", text) == "":
            total = sum(float(n) * _UNIT[u] for n, u in _DURATION_PART.findall(text))
            if total <= 10 * 365 * 86400:
                return total
    raise ValueError(f"expected {DURATION_HINT}, got {value!r}")


def timeout(value: Any) -> float:
    """A run's bound: a duration above zero (zero would stop every run as it starts)."""
    seconds = duration(value)
    if seconds <= 0:
        raise ValueError('must be more than 0 (every run would be stopped at once); a long one like "24h" '
                         "bounds a job that may run long")
    return seconds


def positive_duration(value: Any) -> float:
    """A duration above zero: how long an ack holds (`panda-tui ack --for`, the console's `a`)."""
    seconds = duration(value)
    if seconds <= 0:
        raise ValueError("expected a duration above zero")
    return seconds


NAME_RULE = "expected 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit"


def job_name(value: str) -> str:
    """A job's name, as jobs.toml and every command take it (it names rows, files and table columns)."""
    if not NAME_PATTERN.fullmatch(value):
        raise ValueError(NAME_RULE)
    return value


EARLIEST = 0.0  # 1970-01-01T00:00:00Z
LATEST = 253402300799.0  # 9999-12-31T23:59:59Z: the last second a datetime holds
INSTANT_HINT = "a time from 1970-01-01 to 9999-12-31"


def instant(value: Any) -> float:
    """Epoch seconds the scheduler can run a slot at: a finite number from 1970 to the end of year 9999
    (1e300, NaN or infinity would crash the time conversions a run needs)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected {INSTANT_HINT}, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value) or not EARLIEST <= value <= LATEST:
        raise ValueError(f"expected {INSTANT_HINT}, got {value!r}")
    return float(value)


def timezone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f'expected an IANA time zone name like "Europe/Berlin", got {value!r}')
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f'unknown time zone {value!r} (expected an IANA name like "Europe/Berlin")') from None
    return value


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type_name(value)}")
    return no_nul(value)


def no_nul(value: str) -> str:
    """A NUL byte cannot reach a process's argv or environment: refuse it here, not at the first run."""
    if "\x00" in value:
        raise ValueError("contains a NUL byte (\\x00), which no command or environment can hold")
    return value


def non_empty_text(value: Any) -> str:
    if not text(value).strip():
        raise ValueError("expected a non-empty string")
    return value


def command(value: Any) -> str | tuple[str, ...]:
    if isinstance(value, str) and value.strip():
        return no_nul(value)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(no_nul(v) for v in value)
    raise ValueError(
        'expected a string (run by sh -c) or a non-empty list of strings (exec form), '
        f"got {value!r}"
    )


STDIN_MAX = 64 * 1024


def stdin_text(value: Any) -> str:
    """What a local command reads on stdin (a crontab's "%" lines); a pipe's worth at most."""
    data = text(value)
    if len(data.encode("utf-8")) > STDIN_MAX:
        raise ValueError(f"at most {STDIN_MAX // 1024} KiB (larger input belongs in a file the command reads)")
    return data


def str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError(f"expected a table of NAME = \"value\", got {type_name(value)}")
    out: dict[str, str] = {}
    for key, val in value.items():
        if isinstance(val, bool) or not isinstance(val, (str, int, float)):
            raise ValueError(f"{key}: expected a string or number, got {type_name(val)}")
        if "\x00" in str(key) or "=" in str(key):
            raise ValueError(f"{key!r}: a variable name cannot hold '=' or a NUL byte")
        try:
            out[str(key)] = no_nul(val if isinstance(val, str) else str(val))
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None
    return out


def str_list(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of strings, got {value!r}")
    return tuple(no_nul(v) for v in value)


def env_names(value: Any) -> tuple[str, ...]:
    names = str_list(value)
    for name in names:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"{name!r} is not a valid environment variable name")
    return names


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def int_range(low: int, high: int):
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"expected a whole number from {low} to {high}, got {value!r}")
        return value

    return parse


def choice(*options: str):
    def parse(value: Any) -> str:
        if value not in options:
            raise ValueError(f"expected one of {' | '.join(options)}, got {value!r}")
        return value

    return parse


def byte_size(value: Any) -> int:
    """Bytes from 20971520, "20MiB", "512k", "1g"."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)(i?b)?\s*", value.lower())
        if match:
            mult = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2)]
            return int(float(match.group(1)) * mult)
    raise ValueError(f'expected a size like "20MiB", "512k" or a number of bytes, got {value!r}')


def size_or_share(value: Any) -> int | float:
    """Bytes as byte_size takes them, or a share of a file system: "10%" gives 0.1."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            share = float(value.strip()[:-1])
        except ValueError:
            share = -1.0
        if 0 < share <= 100:
            return share / 100
        raise ValueError(f'expected a share of the file system from "1%" to "100%", got {value!r}')
    try:
        return byte_size(value)
    except ValueError:
        raise ValueError(f'expected a size like "500MiB", "2g", a number of bytes, or a share like "10%", '
                         f"got {value!r}") from None


def room_to_keep(value: Any) -> int | float:
    """A size or share as size_or_share takes it, or 0: keep nothing free (journald's SystemKeepFree=0)."""
    if value == 0 and isinstance(value, int) and not isinstance(value, bool):
        return 0
    return size_or_share(value)


def cpus(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1024:
        raise ValueError(f"expected a number of CPUs like 0.5 or 2, got {value!r}")
    return float(value)


_CONSTRAINT = re.compile(r"\s*[A-Za-z][A-Za-z0-9_.-]*\s*(==|!=)\s*\S.*")


def constraints(value: Any) -> tuple[str, ...]:
    """Swarm placement constraints, as `docker service create --constraint` takes them."""
    items = str_list(value)
    for item in items:
        if not _CONSTRAINT.fullmatch(item):
            raise ValueError(f'expected constraints like "node.role==worker" or "node.labels.disk!=hdd", got {item!r}')
    return tuple(item.strip() for item in items)


def names_or_all(value: Any) -> tuple[str, ...] | bool:
    """`true` (every one) or a list of environment variable names."""
    if isinstance(value, bool):
        return value
    try:
        return env_names(value)
    except ValueError:
        raise ValueError(f"expected true or a list of secret names, got {value!r}") from None


def url(value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/$.?#][^\s]*$", value):
        raise ValueError(f'expected an http:// or https:// URL, got {value!r}')
    return value


@dataclass(frozen=True)
class TimesP95:
    """slow_after = "p95xN": a run is slow past N times the p95 duration of the job's recent successes."""

    factor: float

    def __str__(self) -> str:
        return f"p95x{self.factor:g}"


def slow_after(value: Any) -> float | TimesP95:
    """A duration, or "p95xN": N times the job's p95 duration."""
    if isinstance(value, str) and (match := re.fullmatch(r"p95x(\d+(?:\.\d+)?)", value.strip())):
        return TimesP95(float(match.group(1)))
    try:
        return duration(value)
    except ValueError:
        raise ValueError(f'expected "p95x2" or {DURATION_HINT}, got {value!r}') from None


def type_name(value: Any) -> str:
    names = {str: "a string", int: "a number", float: "a number", bool: "a boolean",
             list: "a list", dict: "a table", type(None): "nothing"}
    return names.get(type(value), type(value).__name__)
