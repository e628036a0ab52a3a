"""When a job fires: cron (5 or 6 fields), @aliases and "@every DURATION", in a time zone.

DST follows Debian/Vixie cron, as implemented by cronsim: a fixed-time job whose
wall-clock time is skipped runs once at the jump, and once (not twice) when the
time repeats; jobs with a wildcard or stepped hour follow real elapsed time.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from panda_tui import fields

UTC = timezone.utc
ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_FIELD_NAMES = ["minute", "hour", "day-of-month", "month", "day-of-week"]


@dataclass(frozen=True)
class Schedule:
    expr: str
    tz: str = "UTC"

    @property
    def every(self) -> float | None:
        """The interval of an "@every" schedule, else None."""
        if self.expr.startswith("@every"):
            return fields.duration(self.expr[len("@every"):].strip())
        return None

    def iter_after(self, after: datetime) -> Iterator[datetime]:
        """Fire times strictly after `after`, ascending, as aware UTC datetimes."""
        step = self.every
        if step is not None:
            yield from _every(step, after)
            return
        zone = ZoneInfo(self.tz)
        cron, previous = self.cron, after
        for fire in CronSim(cron, after.astimezone(zone)):
            fire = fire.astimezone(UTC)
            if _sub_hour_change(previous, fire, zone) and _follows_real_time(cron):
                yield from _stepped_over(cron, zone, previous, fire)
            yield fire
            previous = fire

    def next_after(self, after: datetime, count: int = 1) -> list[datetime]:
        return list(_next_after(self, after, count))

    @property
    def cron(self) -> str:
        return ALIASES.get(self.expr.strip().lower(), self.expr.strip())

    @functools.lru_cache(maxsize=4096)
    def explain(self) -> str:
        step = self.every
        if step is not None:
            return f"Every {human_duration(step)}"
        try:
            text = plain_steps(CronSim(self.cron, datetime.now(ZoneInfo(self.tz))).explain())
        except Exception:  # explain() is best effort; the expression is already valid
            text = self.cron
        return f"{text} ({self.tz})" if self.tz != "UTC" else f"{text} (UTC)"


@functools.lru_cache(maxsize=8192)
def _next_after(schedule: Schedule, after: datetime, count: int) -> tuple[datetime, ...]:
    """Cached: jobs that share a schedule and a starting instant share the answer."""
    it = schedule.iter_after(after)
    return tuple(next(it) for _ in range(count))


def _sub_hour_change(start: datetime, end: datetime, zone: ZoneInfo) -> bool:
    """Whether the zone's offset moved by part of an hour between two instants (Australia/Lord_Howe)."""
    shift = (end.astimezone(zone).utcoffset() or timedelta(0)) - (start.astimezone(zone).utcoffset() or timedelta(0))
    return shift.total_seconds() % 3600 != 0


def _follows_real_time(cron: str) -> bool:
    """A 5-field line with a wildcard minute or hour: cronsim walks it in real time (fixed-time lines walk
    the wall clock, which half-hour changes do not trouble)."""
    parts = cron.split()
    return len(parts) == 5 and (parts[0].startswith("*") or parts[1].startswith("*"))


def _stepped_over(cron: str, zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[datetime]:
    """Fire times cronsim skips when it steps whole hours across a half-hour DST change: it lands on
    :30 and misses the minutes before it. Found minute by minute, which only such a change costs."""
    fields = CronSim(cron, start.astimezone(zone))
    t = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while t < end:
        local = t.astimezone(zone)
        if (local.minute in fields.minutes and local.hour in fields.hours and local.month in fields.months
                and fields.match_day(local.date())):
            yield t
        t += timedelta(minutes=1)


def _every(step: float, after: datetime) -> Iterator[datetime]:
    """Slots on multiples of `step` since the epoch, so they survive restarts unchanged."""
    ts = after.timestamp()
    n = math.floor(ts / step) + 1
    while True:
        yield datetime.fromtimestamp(n * step, UTC)
        n += 1


def parse_schedule(expr: object, tz: str = "UTC") -> Schedule:
    """Validate and return a Schedule; ValueError says what is wrong."""
    if not isinstance(expr, str) or not expr.strip():
        raise ValueError(
            'expected a cron expression like "*/5 * * * *", an alias like "@daily" '
            f'or "@every 30s", got {expr!r}'
        )
    expr = expr.strip()
    if expr.startswith("@every"):
        step = fields.duration(expr[len("@every"):].strip() or "x")
        if step < 1:
            raise ValueError(f"@every needs at least 1s, got {expr!r}")
        return Schedule(expr, tz)
    if expr.startswith("@") and expr.lower() not in ALIASES:
        raise ValueError(
            f"unknown alias {expr!r} (expected @hourly, @daily, @weekly, @monthly, @yearly or @every DURATION)"
        )
    schedule = Schedule(expr, tz)
    _check_cron(schedule.cron, expr)
    return schedule


@functools.lru_cache(maxsize=4096)
def _check_cron(cron: str, shown: str) -> None:
    """Raises ValueError for an invalid expression; cached, as thousands of jobs share a few."""
    parts = cron.split()
    if len(parts) not in (5, 6):
        raise ValueError(
            f"expected 5 fields (minute hour day month weekday) or 6 (seconds first), "
            f"got {len(parts)} in {shown!r}"
        )
    _check_steps(parts, shown)
    start = datetime(2000, 1, 1, tzinfo=UTC)
    try:
        next(CronSim(cron, start))
    except CronSimError as exc:
        raise ValueError(f"{_cron_problem(str(exc), parts)} in {shown!r}") from None
    except StopIteration:
        raise ValueError(f"never fires: no date matches {shown!r}") from None


_RANGES = {"second": (0, 59), "minute": (0, 59), "hour": (0, 23), "day-of-month": (1, 31), "month": (1, 12),
           "day-of-week": (0, 6)}
_NAMES = {"month": ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
          "day-of-week": ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]}


