"""How times, lateness and statuses read wherever a person reads them: one rule each (text.py), which the
console's history and `executions` both use."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from panda_tui.text import late, status_word, when


@pytest.fixture(autouse=True)
def utc(local_zone):
    local_zone("UTC")


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def test_a_time_reads_as_the_clock_today_as_month_and_day_before_and_with_the_year_for_another_year():
    now = at("2026-12-02T16:50:00")
    assert when(at("2026-12-02T16:45:40"), now) == "16:45:40"
    assert when(at("2026-12-02T00:00:01"), now) == "00:00:01"
    assert when(at("2026-12-01T16:45:40"), now) == "Dec 01 16:45"  # not `01 16:45:40`: a day needs its month
    assert when(at("2026-01-31T23:59:59"), now) == "Jan 31 23:59"
    assert when(at("2025-12-24T08:00:00"), now) == "Dec 24 2025"


def test_a_time_is_read_in_the_local_zone(local_zone):
    local_zone("Asia/Tokyo")  # UTC+9: 16:45 UTC is 01:45 the next day there
    now = at("2026-12-02T16:50:00")
    assert when(at("2026-12-02T16:45:40"), now) == "01:45:40"
    assert when(at("2026-12-01T16:45:40"), now) == "Dec 02 01:45"


def test_lateness_is_short_and_human_in_one_unit_rule():
    assert [late(s) for s in (0.005, 0.25, 1.23, 42.0, 180.0, 185.0)] == ["5ms", "250ms", "1.2s", "42.0s", "3m",
                                                                         "3m5s"]
    assert late(-0.002) == "0ms"  # a clock step is not an early start
    assert late(None) == "" and late(None, "–") == "–"


def test_a_status_reads_as_one_word_and_its_stored_value_stays():
    assert status_word("timed_out") == "timeout"
    assert status_word("failed") == "failed"
    assert status_word("succeeded") == "succeeded" and status_word("succeeded", short=True) == "ok"
    assert status_word("timed_out", short=True) == "timeout"


def test_a_stored_reason_s_stretch_of_time_reads_short_after_the_reason():
    """New-user test: the history's REASON was cut in the date (`scheduler down from 2026-12-…`)."""
    from panda_tui.text import short_spans
    now = at("2026-12-02T16:50:00")
    down = "scheduler down from 2026-12-02T01:10:00Z to 2026-12-02T03:00:00Z; catchup = none"
    assert short_spans(down, now) == "scheduler down 01:10–03:00; catchup = none"
    assert short_spans(down.replace("12-02T01", "11-30T01").replace("12-02T03", "11-30T03"), now) == \
        "scheduler down Nov 30 01:10–03:00; catchup = none"
    assert short_spans(down.replace("12-02T01", "12-01T23"), now) == \
        "scheduler down Dec 01 23:10–Dec 02 03:00; catchup = none"  # across midnight: both days
    assert short_spans("exit 3", now) == "exit 3"
    other_day = down.replace("12-02T01", "11-30T01").replace("12-02T03", "11-30T03")
    assert short_spans(other_day, now, known=at("2026-11-30T02:00:00")) == "scheduler down 01:10–03:00; catchup = none"


def test_a_stretch_within_one_minute_reads_to_the_second():
    """New-user test: a 15 s missed stretch read `03:59–03:59`."""
    from panda_tui.text import short_spans
    down = "scheduler down from 2026-12-02T03:59:10Z to 2026-12-02T03:59:25Z; catchup = none"
    assert short_spans(down, at("2026-12-02T16:50:00")) == "scheduler down 03:59:10–03:59:25; catchup = none"
    assert short_spans(down.replace("03:59:25", "04:00:20"), at("2026-12-02T16:50:00")).startswith(
        "scheduler down 03:59–04:00;")  # a minute apart: to the minute


def test_a_stretch_under_a_minute_across_two_minutes_reads_to_the_second():
    """New-user test: two missed slots 10 s apart read `07:57–07:58`, as if a minute lay between them."""
    from panda_tui.text import span
    now = at("2026-12-02T16:50:00")
    assert span(at("2026-12-02T07:57:50"), at("2026-12-02T07:58:00"), now) == "07:57:50–07:58:00"
    assert span(at("2026-12-02T03:59:10"), at("2026-12-02T04:00:05"), now) == "03:59:10–04:00:05"
    assert span(at("2026-12-01T23:59:50"), at("2026-12-02T00:00:05"), now) == "Dec 01 23:59:50–Dec 02 00:00:05"


def test_the_readme_s_legend_is_the_glyph_table_and_a_kill_is_drawn_apart_from_a_failure():
    """New-user test: a kill was drawn `×` in a sparkline, beside failures drawn `✗` everywhere else. README's
    legend gives every run status and job state the glyph the console and `status` draw."""
    import re
    from pathlib import Path

    from panda_tui.readmodel.health import HealthState
    from panda_tui.store.ledger import RunStatus
    from panda_tui.text import GLYPHS, STATUS_WORDS
    readme = Path(__file__).resolve().parents[2].joinpath("README.md").read_text()
    legend = readme.split("- **Marks**:", 1)[1].split("\n- ", 1)[0].split("With `--ascii`")[0]
    pairs = dict((word, mark) for mark, word in re.findall(r"`(\S) ([a-z]+)`", legend))
    words = ({STATUS_WORDS.get(s, s) for s in map(str, RunStatus)} | set(map(str, HealthState))) - {"succeeded"}
    assert words <= set(pairs), words - set(pairs)
    shown = {word: GLYPHS["timed_out" if word == "timeout" else word] for word in pairs}
    assert pairs == shown
    assert len({GLYPHS["failed"], GLYPHS["killed"], "×"}) == 3


def test_a_sparkline_draws_a_failure_and_a_kill_with_their_own_glyphs():
    from panda_tui.tui.marks import Marks
    from panda_tui.tui.widgets.sparkline_text import sparkline
    drawn = sparkline([(1.0, "succeeded"), (1.0, "failed"), (1.0, "killed"), (2.0, "timed_out")], marks=Marks())
    assert drawn.plain[1:] == "✗⊘✗" and drawn.plain[0] in Marks().bars
    assert sparkline([(1.0, "failed"), (1.0, "killed")], marks=Marks(ascii=True)).plain == "XK"


def test_a_reason_that_begins_with_its_status_word_says_it_once():
    """New-user test: a killed run read `killed: killed on request`."""
    from panda_tui.text import said_once
    assert said_once("killed", "killed on request") == ("killed on request", None)
    assert said_once("killed", "replaced by run 12") == ("killed", "replaced by run 12")
    assert said_once("timeout", "timed out after 5s") == ("timeout", "timed out after 5s")
    assert said_once("ok", None) == ("ok", None)
