"""A job's health at a glance, from the ledger: what counts as failing, what NEXT and LAST say."""

from __future__ import annotations

import pytest

from panda_tui.config import build_config
from panda_tui.readmodel.health import URGENCY, HealthState, all_health
from panda_tui.readmodel.status import Status, job_json
from panda_tui.store.db import Database
from panda_tui.store.ledger import Ledger, RunStatus

NOW = 1_800_000_000.0  # a fixed instant: every age below is relative to it


@pytest.fixture
def ledger(tmp_path):
    db = Database(str(tmp_path / "panda.db"))
    yield Ledger(db)
    db.conn.close()


def config(retries: int = 0):
    return build_config({"jobs": {"j": {"schedule": "0 * * * *", "command": "true", "retries": retries}}}, "jobs.toml")


def ran(ledger: Ledger, status: RunStatus, at: float, **how) -> None:
    run = ledger.insert("j", at, trigger="schedule", now=at)
    ledger.start(run.id, at)
    ledger.finish(run.id, status, at + 1, **how)


def health(ledger: Ledger, retries: int = 0):
    [h] = all_health(ledger.conn, config(retries), NOW)
    return h


@pytest.mark.parametrize("before, state", [(RunStatus.SUCCEEDED, "ok"), (RunStatus.FAILED, "failing")])
def test_a_run_killed_on_purpose_leaves_the_verdict_to_the_run_before(ledger, before, state):
    ran(ledger, before, NOW - 7200, exit_code=0 if before == RunStatus.SUCCEEDED else 1)
    ran(ledger, RunStatus.KILLED, NOW - 3600, reason="killed on request")
    h = health(ledger)
    assert (h.state, h.last_bad, h.last.status) == (state, state == "failing", "killed")
    assert h.failure_rate == (1.0 if state == "failing" else 0.0)  # the kill is not counted as a failure
    assert Status(holder="x", docker_hosts={}, jobs=[h], lease=object()).trouble is (state == "failing")


def test_a_run_queued_for_later_is_the_next_not_the_last(ledger):
    ran(ledger, RunStatus.SUCCEEDED, NOW - 7200, exit_code=0)
    ledger.insert("j", NOW + 40, trigger="manual", now=NOW, not_before=NOW + 40)  # as `trigger --at` 40 s ahead
    h = health(ledger)
    assert h.next_at == NOW + 40  # before the schedule's next slot, at the top of the hour
    assert (h.last.status, h.state) == ("succeeded", "ok")


def test_a_job_whose_every_run_was_killed_says_killed_not_new(ledger):
    assert health(ledger).state == "new"
    ran(ledger, RunStatus.KILLED, NOW - 3600, reason="killed on request")
    h = health(ledger)
    assert (h.state, h.last_bad, h.failure_rate) == ("killed", False, None)  # it ran; no verdict on it


def test_a_job_s_state_is_one_word_of_one_vocabulary_that_sorts_and_shows(ledger):
    from panda_tui.text import GLYPHS
    from panda_tui.tui.marks import COLOUR, PLAIN
    assert isinstance(health(ledger).state, HealthState)
    ran(ledger, RunStatus.FAILED, NOW - 3600, exit_code=1)
    assert health(ledger).state is HealthState.FAILING
    for state in HealthState:  # every state sorts, has a glyph, and a style with colour and without
        assert state in URGENCY and state.value in GLYPHS and state.value in COLOUR and state.value in PLAIN


def write_log(ledger: Ledger, run_id: int, lines: list[tuple[str, str]]) -> None:
    with ledger.db.transaction() as conn:
        conn.executemany("INSERT INTO logs(run_id, seq, ts, stream, text) VALUES (?, ?, 0, ?, ?)",
                         [(run_id, n + 1, stream, text) for n, (stream, text) in enumerate(lines)])
        conn.execute("UPDATE runs SET log_lines=? WHERE id=?", (len(lines), run_id))


def last_run_id(ledger: Ledger) -> int:
    return ledger.conn.execute("SELECT MAX(id) FROM runs").fetchone()[0]


