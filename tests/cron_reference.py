"""A model of Debian's cron main loop (cron.c, 3.0pl1-162): the instants it runs each line, worked out minute
by minute on a simulated clock. An oracle that shares nothing with cronsim or panda-tui's schedule.

Every real minute cron wakes, reads the wall clock in minutes (`clockTime`, local time as minutes since the
epoch) and compares it with `virtualTime`, the minute it has handled last:
- one minute on: every line matching that minute runs;
- 2-5 minutes on (it woke late): every line, for each minute missed;
- 6 minutes to 3 hours on (the clock jumped forward: DST begins): wildcard lines for the new minute once,
  fixed-time lines for every minute skipped, all at once;
- up to 3 hours back (DST ends): wildcard lines only, at the wall minute; fixed-time lines wait until the
  clock passes the minute handled last, so they do not run twice;
- anything else: a clock correction, the new minute is taken as it is.
A wildcard line has "*" at the start of its minute or hour field (@hourly too).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from panda_tui.migrate.cronfields import Field, fixed_time, matches, parse_fields

ALIASES = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
           "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


def fields_of(when: str) -> list[Field]:
    return parse_fields(ALIASES.get(when, when).split())


def cron_runs(lines: list[list[Field]], zone: str, start: datetime, end: datetime) -> list[list[datetime]]:
    """For each line, the UTC instants Debian's cron runs it in (start, end], repeats included."""
    tz = ZoneInfo(zone)
    wild = [not fixed_time(fields) for fields in lines]
    out: list[list[datetime]] = [[] for _ in lines]

    def wall(t: datetime) -> int:
        return int((t.timestamp() + t.astimezone(tz).utcoffset().total_seconds()) // 60)

    def find(minute: int, now: datetime, do_wild: bool, do_fixed: bool) -> None:
        tm = time.gmtime(minute * 60)
        for i, fields in enumerate(lines):
            if (wild[i] and do_wild or not wild[i] and do_fixed) and matches(
                    fields, tm.tm_min, tm.tm_hour, tm.tm_mday, tm.tm_mon, (tm.tm_wday + 1) % 7):
                out[i].append(now)

    t = start.astimezone(timezone.utc).replace(second=0, microsecond=0)
    virtual = wall(t)
    while t < end:
        t += timedelta(minutes=1)
        running = wall(t)
        diff = running - virtual
        if diff == 1:
            virtual = running
            find(virtual, t, True, True)
        elif 0 < diff <= 5:
            for minute in range(virtual + 1, running + 1):
                find(minute, t, True, True)
            virtual = running
        elif 5 < diff <= 180:
            find(running, t, True, False)
            for minute in range(virtual + 1, running + 1):
                find(minute, t, False, True)
            virtual = running
        elif -180 < diff <= 0:
            find(running, t, True, False)
        else:
            virtual = running
            find(running, t, True, True)
    return out