def _check_steps(parts: list[str], shown: str) -> None:
    """A step larger than the range it steps over fires once per range, which is never what it reads as
    ("*/70 * * * *" fires hourly): refused. Everything else is cronsim's to judge."""
    names = (["second"] if len(parts) == 6 else []) + ["minute", "hour", "day-of-month", "month", "day-of-week"]
    for field, text in zip(names, parts):
        for item in text.split(","):
            base, slash, step = item.partition("/")
            if not slash or not step.isdigit():
                continue
            low, high = _RANGES[field]
            if "-" in base:
                first, _, last = base.partition("-")
                low, high = _number(field, first, low), _number(field, last, high)
            elif base != "*":
                low = _number(field, base, low)
            if int(step) > high - low + 1:
                raise ValueError(f"{field}: step {step} is larger than the range {low}-{high} it steps over, so it "
                                 f"would fire only at {low} in {shown!r}")


def _number(field: str, text: str, default: int) -> int:
    words = _NAMES.get(field, [])
    if text.lower() in words:
        return words.index(text.lower()) + (1 if field == "month" else 0)
    return int(text) if text.isdigit() else default


_ACCEPTS = {"second": "0-59", "minute": "0-59", "hour": "0-23", "day-of-month": "1-31",
            "month": "1-12 or jan-dec", "day-of-week": "0-7 (0 and 7 are Sunday) or sun-sat"}


def _cron_problem(message: str, parts: list[str]) -> str:
    """cronsim's "Bad minute" as a reader can act on: which field, what it holds, what it accepts."""
    text = message.rstrip(".").lower()
    if "day-of-month" in text and len(parts) >= 5:
        day, month = parts[-3], parts[-2]
        if day.isdigit() and month.isdigit():
            return f"never fires: day {day} does not occur in month {month}"
    names = (["second"] if len(parts) == 6 else []) + ["minute", "hour", "day-of-month", "month", "day-of-week"]
    field = text.removeprefix("bad ").strip()
    if field in names:
        return (f"{field} {parts[names.index(field)]!r} is not valid: it takes {_ACCEPTS[field]} "
                f"(values, ranges a-b, lists a,b, steps */n)")
    return text


_ORDINALS = {"second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9}
_CYCLE = {"second": ("minute", 60), "minute": ("hour", 60), "hour": ("day", 24)}
_STEP = re.compile(r"\b([Ee])very (second|third|fourth|fifth|sixth|seventh|eighth|ninth|\d+th) (second|minute|hour)\b"
                   r"( of every (?:minute|hour))?")


def plain_steps(text: str) -> str:
    """cronsim's "Every second minute of every hour" (*/2) as a person says it: "Every 2 minutes". A step that
    does not divide its cycle keeps cronsim's words: */7 fires at :56 and then :00, not every 7 minutes."""
    def step(match: re.Match) -> str:
        first, nth, unit, of_every = match.groups()
        n = _ORDINALS.get(nth) or int(nth[:-2])
        outer, cycle = _CYCLE[unit]
        if cycle % n:
            return match[0]
        rest = "" if of_every in (None, f" of every {outer}") else of_every
        return f"{first}very {n} {unit}s{rest}"
    return _STEP.sub(step, text)


def human_duration(seconds: float) -> str:
    """90 -> "1m30s", 0.25 -> "250ms"."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    if seconds < 10 and seconds != int(seconds):
        return f"{seconds:.1f}s"
    total = int(round(seconds))
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            out += f"{total // size}{unit}"
            total %= size
    return out or "0s"


def to_local(instant: datetime, tz: str) -> datetime:
    return instant.astimezone(ZoneInfo(tz))


__all__ = ["Schedule", "parse_schedule", "human_duration", "to_local", "UTC"]