def test_the_last_failure_is_its_first_error_line_and_the_last_success_is_when_it_ended(ledger):
    ran(ledger, RunStatus.SUCCEEDED, NOW - 7200, exit_code=0)
    ran(ledger, RunStatus.FAILED, NOW - 3600, exit_code=1, reason="exit 1")
    noise = [("err", f"2026-12-02 03:00:{n % 60:02d},000 INFO app: row {n} errors=0") for n in range(3000)]
    write_log(ledger, last_run_id(ledger), noise + [("err", "2026-12-02 03:59:00,000 ERROR app: disk full"),
                                                   ("err", "Traceback (most recent call last):")])
    h = health(ledger)
    assert h.last_failure.line == "2026-12-02 03:59:00,000 ERROR app: disk full"
    assert (h.last_failure.from_log, h.last_failure.seq) == (True, 3001)
    assert h.last_success_at == NOW - 7200 + 1
    from panda_tui.readmodel.status import job_json
    out = job_json(h)
    assert out["last_failure_line"].endswith("ERROR app: disk full")
    assert out["last_success_at"].startswith("2027-01-15T")



def test_a_timed_out_run_s_first_error_is_its_timeout_not_the_stop_s_terminated(ledger):
    """New-user test: the detail line read `✗ run 14 line 2: Terminated`, the shell's word for the signal that
    stopped it, rather than why it was stopped."""
    ran(ledger, RunStatus.TIMED_OUT, NOW - 3600, exit_code=143, reason="timed out after 5s")
    write_log(ledger, last_run_id(ledger), [("out", "up"), ("err", "Terminated")])
    h = health(ledger)
    assert (h.last_failure.line, h.last_failure.from_log) == ("timed out after 5s", False), h.last_failure

def test_a_run_with_no_log_gives_its_reason_and_a_kill_is_no_failure(ledger):
    lost = ledger.insert("j", NOW - 7200, trigger="schedule", now=NOW - 7200)
    ledger.start(lost.id, NOW - 7200)
    ledger.finish(lost.id, RunStatus.LOST, NOW - 7100, reason="container gone while no scheduler ran")
    ran(ledger, RunStatus.KILLED, NOW - 3600, reason="killed on request")
    h = health(ledger)
    assert (h.last_failure.run_id, h.last_failure.line, h.last_failure.from_log) == (
        lost.id, "container gone while no scheduler ran", False)  # the kill after it is not the failure
    assert h.last_success_at is None


def test_a_job_whose_slots_all_fail_is_failing_even_while_a_retry_waits(ledger):
    ran(ledger, RunStatus.FAILED, NOW - 7200, exit_code=127)  # the slot before: failed for good
    ran(ledger, RunStatus.FAILED, NOW - 3600, exit_code=127)
    ledger.insert("j", NOW - 3600, trigger="retry", now=NOW - 3590, attempt=2, not_before=NOW + 30)
    h = health(ledger)
    assert (h.state, h.failing) == ("failing", True)


def test_a_retry_waiting_is_not_a_failure_and_the_counts_agree(ledger):
    from panda_tui.readmodel.health import failing_count
    from panda_tui.readmodel.snapshot import read_snapshot
    from panda_tui.readmodel.status import read_status, status_json
    ran(ledger, RunStatus.FAILED, NOW - 3600, exit_code=1)
    assert health(ledger).failing
    ledger.insert("j", NOW - 3600, trigger="retry", now=NOW - 3590, attempt=2, not_before=NOW + 30)
    h = health(ledger)
    assert (h.state, h.failing) == ("retrying", False)
    for jobs in ([h], read_snapshot(ledger.conn, config(), NOW).jobs):
        assert failing_count(jobs) == 0
    assert read_snapshot(ledger.conn, config(), NOW).failing == 0
    assert status_json(read_status(ledger.conn, config(), NOW), NOW)["failing"] == 0


def retried(ledger: Ledger, at: float, second: RunStatus = RunStatus.SUCCEEDED) -> None:
    """A slot whose first attempt failed and whose retry ended `second`."""
    ran(ledger, RunStatus.FAILED, at, exit_code=3)
    retry = ledger.insert("j", at, trigger="retry", now=at + 5, attempt=2, not_before=at + 5)
    ledger.start(retry.id, at + 5)
    ledger.finish(retry.id, second, at + 6, exit_code=0 if second == RunStatus.SUCCEEDED else 3)


