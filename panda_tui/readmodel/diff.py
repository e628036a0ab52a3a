"""What changed between a failed run and the job's last good one: the config it ran with, its environment's
names, the image, where it ran, how it ended and how long it took, and the log lines that are new.

Pure: the caller reads both runs (their rows, the job's fields as each ran, their logs) and hands them in.
Log lines are compared once numbers, hex, timestamps and UUIDs are normalised, so "took 12.3s" and
"took 9.1s" are the same line, and "connection refused" that never appeared before stands out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from panda_tui.schedule import human_duration
from panda_tui.text import status_word

MAX_NEW_LINES = 20  # the first new lines are the answer; the rest is in the log
MAX_KNOWN = 200_000  # distinct normalised lines kept from the good run (memory stays bounded)
HIDDEN = {"env", "secrets"}  # compared by name, below

_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?|\b\d\d:\d\d:\d\d(?:[.,]\d+)?")
_HEX = re.compile(r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}\b")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def normalise(text: str) -> str:
    """A log line with what changes from run to run (UUIDs, times, hex ids, numbers) replaced."""
    text = _UUID.sub("<uuid>", text)
    text = _TIME.sub("<time>", text)
    text = _HEX.sub("<hex>", text)
    return _NUMBER.sub("<n>", text).strip()


@dataclass(frozen=True)
class RunFacts:
    """One run as the diff sees it."""
    run_id: int
    status: str
    exit_code: int | None
    duration_s: float | None
    spec: Mapping[str, Any] | None  # the job's fields as this run ran with them; None when not recorded
    image_id: str | None = None
    where: str | None = None  # the Docker engine or swarm node it ran on; None for a local process


@dataclass
class Change:
    what: str  # a config field, "env NAME", "secret NAME", "image", "where", "exit code", "duration"
    before: str | None
    after: str | None
    note: str | None = None  # said instead of the values (an env value is not shown, only that it changed)

    def line(self) -> str:
        if self.note:
            return f"{self.what}: {self.note}"
        if self.before is None:
            return f"{self.what}: added ({self.after})" if self.after else f"{self.what}: added"
        if self.after is None:
            return f"{self.what}: removed (was {self.before})" if self.before else f"{self.what}: removed"
        return f"{self.what}: {self.before} → {self.after}"


@dataclass
class RunDiff:
    failed: RunFacts
    good: RunFacts | None  # None: the job never succeeded (then only the failed run's own facts are told)
    changes: list[Change] = field(default_factory=list)
    new_lines: list[str] = field(default_factory=list)
    more_new_lines: int = 0
    config_known: bool = True  # False when a run predates recording what it ran with

    def summary(self, limit: int = 5) -> list[str]:
        """The few lines an alert or a notice has room for, the most telling first."""
        out = [c.line() for c in self.changes][:limit]
        if self.new_lines and len(out) < limit:
            out.append(f"new in the log: {self.new_lines[0]}")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"failed_run": self.failed.run_id, "good_run": self.good.run_id if self.good else None,
                "changes": [{"what": c.what, "before": c.before, "after": c.after, "note": c.note}
                            for c in self.changes],
                "new_lines": self.new_lines, "more_new_lines": self.more_new_lines,
                "config_known": self.config_known}


def compare(failed: RunFacts, good: RunFacts | None, median_s: float | None,
            failed_log: Iterable[str], good_log: Iterable[str]) -> RunDiff:
    """Everything that differs, config first, then where and how it ran, then how it ended."""
    diff = RunDiff(failed, good)
    if good is not None:
        diff.config_known = failed.spec is not None and good.spec is not None
        if diff.config_known:
            diff.changes += spec_changes(good.spec or {}, failed.spec or {})
        if failed.image_id != good.image_id and (failed.image_id or good.image_id):
            diff.changes.append(Change("image", _short(good.image_id), _short(failed.image_id)))
        if failed.where != good.where:
            diff.changes.append(Change("ran on", good.where or "this machine", failed.where or "this machine"))
    diff.changes += _ending(failed, good, median_s)
    if good is not None:  # with nothing to compare with, every line would be "new": none is said
        diff.new_lines, diff.more_new_lines = new_lines(failed_log, good_log)
    return diff


def spec_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Config fields that differ; env by name (a value shown only as changed), secrets by name only."""
    out = [Change(key, _value(key, before.get(key)), _value(key, after.get(key)))
           for key in sorted((set(before) | set(after)) - HIDDEN) if before.get(key) != after.get(key)]
    env_before, env_after = dict(before.get("env") or {}), dict(after.get("env") or {})
    for name in sorted(set(env_before) | set(env_after)):
        if name not in env_before:
            out.append(Change(f"env {name}", None, ""))
        elif name not in env_after:
            out.append(Change(f"env {name}", "", None))
        elif env_before[name] != env_after[name]:
            out.append(Change(f"env {name}", None, None, note="value changed"))
    secrets_before, secrets_after = set(before.get("secrets") or ()), set(after.get("secrets") or ())
    out += [Change(f"secret {name}", None, "") for name in sorted(secrets_after - secrets_before)]
    out += [Change(f"secret {name}", "", None) for name in sorted(secrets_before - secrets_after)]
    return out


