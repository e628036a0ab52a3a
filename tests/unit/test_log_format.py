"""Which stored lines are errors, and how a line reads on screen."""

from __future__ import annotations

import pytest

from panda_tui.store.logs import LogLine
from panda_tui.tui.log_format import is_error, render


def line(text: str, stream: str = "out") -> LogLine:
    return LogLine(1, 1, 0.0, stream, text)


@pytest.mark.parametrize("text, stream, expected", [
    ("anything at all", "err", True),
    ('{"level": "error", "msg": "boom"}', "out", True),
    ('{"severity": "CRITICAL", "message": "disk"}', "out", True),
    ('{"level": "info", "msg": "an error count of 0"}', "out", False),  # structured: the level decides
    ("Traceback (most recent call last):", "out", True),
    ("backup failed: timeout", "out", False),  # a level is stated (ERROR, error:, level=error), not guessed
    ("backup FAILED with ERROR 3", "out", True),
    ("request timed out", "out", False),
    ("errorless operation", "out", False),  # whole words only
    ("all good", "out", False),
    ("[panda] killed: killed on request", "sys", False),
])
def test_is_error(text, stream, expected):
    assert is_error(line(text, stream)) is expected


def test_json_lines_read_as_level_message_and_fields_and_marks_show_the_stream():
    assert render(line('{"level": "warn", "msg": "slow", "ms": 900}')) == "  WARN  slow  ms=900"
    assert render(line("oops", "err")) == "! oops"
    assert render(line("\x1b[2Jhi", "sys")) == "# \\x1b[2Jhi"
    assert render(line('{"level": "warn", "msg": "slow"}'), raw=True) == '  {"level": "warn", "msg": "slow"}'


def test_a_json_error_line_reads_the_same_in_the_pane_and_in_the_detail_line():
    """The detail line's error line was the raw JSON while the pane read `ERROR upstream refused  code=503`."""
    from panda_tui.readmodel.facts import Failure
    from panda_tui.readmodel.health import HealthState, JobHealth
    from panda_tui.tui.widgets.trend_bar import TrendBar
    raw = '{"level": "error", "msg": "upstream refused", "code": 503}'
    failure = Failure(run_id=7, status="failed", at=0.0, line=raw, from_log=True, seq=2)
    health = JobHealth("api", HealthState.FAILING, False, None, None, 1.0, 1.0, None, last_bad=True,
                       last_failure=failure)
    shown = TrendBar().error_line(health)
    assert shown is not None
    assert shown.plain == "✗ run 7 line 2: " + render(line(raw)).removeprefix("  ")
    assert shown.plain.endswith("ERROR upstream refused  code=503")