def test_a_slot_whose_retry_succeeded_is_a_success_not_a_flap(ledger):
    """New-user test: flaky-export (fails one time in three, retried once) went flapping -> retrying ->
    failing -> ok every 20 s, as each failed attempt counted. A slot counts by its final outcome."""
    from panda_tui.readmodel.snapshot import read_trend
    for n in range(8):
        if n % 2:
            retried(ledger, NOW - 36000 + n * 3600)
        else:
            ran(ledger, RunStatus.SUCCEEDED, NOW - 36000 + n * 3600, exit_code=0)
    h = health(ledger, retries=1)
    assert (h.state, h.failure_rate, h.failed_recent) == ("ok", 0.0, (0, 8))
    assert read_trend(ledger.conn, config(1), "j", NOW).failure_rate == 0.0  # the detail line's `fail` too
    retried(ledger, NOW - 1800, second=RunStatus.FAILED)  # a slot whose retry failed too: one failure
    h = health(ledger, retries=1)
    assert (h.state, h.failed_recent, h.failure_rate) == ("failing", (1, 9), 1 / 9)


def test_a_failed_attempt_a_retry_will_follow_is_retrying_before_the_retry_is_queued(ledger):
    """Between the attempt's end and its retry's row (two writes), the job is not failing."""
    ran(ledger, RunStatus.SUCCEEDED, NOW - 7200, exit_code=0)
    ran(ledger, RunStatus.FAILED, NOW - 3600, exit_code=3)
    h = health(ledger, retries=1)
    assert (h.state, h.failing, h.failure_rate) == ("retrying", False, 0.0)  # the slot has no outcome yet
    assert health(ledger, retries=0).state == "failing"  # no attempt left: the control case


def test_three_failures_in_the_last_ten_with_the_newest_ok_is_flapping(ledger):
    for n, status in enumerate([RunStatus.FAILED, RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SUCCEEDED,
                                RunStatus.SUCCEEDED]):
        ran(ledger, status, NOW - 36000 + n * 3600, exit_code=0 if status == RunStatus.SUCCEEDED else 1)
    assert health(ledger).state == "ok"  # 2 of 5: not yet
    ran(ledger, RunStatus.TIMED_OUT, NOW - 14400)
    ran(ledger, RunStatus.SUCCEEDED, NOW - 7200, exit_code=0)
    h = health(ledger)
    assert (h.state, h.words, h.failing) == ("flapping", "flapping 3/7 failed", False)


def test_one_streak_of_failures_then_a_success_is_a_recovery_not_flapping(ledger):
    for n in range(9):
        ran(ledger, RunStatus.FAILED, NOW - 36000 + n * 3600, exit_code=1)
    ran(ledger, RunStatus.SUCCEEDED, NOW - 1800, exit_code=0)
    assert health(ledger).state == "ok"


def test_a_running_job_whose_runs_all_timed_out_says_so(ledger):
    for n in range(7):
        ran(ledger, RunStatus.TIMED_OUT, NOW - 36000 + n * 3600, reason="timed out after 30m")
    run = ledger.insert("j", NOW - 60, trigger="schedule", now=NOW - 60)
    ledger.start(run.id, NOW - 60)
    h = health(ledger)
    assert (h.state, h.words, h.failing) == ("running", "running · timed out 7/7", True)


def test_a_job_only_exec_runs_is_external_not_disabled(ledger):
    run = ledger.insert("cronjob", NOW - 60, trigger="external", now=NOW - 60)
    ledger.start(run.id, NOW - 60)
    ledger.finish(run.id, RunStatus.SUCCEEDED, NOW - 50, exit_code=0)
    from panda_tui.store import state
    with ledger.db.transaction() as conn:
        state.note_outside_job(conn, "cronjob", NOW - 60)
    states = {h.name: h.state for h in all_health(ledger.conn, config(), NOW)}
    assert states["cronjob"] == "external"
    disabled = build_config({"jobs": {"j": {"schedule": "0 * * * *", "command": "true", "enabled": False}}},
                            "jobs.toml")
    assert [h.state for h in all_health(ledger.conn, disabled, NOW) if h.name == "j"] == ["disabled"]


