"""Fire times, with DST as cron users expect (Debian/Vixie semantics), on fixed instants."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from panda_tui.schedule import parse_schedule

UTC = timezone.utc


def local_fires(expr: str, tz: str, start_local: str, count: int) -> list[str]:
    zone = ZoneInfo(tz)
    start = datetime.fromisoformat(start_local).replace(tzinfo=zone)
    return [t.astimezone(zone).isoformat() for t in parse_schedule(expr, tz).next_after(start, count)]


@pytest.mark.parametrize("tz, spring_day", [
    ("America/New_York", "2026-03-08"), ("Europe/London", "2026-03-29"), ("Europe/Berlin", "2026-03-29"),
])
def test_fixed_time_in_spring_gap_runs_once_at_the_jump(tz, spring_day):
    # 02:30 (New York, Berlin) / 01:30 (London) does not exist that night.
    hour = 1 if tz == "Europe/London" else 2
    fires = local_fires(f"30 {hour} * * *", tz, f"{spring_day}T00:00", 2)
    jump = f"{spring_day}T0{hour + 1}:00:00"
    assert fires[0].startswith(jump)
    assert fires[1].startswith(f"{spring_day[:8]}{int(spring_day[8:]) + 1:02d}T0{hour}:30")


@pytest.mark.parametrize("tz, fall_day, hour", [
    ("America/New_York", "2026-11-01", 1), ("Europe/London", "2026-10-25", 1), ("Europe/Berlin", "2026-10-25", 2),
])
def test_fixed_time_in_fall_back_runs_once_not_twice(tz, fall_day, hour):
    fires = local_fires(f"30 {hour} * * *", tz, f"{fall_day}T00:00", 2)
    assert fires[0].startswith(f"{fall_day}T0{hour}:30")
    assert not fires[1].startswith(fall_day), fires  # the repeated hour does not fire again


def test_croniter_style_double_fire_guarded_berlin():
    fires = local_fires("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00", 3)
    assert fires == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00", "2026-10-27T02:30:00+01:00"]


def test_wildcard_hour_fires_in_both_repeated_hours():
    fires = local_fires("*/30 * * * *", "Europe/Berlin", "2026-10-25T01:45", 5)
    assert fires == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00",
                     "2026-10-25T02:00:00+01:00", "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00"]


def test_wildcard_hour_follows_real_time_across_the_gap():
    fires = local_fires("*/30 * * * *", "America/New_York", "2026-03-08T01:15", 3)
    assert fires == ["2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"]


def test_lord_howe_half_hour_shift():
    # Spring: 02:00 -> 02:30 on 2026-10-04; fall: 02:00 -> 01:30 on 2026-04-05.
    assert local_fires("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00", 2) == [
        "2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"]
    assert local_fires("45 1 * * *", "Australia/Lord_Howe", "2026-04-04T12:00", 2) == [
        "2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"]
    every15 = local_fires("*/15 * * * *", "Australia/Lord_Howe", "2026-04-05T01:40", 4)
    assert every15 == ["2026-04-05T01:45:00+11:00", "2026-04-05T01:30:00+10:30",
                       "2026-04-05T01:45:00+10:30", "2026-04-05T02:00:00+10:30"]


def test_seconds_field_comes_first():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    fires = parse_schedule("15 */10 * * * *").next_after(start, 2)
    assert [t.isoformat() for t in fires] == ["2026-01-01T00:00:15+00:00", "2026-01-01T00:10:15+00:00"]


def test_every_is_aligned_to_the_epoch_and_strictly_after():
    start = datetime(2026, 1, 1, 0, 0, 7, tzinfo=UTC)
    fires = parse_schedule("@every 30s").next_after(start, 2)
    assert [t.isoformat() for t in fires] == ["2026-01-01T00:00:30+00:00", "2026-01-01T00:01:00+00:00"]
    assert parse_schedule("@every 30s").next_after(fires[0], 1)[0] == fires[1]


@pytest.mark.parametrize("alias, first", [("@hourly", "01:00"), ("@daily", "2026-01-02T00:00")])
def test_aliases(alias, first):
    fire = parse_schedule(alias).next_after(datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC))[0]
    assert first in fire.isoformat()


def test_agrees_with_croniter_away_from_dst():
    croniter = pytest.importorskip("croniter").croniter
    start = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    for expr in ["*/7 * * * *", "0 9 * * 1-5", "15 3 1,15 * *", "0 0 * * 0", "5 4 * 2 *"]:
        ours = [t.timestamp() for t in parse_schedule(expr).next_after(start, 20)]
        it = croniter(expr, start)
        assert ours == [it.get_next(float) for _ in range(20)], expr


def test_cli_next_in_the_jobs_time_zone(write_toml, cli):
    path = write_toml("""
        [jobs.b]
        schedule = "30 2 * * *"
        timezone = "Europe/Berlin"
        command = "true"
        [jobs.s]
        schedule = "*/20 * * * * *"
        command = "true"
        [jobs.e]
        schedule = "@every 90s"
        command = "true"
    """)
    out = cli("next", "b", "--config", path, "--count", "2", "--after", "2026-03-28T12:00:00+01:00").stdout
    assert out.split() == ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]
    out = cli("next", "s", "--config", path, "-n", "2", "--after", "2026-01-01T00:00:00Z").stdout
    assert out.split() == ["2026-01-01T00:00:20Z", "2026-01-01T00:00:40Z"]
    out = cli("next", "e", "--config", path, "-n", "1", "--after", "2026-01-01T00:00:00Z").stdout
    assert out.split() == ["2026-01-01T00:01:30Z"]
    bad = cli("next", "nope", "--config", path)
    assert bad.returncode == 2 and 'no job named "nope"' in bad.stderr


def test_a_wildcard_hour_line_keeps_its_fires_across_lord_howes_half_hour_change():
    """cronsim steps whole hours and lands on :30 after a half-hour jump, missing 03:18; we do not."""
    from zoneinfo import ZoneInfo
    tz = ZoneInfo("Australia/Lord_Howe")
    start = datetime(2026, 10, 4, 0, 0, tzinfo=tz).astimezone(timezone.utc)  # 02:00 becomes 02:30 that night
    fires = [t.astimezone(tz).strftime("%H:%M%z") for t in parse_schedule("18 */3 * * *", "Australia/Lord_Howe")
             .next_after(start, 3)]
    assert fires == ["00:18+1030", "03:18+1100", "06:18+1100"]
    back = datetime(2026, 4, 5, 1, 0, tzinfo=tz).astimezone(timezone.utc)  # 02:00 becomes 01:30
    first = parse_schedule("* 2 * * *", "Australia/Lord_Howe").next_after(back, 1)[0]
    assert first.astimezone(tz).strftime("%H:%M%z") == "02:00+1030"


@pytest.mark.parametrize("expr, words", [
    ("*/2 * * * *", "Every 2 minutes (UTC)"),  # cronsim: "Every second minute of every hour"
    ("*/5 * * * *", "Every 5 minutes (UTC)"),
    ("*/15 * * * *", "Every 15 minutes (UTC)"),
    ("0 */2 * * *", "At minute 0 past every 2 hours (UTC)"),
    ("*/10 * * * * *", "Every 10 seconds (UTC)"),
    ("*/2 * * * 1-5", "Every 2 minutes on Monday through Friday (UTC)"),
    ("*/7 * * * *", "Every seventh minute of every hour (UTC)"),  # :56 then :00: not every 7 minutes
    ("0 */5 * * *", "At minute 0 past every fifth hour (UTC)"),
])
def test_a_step_reads_as_a_person_says_it(expr, words):
    assert parse_schedule(expr).explain() == words
