"""The timing rules of alerts, as pure functions on the injected clock."""

from __future__ import annotations

from panda_tui.alerts import rules
from panda_tui.config.model import Maintenance
from panda_tui.schedule import parse_schedule
from panda_tui.store.acks import Ack
from panda_tui.store.verdicts import Flaps, flaps
from tests.clocks import FakeClock

T0 = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
B, G = True, False  # a bad run, a good one (newest first)


def test_after_alerts_first_at_the_nth_bad_run_in_a_row():
    assert [rules.trouble_alerts(rules.streak([B] * n + [G, B]), 3, None, T0, 3600) for n in (1, 2, 3, 4)] == [
        False, False, True, True]
    assert rules.streak([G, B, B]) == 0 and rules.streak([]) == 0


def test_repeat_after_counts_from_the_last_alert():
    clock = FakeClock(T0)
    last = clock.now()
    clock.advance(3599)
    assert not rules.trouble_alerts(5, 3, last, clock.now(), 3600)
    clock.advance(1)
    assert rules.trouble_alerts(5, 3, last, clock.now(), 3600)


def test_recovery_is_said_only_after_a_streak_that_alerted():
    assert rules.recovery_alerts(3, after=3) and not rules.recovery_alerts(2, after=3)


def test_flapping_is_three_failures_and_three_flips_in_the_last_ten_verdicts():
    F, S, K, M = "failed", "succeeded", "killed", "missed"
    assert flaps([S, F, S, F, F, F]).flapping  # the console called this flapping; alerts (4 flips) did not
    assert not flaps([S, K, S, K, S]).flapping  # alerts called kills failures; a kill is no verdict
    assert flaps([F, S, F, S, F]).flapping
    assert not flaps([S, F, S, F]).flapping  # two failures
    assert not flaps([S, F, F, F, F, F]).flapping  # one streak, then a success: a recovery
    assert not flaps([S] * 10 + [F, S, F, S, F]).flapping  # the flips are older than the window
    assert flaps([S, M, F, M, S, F, S, "timed_out"]) == Flaps(failed=3, finished=6, flips=5)  # missed: passed over


def test_group_wait_releases_a_whole_group_at_once():
    clock = FakeClock(T0)
    first = rules.release_at(None, clock.now(), 30)
    clock.advance(10)
    assert rules.release_at(first, clock.now(), 30) == first == T0 + 30
    clock.advance(25)  # the group went out at T0 + 30: a new one starts
    assert rules.release_at(first, clock.now(), 30) == clock.now() + 30


def test_a_cron_window_is_open_for_its_duration_and_for_its_jobs_only():
    nightly = Maintenance("backup window", schedule=parse_schedule("0 2 * * *"), duration=7200, jobs=("db",))
    two_am = T0 - 8 * 3600 + 2 * 3600  # 2027-01-15 02:00 UTC
    clock = FakeClock(two_am - 1)
    assert rules.window_at([nightly], "db", clock.now()) is None
    clock.advance(1)
    opened = rules.window_at([nightly], "db", clock.now())
    assert opened is not None and opened.end == two_am + 7200 and opened.window is nightly
    assert rules.window_at([nightly], "web", clock.now()) is None
    clock.advance(7199)
    assert rules.window_at([nightly], "db", clock.now()) is not None
    clock.advance(1)
    assert rules.window_at([nightly], "db", clock.now()) is None


def test_a_start_end_window_for_all_jobs():
    once = Maintenance("migration", start=T0, end=T0 + 600, during="drop")
    assert rules.window_at([once], "any", T0 - 1) is None
    assert rules.window_at([once], "any", T0).end == T0 + 600
    assert rules.window_at([once], "any", T0 + 600) is None


def test_an_ack_silences_until_recovery_or_expiry():
    clock = FakeClock(T0)
    timed = Ack("db", "ana@host", clock.now(), until=clock.now() + 7200)
    open_ended = Ack("db", "ana@host", clock.now())
    assert rules.ack_silences(timed, clock.now(), last_success_at=T0 - 3600)
    assert rules.ack_silences(timed, clock.now(), last_success_at=T0 + 60)  # a time holds through a success
    assert rules.ack_silences(timed, clock.now(), T0 + 60, alerted=False)  # and a new streak's first alert
    assert not rules.ack_silences(open_ended, clock.now(), T0 - 3600, alerted=False)  # only its streak's reminders
    clock.advance(7200)
    assert not rules.ack_silences(timed, clock.now(), last_success_at=T0 - 3600)
    assert rules.ack_silences(open_ended, clock.now(), last_success_at=T0 - 3600)
    assert not rules.ack_silences(open_ended, clock.now(), last_success_at=T0 + 60)  # it recovered since
    assert not rules.ack_silences(None, clock.now(), None)


def test_bad_noise_settings_name_file_window_and_field():
    import pytest as _pytest

    from panda_tui.config import ConfigError, build_config
    data = {"jobs": {"a": {"schedule": "@daily", "command": "true", "after": 0}},
            "maintenance": [{"schedule": "0 2 * * *"}, {"start": 5, "jobs": ["nope"], "during": "later"}]}
    with _pytest.raises(ConfigError) as caught:
        build_config(data, "/x/jobs.toml")
    assert caught.value.errors == [
        'jobs.toml: job "a": after: expected a whole number from 1 to 1000, got 0',
        'jobs.toml: [[maintenance]] "maintenance 1": duration: missing (a schedule opens the window for this long, e.g. "2h")',
        'jobs.toml: [[maintenance]] "maintenance 2": during: expected one of hold | drop, got \'later\'',
        'jobs.toml: [[maintenance]] "maintenance 2": end: missing (a window needs both)',
        'jobs.toml: [[maintenance]] "maintenance 2": jobs: no job named "nope"',
    ]


def test_a_password_written_into_an_alert_url_is_warned_about():
    from panda_tui.config import build_config
    job = {"schedule": "@daily", "command": "true", "alerts": ["mail", "safe"]}
    config = build_config({"jobs": {"a": job}, "alerts": {
        "mail": {"url": "mailtos://ops:hunter22@smtp.example.com?to=oncall@example.com"},
        "safe": {"url": "mailtos://ops:${secret:SMTP_PASSWORD}@smtp.example.com?to=oncall@example.com"}}},
        "/x/jobs.toml")
    assert config.warnings == ('jobs.toml: alert "mail": url: holds a password; put it in the secrets file and '
                               "write ${secret:NAME} in its place",)


def test_readers_of_a_config_with_an_apprise_target_do_not_load_apprise(tmp_path):
    import subprocess
    import sys
    path = tmp_path / "jobs.toml"
    path.write_text('[alerts.m]\nurl = "ntfy://127.0.0.1/topic"\n'
                    '[jobs.a]\nschedule = "@daily"\ncommand = "true"\nalerts = ["m"]\n')
    code = ("import sys; from panda_tui.config import load_config;"
            f"c = load_config({str(path)!r}, channels=False); assert c.alerts['m'].apprise;"
            "print('apprise' in sys.modules); load_config(" + repr(str(path)) + "); print('apprise' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]  # the console and status show it; the scheduler and validate check it
