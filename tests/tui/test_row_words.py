"""What the new-user tests of issues 21 and 22 found left: an acked job's row says so, the job list and the
detail line give one failure rate, and the help's alarms are the ones now, not those of when it opened."""

from __future__ import annotations

import glob
import shutil

from panda_tui.store import acks, lease
from panda_tui.store.ledger import RunStatus
from panda_tui.tui.demo import NOW
from panda_tui.tui.screens.help import HelpScreen
from panda_tui.tui.widgets.trend_bar import TrendBar
from tests.tui.conftest import started, until, write_store as write
from tests.tui.test_answers import demo_app


def own_copy(demo_db: str, tmp_path) -> str:
    """The session's demo store, copied: these tests write to it."""
    for path in glob.glob(demo_db + "*"):
        shutil.copy(path, tmp_path / path.rsplit("/", 1)[-1])
    return str(tmp_path / demo_db.rsplit("/", 1)[-1])


def cell(app, job: str, column: str) -> str:
    jobs = app.main.jobs
    row = jobs.get_row_at(jobs.rows_shown.index(job))
    return str(row[jobs.shown_columns.index(column)])


async def test_an_acknowledged_failing_job_says_so_in_its_row(demo_db, tmp_path):
    db = own_copy(demo_db, tmp_path)
    write(db, lambda conn: acks.put(conn, acks.Ack("db-backup", "ann@db1", NOW - 60, note="on it")))
    app = demo_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        assert cell(app, "db-backup", "STATUS") == "✗ acked"  # whole: `ack, failing` was cut to `ack, fai…`
        assert "TREND" in app.main.jobs.shown_columns  # the mark costs no column at 80
        assert "acked by ann@db1" in app.main.query_one(TrendBar).words


async def test_the_header_counts_an_acked_job_acked_not_failing(demo_db, tmp_path):
    """New-user test: the header said `1 failing` for a job someone acked. It says `1 acked`, after the other
    counts; the job's row still reads `✗ acked`."""
    db = own_copy(demo_db, tmp_path)
    app = demo_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        before = app.main.query_one("#header").words
        assert "1 failing" in before and "acked" not in before  # the control case: db-backup fails
    write(db, lambda conn: acks.put(conn, acks.Ack("db-backup", "ann@db1", NOW - 60, note="on it")))
    app = demo_app(db)
    async with app.run_test(size=(120, 24)) as pilot:
        await started(app, pilot)
        words = app.main.query_one("#header").words
        assert "1 failing" not in words and "0 failing" in words, words
        assert words.index("missed/24h") < words.index("1 acked"), words
        assert cell(app, "db-backup", "STATUS") == "✗ acked"


async def test_the_history_marks_the_failures_an_ack_covers_as_the_job_list_does(demo_db, tmp_path):
    """New-user test: the history pane did not show acks. The failed run the ack covers keeps its own word
    (a later test read `⏱ acked` as a changed fact where `executions` said timeout) and its reason starts with
    `(acked)`; the successes before it keep their words."""
    from panda_tui.tui.widgets.history_table import HistoryTable
    db = own_copy(demo_db, tmp_path)
    write(db, lambda conn: acks.put(conn, acks.Ack("db-backup", "ann@db1", NOW - 60, note="on it")))
    app = demo_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        history = app.main.query_one(HistoryTable)
        await until(pilot, lambda: history.row_count > 2, what="db-backup's history")
        status = history.columns_shown.index("STATUS")
        reason = history.columns_shown.index("REASON")
        assert [str(history.get_row_at(i)[status]) for i in range(3)] == ["✗ failed", "✓ ok", "✓ ok"]
        assert [str(history.get_row_at(i)[reason]).startswith("(acked)") for i in range(3)] == [True, False, False]
        assert cell(app, "db-backup", "STATUS") == "✗ acked"


async def test_the_job_list_and_the_detail_line_give_one_failure_rate(demo_db):
    app = demo_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        assert "FAIL" in app.main.jobs.shown_columns and "OK%" not in app.main.jobs.shown_columns
        rate = cell(app, "db-backup", "FAIL")
        assert rate != "0%"
        detail = app.main.query_one(TrendBar)
        await until(pilot, lambda: detail.words.startswith("db-backup"), what="db-backup's detail")
        assert f"fail {rate}" in detail.words, (rate, detail.words)