def test_one_job_s_health_reads_its_paused_state_itself(ledger):
    from panda_tui.readmodel.health import job_health
    ran(ledger, RunStatus.SUCCEEDED, NOW - 3600, exit_code=0)
    assert job_health(ledger.conn, config().jobs["j"], NOW).state == "ok"  # no `paused` handed in


def test_status_json_gives_an_engines_check_time_in_iso_8601(ledger):
    """Every time `--json` prints is ISO 8601 UTC: the engines' last check too (it printed epoch seconds)."""
    from panda_tui.readmodel.status import read_status, status_json
    from panda_tui.store import state
    state.put_meta(ledger.conn, "engines", {"local": {"up": False, "error": "refused", "checked_at": NOW}}, NOW)
    engines = status_json(read_status(ledger.conn, config(), NOW), NOW)["engines"]
    assert engines == {"local": {"up": False, "error": "refused", "checked_at": "2027-01-15T08:00:00Z"}}, engines


def test_a_flapping_job_is_counted_alike_by_the_header_status_and_status_json(ledger):
    from panda_tui.cli.read_cmds import summary
    from panda_tui.readmodel.snapshot import read_snapshot
    from panda_tui.readmodel.status import read_status, status_json
    from panda_tui.tui.header_line import parts
    from panda_tui.tui.marks import Marks
    for n, status in enumerate([RunStatus.FAILED, RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SUCCEEDED,
                                RunStatus.TIMED_OUT, RunStatus.SUCCEEDED]):
        ran(ledger, status, NOW - 36000 + n * 3600, exit_code=0 if status == RunStatus.SUCCEEDED else 1)
    assert health(ledger).state == "flapping"
    snap = read_snapshot(ledger.conn, config(), NOW)
    header = [p.long for p in parts(snap, "embedded", NOW, "20:00:00 UTC", Marks(colour=False))]
    assert any(text.endswith("1 flapping") for text in header), header
    assert summary(snap.jobs).endswith("0 missed/24h, 1 flapping")
    assert status_json(read_status(ledger.conn, config(), NOW), NOW)["flapping"] == 1


def test_a_run_killed_on_purpose_is_left_out_of_the_median_and_p95(ledger):
    """New-user test: slow-report showed `median 4.4s` from 5.1 s runs and a 3.8 s run killed on request."""
    from panda_tui.readmodel.snapshot import read_trend
    for n, (status, seconds) in enumerate([(RunStatus.SUCCEEDED, 5.0), (RunStatus.KILLED, 1.0),
                                           (RunStatus.SUCCEEDED, 6.0)]):
        run = ledger.insert("j", NOW - 9000 + n * 3600, trigger="schedule", now=NOW - 9000 + n * 3600)
        ledger.start(run.id, run.scheduled_at)
        ledger.finish(run.id, status, run.scheduled_at + seconds, exit_code=0 if seconds > 1 else 143)
    trend = read_trend(ledger.conn, config(), "j", NOW)
    assert (health(ledger).median_s, trend.median) == (5.5, 5.5)
    assert trend.durations == [5.0, 1.0, 6.0]  # the sparkline still draws it (as ⊘)


