"""What a new-user test at 80x24 found cut in the tables: a history column cut by the pane's edge (`LATE`
read `LA` over `5m`, really `5ms`), a flapping job's `3/10 failed` widening STATUS until MEDIAN and TREND
dropped, and an acked job's `ack` cut off its row."""

from __future__ import annotations

from panda_tui.store import acks
from panda_tui.store.ledger import RunStatus
from panda_tui.tui.demo import NOW
from panda_tui.tui.widgets.history_table import HistoryTable
from panda_tui.tui.widgets.trend_bar import TrendBar
from tests.conftest import ledger_on
from tests.tui.conftest import started, until
from tests.tui.test_answers import demo_app, select_job
from tests.tui.test_row_words import cell, own_copy, write


async def test_the_history_at_80_columns_shows_each_column_whole_or_not_at_all(demo_db):
    app = demo_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        history = app.main.query_one(HistoryTable)
        await until(pilot, lambda: history.row_count > 0, what="the history")
        assert "LATE" in history.columns_shown  # it fits whole at 80 beside a short reason
        drawn = sum(column.get_render_width(history) for column in history.ordered_columns)
        assert drawn <= history.scrollable_content_region.width, (history.columns_shown, drawn)


async def test_a_flapping_job_keeps_its_row_short_and_its_count_in_the_detail_line(demo_db, tmp_path):
    db = own_copy(demo_db, tmp_path)
    with ledger_on(db) as book:
        for i, what in enumerate("SFSFSFSFSS"):
            slot = NOW - 280 + i * 25
            run = book.insert("cache-warm", slot, trigger="schedule", now=slot)
            book.start(run.id, slot + 1)
            failed = what == "F"
            book.finish(run.id, RunStatus.FAILED if failed else RunStatus.SUCCEEDED, slot + 3,
                        exit_code=1 if failed else 0, reason="exit 1" if failed else None)
    app = demo_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        assert cell(app, "cache-warm", "STATUS") == "≈ flapping"
        assert {"MEDIAN", "TREND"} <= set(app.main.jobs.shown_columns)
        await select_job(pilot, "cache-warm")
        detail = app.main.query_one(TrendBar)
        await until(pilot, lambda: "flapping 4/10" in detail.words.splitlines()[0], what=detail.words)


def timed_out_running_and_acked(db: str) -> None:
    """cache-warm: ten runs timed out, one running, acked: its state reads `ack, running · timed out 10/10`."""
    with ledger_on(db) as book:
        for i in range(10):
            slot = NOW - 280 + i * 25
            run = book.insert("cache-warm", slot, trigger="schedule", now=slot)
            book.start(run.id, slot + 1)
            book.finish(run.id, RunStatus.TIMED_OUT, slot + 3, reason="timed out after 2s")
        book.start(book.insert("cache-warm", NOW - 10, trigger="schedule", now=NOW - 10).id, NOW - 9)
    write(db, lambda conn: acks.put(conn, acks.Ack("cache-warm", "ann@db1", NOW - 60, note="on it")))


async def test_the_ack_mark_comes_first_so_cutting_a_long_state_keeps_it(demo_db, tmp_path):
    db = own_copy(demo_db, tmp_path)
    timed_out_running_and_acked(db)
    app = demo_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        assert cell(app, "cache-warm", "STATUS") == "✗ ack, running · timed out 10/10"  # cut at its end


async def test_a_long_state_is_cut_in_its_column_and_median_and_trend_stay(demo_db, tmp_path):
    """New-user test, finding 6: `✗ ack, running · timed out` widened STATUS until MEDIAN and TREND vanished
    for every row. STATUS has a share of the width, whatever its words; a longer state ends in `…`."""
    db = own_copy(demo_db, tmp_path)
    app = demo_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        jobs = app.main.jobs
        columns, status = list(jobs.shown_columns), jobs.columns["STATUS"].width
    timed_out_running_and_acked(db)
    app = demo_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        jobs = app.main.jobs
        assert cell(app, "cache-warm", "STATUS").startswith("✗ ack, running")
        assert {"MEDIAN", "TREND"} <= set(jobs.shown_columns)
        assert jobs.shown_columns == columns and jobs.columns["STATUS"].width == status  # the same shape
        row = next(jobs.render_line(y).text for y in range(jobs.size.height) if "cache-warm" in jobs.render_line(y).text)
        assert "…" in row.split("cache-warm")[0], row  # the state, cut where its column ends