async def test_help_shows_the_alarms_of_now_while_it_is_open(demo_db, tmp_path):
    db = own_copy(demo_db, tmp_path)
    app = demo_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_screen = app.screen
        assert not any("no scheduler" in line for line in help_screen.alarms)
        assert any(line.startswith("docker local:") and "stale" not in line for line in help_screen.alarms)
        write(db, lambda conn: lease.record(conn, "server1:4242:0:daemon", NOW - 86400, NOW - 7200, 10.0))
        await until(pilot, lambda: any("no scheduler" in line for line in help_screen.alarms),
                    what="help's alarms read again")
        assert any(line.startswith("docker local:") and "stale: " in line for line in help_screen.alarms)
        assert help_screen.query_one("#help-now").display


async def test_at_80_columns_the_history_s_reason_ends_at_the_pane_s_edge_not_past_it(demo_db):
    from panda_tui.tui.widgets.history_table import HistoryTable
    from tests.tui.test_answers import select_job
    app = demo_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await select_job(pilot, "report-mail")  # its newest slots were missed, with a 50-character reason
        history = app.main.query_one(HistoryTable)
        columns = list(history.columns.values())
        names = [str(c.label) for c in columns]
        end = sum(c.width + 2 for c in columns[:names.index("REASON") + 1])
        assert 28 <= columns[names.index("REASON")].width and end <= history.size.width - 1, (end, names)
        assert str(history.get_row_at(0)[names.index("STATUS")]) == "! missed"


async def test_at_80_columns_the_detail_line_says_what_it_says_at_140_in_the_same_words(demo_db):
    """Only the schedule's words and whole figures give way: `last ok 15s ago`, `slow: run 142` (never
    `last ok 15s` on one screen and `… ago` on another, nor a bare `slow: 142`)."""
    import re
    app = demo_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        detail, jobs = app.main.query_one(TrendBar), app.main.jobs
        for name in ("db-backup", "cache-warm"):
            jobs.move_cursor(row=jobs.rows_shown.index(name))
            await until(pilot, lambda: detail.words.startswith(name), what=f"{name}'s detail")
            words = detail.words
            assert not re.search(r"last ok \S+(?! ago)( ·|$)", words.splitlines()[0]), words
            assert not re.search(r"slow: \d", words), words


async def test_a_job_that_failed_and_runs_again_has_one_glyph_in_the_console_and_in_status(tmp_path):
    """`status` drew it `▶` (its state) while the console drew `✗` (failing): one rule marks both."""
    import time

    from panda_tui.config import load_config
    from panda_tui.tui.app import PandaApp
    from tests.conftest import ledger_on
    from tests.integration.test_status_words import runs, scheduler_alive, status
    from tests.jobfiles import job, write_jobs
    cfg, db = write_jobs(tmp_path, job("sync"))
    now = time.time()
    runs(db, "sync", "F", now)
    with ledger_on(db) as book:
        again = book.insert("sync", now - 5, trigger="manual", now=now - 5)
        book.start(again.id, now - 4)
    scheduler_alive(db)
    row = next(line for line in status(cfg, db).stdout.splitlines() if " sync " in line)
    app = PandaApp(load_config(cfg), db, mode="attached")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        shown = cell(app, "sync", "STATUS")
    assert row.split()[0] == shown.split()[0] == "✗", (row, shown)


async def test_a_narrow_detail_line_names_its_figures_in_the_job_list_s_words(demo_db):
    """`median` (the job list's MEDIAN), never `med` on one screen and `median` on another; a figure that
    does not fit goes whole (p95 first)."""
    app = demo_app(demo_db)
    async with app.run_test(size=(60, 20)) as pilot:
        await started(app, pilot)
        detail = app.main.query_one(TrendBar)
        await until(pilot, lambda: "fail 5%" in detail.words, what="db-backup's figures")
        figures = detail.words.splitlines()[-1]
        assert "· median 42.4s ·" in figures and "missed/24h 0" in figures, figures
        assert " med " not in figures and " miss " not in figures, figures