def test_a_run_still_running_in_the_ledger_with_no_scheduler_is_said_unwatched_by_the_row_and_header(ledger):
    """kill -9 of the daemon while a run went: the console said `no scheduler` and `▶ 1 running` at once."""
    from panda_tui.readmodel.health import row_words
    from panda_tui.readmodel.snapshot import read_snapshot
    from panda_tui.readmodel.status import read_status
    from panda_tui.store import lease
    from panda_tui.tui.header_line import parts
    from panda_tui.tui.marks import Marks
    run = ledger.insert("j", NOW - 60, trigger="schedule", now=NOW - 60)
    ledger.start(run.id, NOW - 60)

    def shown() -> tuple[list[str], list[str], list[str]]:
        snap = read_snapshot(ledger.conn, config(), NOW)
        header = [p.long for p in parts(snap, "attached", NOW, "20:00:00 UTC", Marks(colour=False))]
        return ([row_words(h) for h in snap.jobs], [row_words(h) for h in read_status(ledger.conn, config(), NOW).jobs],
                [text for text in header if "running" in text])
    rows, status_rows, header = shown()
    assert rows == status_rows == ["unwatched"] and header == ["▶ 1 running (unwatched)"], (rows, header)
    assert [h.words for h in read_snapshot(ledger.conn, config(), NOW).jobs] == ["running (unwatched)"]
    assert lease.claim(ledger.conn, "daemon", NOW) is not None  # a scheduler follows it again
    rows, status_rows, header = shown()
    assert rows == status_rows == ["running"] and header == ["▶ 1 running"], (rows, header)



def test_the_header_keeps_the_unwatched_count_at_80_columns():
    """New-user test: `no scheduler for 16s · 1 failing · 1 flapping · 10:16:15`, the unwatched run dropped
    with the acked count; other words shorten first, and it stays as `1 unwatched`."""
    from panda_tui.readmodel.snapshot import Snapshot
    from panda_tui.tui.header_line import fit, parts
    from panda_tui.tui.marks import Marks
    snap = Snapshot(taken_at=NOW, holder=None, heartbeat_at=NOW - 16, docker_hosts={}, config_errors=[], jobs=[],
                    running=1, failing=1, missed_24h=0, flapping=1, acked=1)
    words = " · ".join(text for text, _ in fit(parts(snap, "attached", NOW, "10:16:15 UTC", Marks(colour=False)), 80))
    assert words == "no scheduler for 16s · 1 failing · 1 unwatched · 1 flapping · 10:16:15", words

def missed(ledger: Ledger, *slots: float) -> None:
    for slot in slots:
        ledger.insert("j", slot, trigger="schedule", now=slot + 30, status=RunStatus.MISSED, reason="scheduler down")


def test_runs_missed_that_no_ack_covers_mark_the_row_missed_even_after_a_success(ledger):
    """New-user test: after a scheduler gap the row read `✓ ok` with MISSED/24H 2 while `status` exited 1."""
    from panda_tui.readmodel.health import missed_count, row_words
    missed(ledger, NOW - 620, NOW - 610)
    ran(ledger, RunStatus.SUCCEEDED, NOW - 600, exit_code=0)
    h = health(ledger)
    assert (h.state, h.shown_mark, row_words(h), h.glyph) == ("ok", "missed", "missed", "!")
    assert h.trouble and missed_count([h]) == 2


def test_an_ack_that_no_longer_covers_the_newest_missed_run_does_not_read_acked(ledger):
    """New-user test: ack, then a new miss: the row read `! acked` while the header counted 1 missed."""
    from panda_tui.readmodel.health import acked_count, missed_count, row_words
    from panda_tui.store import acks
    missed(ledger, NOW - 620, NOW - 610)
    acks.put(ledger.conn, acks.Ack("j", "ann@db1", NOW - 605))
    h = health(ledger)
    assert (h.shown_mark, row_words(h), acked_count([h]), missed_count([h]), h.trouble) == ("missed", "acked", 1, 0, False)
    ran(ledger, RunStatus.SUCCEEDED, NOW - 600, exit_code=0)  # the plain ack ends, still covering those two
    h = health(ledger)  # new-user test: it read `! acked` (counted acked, left out of `acks`) after it ended
    assert (h.shown_mark, row_words(h), acked_count([h]), missed_count([h]), h.trouble) == ("ok", "ok", 0, 0, False)
    assert (job_json(h)["state"], job_json(h)["words"], job_json(h)["acked_by"]) == ("ok", "ok", None)
    missed(ledger, NOW - 300)
    ran(ledger, RunStatus.SUCCEEDED, NOW - 200, exit_code=0)  # its newest slot ran: only the ack's words were left
    h = health(ledger)
    assert (h.shown_mark, row_words(h), acked_count([h]), missed_count([h]), h.trouble) == ("missed", "missed", 0, 1, True)