NEVER_RAN = {"skipped": "none, it was skipped and never ran", "missed": "none, it was missed and never ran",
             "queued": "none yet, it has not started"}  # no exit code to compare, which is all there is to say


def _ending(failed: RunFacts, good: RunFacts | None, median_s: float | None) -> list[Change]:
    out = []
    code = _text(failed.exit_code) if failed.exit_code is not None else f"none ({status_word(failed.status)})"
    if good is None or failed.status in NEVER_RAN:  # nothing to compare with: how it ended, as a fact
        out.append(Change("exit code", None, None, note=NEVER_RAN.get(failed.status, code)))
    elif failed.exit_code != good.exit_code:
        out.append(Change("exit code", _text(good.exit_code), code))
    if failed.duration_s is not None and median_s and abs(failed.duration_s - median_s) >= MIN_DURATION_GAP:
        ratio = failed.duration_s / median_s
        if ratio >= 2 or ratio <= 0.5:
            out.append(Change("duration", f"median {_seconds(median_s)}",
                              f"{_seconds(failed.duration_s)} ({ratio:.1f}× the median)"))
    return out


def new_lines(failed_log: Iterable[str], good_log: Iterable[str],
              limit: int = MAX_NEW_LINES) -> tuple[list[str], int]:
    """Lines of the failed run whose normalised form the good run never wrote, first ones first, each
    shape once; and how many more there were beyond `limit`."""
    known: set[str] = set()
    for text in good_log:
        if len(known) >= MAX_KNOWN:
            break
        known.add(normalise(text))
    shown: list[str] = []
    more = 0
    for text in failed_log:
        shape = normalise(text)
        if not shape or shape in known:
            continue
        known.add(shape)  # each new shape once
        if len(shown) < limit:
            shown.append(text)
        else:
            more += 1
    return shown, more


MIN_DURATION_GAP = 1.0  # seconds: a 57 ms run against a 28 ms median is noise, not a change
DURATION_FIELDS = frozenset({"timeout", "kill_grace", "retry_delay", "starting_deadline", "jitter",
                             "fast_before", "repeat_after"})


def _value(key: str, value: Any) -> str | None:
    """A config value as a person reads it: durations in words (3600.0 -> 1h), the rest as written."""
    if key in DURATION_FIELDS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return human_duration(float(value))
    return _text(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)


def _short(image_id: str | None) -> str | None:
    if image_id is None:
        return None
    return image_id.split(":", 1)[-1][:12]


def _seconds(value: float) -> str:
    return f"{value:.1f}s" if value < 120 else f"{value / 60:.1f}m"
