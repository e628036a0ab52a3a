"""Where Debian's cron and panda-tui part ways on a daylight-saving day.

When the clock jumps forward, Debian's cron runs a fixed-time job once for every skipped minute it matches,
and for the minute it lands on, all at the jump (cron.c, "DST begins"); panda-tui (like cronsim) runs it
once. So "0,30 2 * * *" runs twice at 03:00 under cron on the spring day in Europe/Berlin, and once under
panda-tui. Everything else
(one skipped match, the repeated hour in autumn, wildcard jobs) is the same, and the import warns only here.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from panda_tui.migrate.cronfields import Field, fixed_time, matches


def gaps(zone: str, start: datetime, days: int = 366) -> tuple[tuple[datetime, datetime], ...]:
    """The wall-clock intervals [from, to) skipped by jumps forward within `days` from `start`: worked out
    once per zone and hour, not once per crontab line."""
    return _gaps(zone, start.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0), days)


def _offset(t: datetime, tz: ZoneInfo) -> timedelta:
    """The zone's UTC offset at an aware instant (a ZoneInfo always has one)."""
    return t.astimezone(tz).utcoffset() or timedelta(0)


@functools.lru_cache(maxsize=64)
def _gaps(zone: str, t: datetime, days: int) -> tuple[tuple[datetime, datetime], ...]:
    tz = ZoneInfo(zone)
    out = []
    end = t + timedelta(days=days)
    before = _offset(t, tz)
    while t < end:
        nxt = t + timedelta(hours=1)
        after = _offset(nxt, tz)
        if after > before:
            low, high = t, nxt  # find the minute of the jump
            while high - low > timedelta(minutes=1):
                mid = low + (high - low) / 2
                mid = mid.replace(second=0, microsecond=0)
                if _offset(mid, tz) == before:
                    low = mid
                else:
                    high = mid
            wall = (high + before).replace(tzinfo=None)
            out.append((wall, wall + (after - before)))
        before = after
        t = nxt
    return tuple(out)


def extra_runs(fields: list[Field], zone: str, start: datetime) -> list[tuple[datetime, int]]:
    """(skipped interval start, how many times cron runs the line at the jump) where that is more than once."""
    if not fixed_time(fields):
        return []
    out = []
    for low, high in gaps(zone, start):
        count = 0
        wall = low
        while wall <= high:  # the skipped minutes, and the one the clock lands on
            if matches(fields, wall.minute, wall.hour, wall.day, wall.month, (wall.weekday() + 1) % 7):
                count += 1
            wall += timedelta(minutes=1)
        if count > 1:
            out.append((low, count))
    return out