def test_a_pull_never_job_whose_image_is_missing_reads_no_image_counts_failing_and_can_be_acked(ledger):
    """New-user test: its row read `· new` while the detail line and `status` said every run would fail."""
    from panda_tui.readmodel.health import failing_count, row_words
    from panda_tui.store import state
    from panda_tui.store.acking import acknowledge
    data = {"jobs": {"j": {"schedule": "0 * * * *", "image": "absent:1", "pull": "never", "command": "true"}}}
    state.put_running_config(ledger.conn, "jobs.toml", data, NOW)
    state.put_engines(ledger.conn, {"local": {"up": True, "error": None, "missing": ["absent:1"]}}, NOW)
    [h] = all_health(ledger.conn, build_config(data, "jobs.toml"), NOW)
    assert (h.state, h.glyph, row_words(h), failing_count([h]), h.trouble) == ("new", "✗", "no image", 1, True)
    assert {k: job_json(h)[k] for k in ("state", "words", "failing")} == {"state": "failing", "words": "no image",
                                                                          "failing": True}  # the API as the row
    assert "until its next success" in acknowledge(ledger.conn, "j", {"by": "ann@db1"}, NOW)
    [h] = all_health(ledger.conn, build_config(data, "jobs.toml"), NOW)
    assert (h.glyph, row_words(h), failing_count([h]), h.trouble) == ("✗", "acked", 0, False)
    assert (job_json(h)["state"], job_json(h)["words"]) == ("failing", "acked")  # as README: `acked` in its words
    state.put_engines(ledger.conn, {"local": {"up": True, "error": None, "missing": []}}, NOW)  # loaded
    [h] = all_health(ledger.conn, build_config(data, "jobs.toml"), NOW)
    assert (h.glyph, row_words(h), h.trouble) == ("·", "acked", False)  # its ack holds until its first success


def test_the_list_sorts_by_the_mark_its_rows_show(ledger):
    """A row marked `! missed` sits above the `✓ ok` ones (the list sorted by the state under the mark, so an
    `a`-job ok but for its missed runs sat below a `b`-job that was fine)."""
    cfg = build_config({"jobs": {name: {"schedule": "0 * * * *", "command": "true"} for name in ("a", "b")}},
                       "jobs.toml")
    ledger.insert("b", NOW - 620, trigger="schedule", now=NOW - 610, status=RunStatus.MISSED, reason="scheduler down")
    for name in ("a", "b"):
        run = ledger.insert(name, NOW - 600, trigger="schedule", now=NOW - 600)
        ledger.start(run.id, NOW - 600)
        ledger.finish(run.id, RunStatus.SUCCEEDED, NOW - 599, exit_code=0)
    listed = all_health(ledger.conn, cfg, NOW)
    assert [(h.name, h.shown_mark) for h in listed] == [("b", "missed"), ("a", "ok")]
    assert [(job_json(h)["state"], job_json(h)["words"]) for h in listed] == [("missed", "missed"), ("ok", "ok")]


def test_missed_runs_show_only_over_a_state_with_nothing_of_its_own_to_say(ledger):
    """New-user test: `! missed flaky-export … failed <1m` during its retry wait. The `!` replaces ok, new,
    killed and external; a retrying (or paused) job keeps its mark, and its open missed runs are still trouble."""
    from panda_tui.readmodel.health import row_words
    from panda_tui.store import state
    missed(ledger, NOW - 3700)
    ran(ledger, RunStatus.SUCCEEDED, NOW - 3650, exit_code=0)
    ran(ledger, RunStatus.FAILED, NOW - 600, exit_code=3)
    ledger.insert("j", NOW - 600, trigger="retry", now=NOW - 590, attempt=2, not_before=NOW + 30)
    h = health(ledger, retries=1)
    assert (h.state, h.glyph, row_words(h), job_json(h)["state"], h.trouble) == ("retrying", "↻", "retrying",
                                                                                  "retrying", True)
    state.set_paused(ledger.conn, "j", True, NOW)
    h = health(ledger, retries=1)
    assert (h.shown_mark, row_words(h), h.trouble) == ("paused", "paused", True)