async def test_a_slow_run_s_duration_says_slow_whole_in_the_history(demo_db):
    """New-user test: DURATION showed `135ms sl`. The column is as wide as `4.4s slow` (a word is shown whole
    or not at all)."""
    from panda_tui.tui.widgets.history_table import HistoryTable
    from tests.tui.test_answers import select_job
    app = demo_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await select_job(pilot, "cache-warm")  # its 28th run of 30 took four times its usual
        history = app.main.query_one(HistoryTable)
        column = history.columns_shown.index("DURATION")
        width = history.columns["DURATION"].width
        cells = [str(history.get_row_at(i)[column]) for i in range(history.row_count)]
        slow = [text for text in cells if "slow" in text]
        assert slow and all(text.endswith(" slow") and len(text) <= width for text in slow), (slow, width)


async def test_at_80_columns_the_history_says_which_run_was_not_the_schedule_s(demo_db, tmp_path):
    """New-user test: no TRIGGER column at 80 columns. It comes before REASON while a run shown was triggered
    by hand (or caught up, or run by `exec`); while every run is the schedule's it stays after REASON, where it
    would say `schedule` on every row."""
    from panda_tui.tui.widgets.history_table import HistoryTable
    from tests.conftest import ledger_on
    from tests.tui.test_answers import select_job
    db = own_copy(demo_db, tmp_path)
    app = demo_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        history = app.main.query_one(HistoryTable)
        await until(pilot, lambda: history.row_count > 2, what="db-backup's history")
        assert "TRIGGER" not in history.columns_shown[:history.columns_shown.index("REASON")]
    with ledger_on(db) as book:
        run = book.insert("db-backup", NOW - 100, trigger="manual", now=NOW - 100)
        book.start(run.id, NOW - 99)
        book.finish(run.id, "succeeded", NOW - 50, exit_code=0)
    app = demo_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await select_job(pilot, "db-backup")  # ok again: no longer the top row
        history = app.main.query_one(HistoryTable)
        await until(pilot, lambda: history.row_count > 2 and history.ids[0] == run.id, what="the manual run")
        shown = history.columns_shown
        assert shown.index("TRIGGER") < shown.index("REASON"), shown
        assert [str(history.get_row_at(i)[shown.index("TRIGGER")]) for i in range(2)] == ["manual", "schedule"]
        end = sum(history.columns[c].width + 2 for c in shown[:shown.index("REASON") + 1])
        assert end <= history.size.width - 1 and history.columns["REASON"].width >= 21, (end, shown)


async def test_a_missed_slot_s_reason_shows_the_reason_and_its_time_short_at_80_columns(demo_db, tmp_path):
    from panda_tui.text import iso
    from panda_tui.tui.widgets.history_table import HistoryTable
    from tests.conftest import ledger_on
    from tests.tui.test_answers import select_job
    db = own_copy(demo_db, tmp_path)
    with ledger_on(db) as book:
        for before in (86400, 0):  # yesterday's, whose day its SCHEDULED says (Dec 01 10:06), and today's
            book.insert("report-mail", NOW - before - 3600, trigger="schedule", now=NOW - before - 600,
                        status="missed", reason=f"scheduler down from {iso(NOW - before - 7200)} to "
                                            f"{iso(NOW - before - 600)}; catchup = none")
    app = demo_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await select_job(pilot, "report-mail")
        history = app.main.query_one(HistoryTable)
        shown = "scheduler down 09:06–10:56;"  # NOW is 11:06:40 UTC
        for row in (0, 1):
            reason = str(history.get_row_at(row)[history.columns_shown.index("REASON")])
            assert reason.startswith(shown) and history.columns["REASON"].width >= len(shown), reason


async def test_a_job_s_last_run_killed_on_purpose_is_not_styled_as_a_failure(demo_db, tmp_path):
    from panda_tui.store.ledger import RunStatus
    from panda_tui.tui.marks import Marks
    from tests.conftest import ledger_on
    db = own_copy(demo_db, tmp_path)
    with ledger_on(db) as book:
        run = book.insert("cache-warm", NOW - 30, trigger="manual", now=NOW - 30)
        book.start(run.id, NOW - 29)
        book.finish(run.id, RunStatus.KILLED, NOW - 20, exit_code=143, reason="killed on request")
    app = demo_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        jobs = app.main.jobs
        last = jobs.get_row_at(jobs.rows_shown.index("cache-warm"))[jobs.shown_columns.index("LAST")]
        assert last.plain.startswith("killed ") and str(last.style) == Marks().style("killed") != Marks().style("failed")


def missed_then_acked(db: str, ended: bool = False) -> None:
    """cache-warm missed 2 slots, succeeded, and ann@db1 acknowledged them (`ended`: then it succeeded again,
    which ends the plain ack; the two stay covered)."""
    for slot in (NOW - 320, NOW - 310):
        succeeded(db, slot, RunStatus.MISSED)
    succeeded(db, NOW - 260)
    write(db, lambda conn: acks.put(conn, acks.Ack("cache-warm", "ann@db1", NOW - 250)))
    if ended:
        succeeded(db, NOW - 200)


def succeeded(db: str, slot: float, status: RunStatus = RunStatus.SUCCEEDED) -> None:
    """A run of cache-warm at `slot` (a missed one never started)."""
    from tests.conftest import ledger_on
    with ledger_on(db) as book:
        if status is RunStatus.MISSED:
            book.insert("cache-warm", slot, trigger="schedule", now=NOW - 300, status=status, reason="scheduler down")
            return
        run = book.insert("cache-warm", slot, trigger="schedule", now=slot)
        book.start(run.id, slot)
        book.finish(run.id, status, slot + 1, exit_code=0)


async def test_a_job_whose_missed_runs_are_acked_reads_so_and_its_runs_leave_the_header_count(demo_db, tmp_path):
    """New-user test: a job every 10 s missed 2 slots; the header said `2 missed/24h` while no row was marked,
    and `a` could not acknowledge them. Acked, the row reads `! acked` and the header no longer counts them."""
    db = own_copy(demo_db, tmp_path)
    missed_then_acked(db)
    app = demo_app(db)
    async with app.run_test(size=(120, 24)) as pilot:
        await started(app, pilot)
        assert cell(app, "cache-warm", "STATUS") == "! acked"
        words = app.main.query_one("#header").words
        assert "1 missed/24h" in words and "1 acked" in words, words  # report-mail's one missed run, not these


async def test_a_job_whose_ack_ended_reads_its_own_state_and_its_detail_line_no_ack(demo_db, tmp_path):
    from tests.tui.test_answers import select_job
    """New-user test: after the plain ack of a job's missed runs ended (its next success), its row still read
    `! acked` while the detail line showed no ack. Now the row reads `✓ ok`; its runs stay covered."""
    db = own_copy(demo_db, tmp_path)
    missed_then_acked(db, ended=True)
    app = demo_app(db)
    async with app.run_test(size=(120, 24)) as pilot:
        await started(app, pilot)
        assert cell(app, "cache-warm", "STATUS") == "✓ ok"
        words = app.main.query_one("#header").words
        assert "1 missed/24h" in words and "acked" not in words, words
        await select_job(pilot, "cache-warm")
        detail = app.main.query_one(TrendBar)
        await until(pilot, lambda: detail.words.startswith("cache-warm"), what="cache-warm's detail")
        assert "acked by" not in detail.words  # its ended ack: no word of it anywhere
        assert "missed/24h 0 (+2 acked)" in detail.words, detail.words  # as `status`'s MISSED/24H says it


async def test_a_on_a_job_whose_missed_runs_are_acked_asks_to_take_the_ack_back(demo_db, tmp_path):
    from panda_tui.tui.screens.confirm import ConfirmScreen
    from tests.tui.test_answers import select_job
    db = own_copy(demo_db, tmp_path)
    missed_then_acked(db)
    app = demo_app(db)
    async with app.run_test(size=(120, 24)) as pilot:
        await started(app, pilot)
        await select_job(pilot, "cache-warm")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the unack question")
