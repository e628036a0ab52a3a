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


def timed_out_running(db: str, acked: bool = False) -> None:
    """cache-warm: ten runs timed out, one running: its state reads `running · timed out 10/10`; `acked`:
    someone acknowledged it."""
    with ledger_on(db) as book:
        for i in range(10):
            slot = NOW - 280 + i * 25
            run = book.insert("cache-warm", slot, trigger="schedule", now=slot)
            book.start(run.id, slot + 1)
            book.finish(run.id, RunStatus.TIMED_OUT, slot + 3, reason="timed out after 2s")
        book.start(book.insert("cache-warm", NOW - 10, trigger="schedule", now=NOW - 10).id, NOW - 9)
    if acked:
        write(db, lambda conn: acks.put(conn, acks.Ack("cache-warm", "ann@db1", NOW - 60, note="on it")))


async def test_an_acked_job_reads_acked_whole_in_the_narrowest_status(demo_db, tmp_path):
    """New-user test: `✗ ack, running · timed out 10/10` was cut to `✗ ack, ru…` (and `ack, failing` to
    `ack, fai…`); the glyph says which trouble, the word that someone is on it."""
    db = own_copy(demo_db, tmp_path)
    timed_out_running(db, acked=True)
    app = demo_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        shown = cell(app, "cache-warm", "STATUS")
        assert shown == "✗ acked" and len(shown) <= app.main.jobs.columns["STATUS"].width


async def test_a_long_state_is_cut_in_its_column_and_median_and_trend_stay(demo_db, tmp_path):
    """New-user test, finding 6: `✗ running · timed out 10/10` widened STATUS until MEDIAN and TREND vanished
    for every row. STATUS has a share of the width, whatever its words; a longer state ends in `…`."""
    db = own_copy(demo_db, tmp_path)
    app = demo_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        jobs = app.main.jobs
        columns, status = list(jobs.shown_columns), jobs.columns["STATUS"].width
    timed_out_running(db)
    app = demo_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        jobs = app.main.jobs
        assert cell(app, "cache-warm", "STATUS") == "✗ running · timed out 10/10"
        assert {"MEDIAN", "TREND"} <= set(jobs.shown_columns)
        assert jobs.shown_columns == columns and jobs.columns["STATUS"].width == status  # the same shape
        row = next(jobs.render_line(y).text for y in range(jobs.size.height) if "cache-warm" in jobs.render_line(y).text)
        assert "…" in row.split("cache-warm")[0], row  # the state, cut where its column ends


async def test_opening_the_filter_box_narrows_nothing(demo_db):
    """New-user test: `/` at 80x24 made the screen taller than the terminal: it scrolled, its bar narrowed
    every pane (the header lost its zone, TREND two bars). The job list gives the box its rows, and its own
    scroll bar's cell is kept whether the bar shows or not."""
    from panda_tui.tui.widgets.status_header import StatusHeader
    app = demo_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        jobs, header = app.main.jobs, app.main.query_one(StatusHeader)
        trend, words = jobs.columns["TREND"].width, header.words
        await pilot.press("slash")
        await until(pilot, lambda: jobs.show_vertical_scrollbar, what="the job list scrolling instead")
        await pilot.pause()
        assert not app.main.show_vertical_scrollbar and header.words == words
        assert jobs.columns["TREND"].width == trend and len(str(jobs.get_row_at(0)[-1])) == trend
        await pilot.press("escape")
        await until(pilot, lambda: not jobs.show_vertical_scrollbar, what="the list's rows back")


async def test_the_history_s_columns_stand_still_as_the_user_moves_through_the_jobs(demo_db):
    """New-user test: the history's columns moved from job to job, each sized to its own runs. Once a column
    has grown for a job's content it stays as wide, so going through the jobs again moves nothing."""
    app = demo_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        history = app.main.query_one(HistoryTable)
        jobs = [name for name in app.main.jobs.rows_shown if name in {"db-backup", "report-mail", "cache-warm"}]

        def starts() -> dict[str, int]:
            """Where each column up to REASON starts, on screen."""
            shown = history.columns_shown
            return {c: sum(history.columns[k].width + 2 for k in shown[:i]) for i, c in enumerate(shown)
                    if i <= shown.index("REASON")}
        for name in jobs:
            await select_job(pilot, name)
        seen = starts()
        for name in jobs:
            await select_job(pilot, name)
            await pilot.pause()
            assert starts() == seen, name


async def test_a_job_whose_image_is_absent_says_so_in_its_detail_line(demo_db, tmp_path):
    """New-user test: a pull = "never" job whose image the engine lacks read `new` with no hint until it failed.
    The scheduler's engine check found it missing: the detail line says so, before any run."""
    import copy

    from panda_tui.config import build_config
    from panda_tui.store import state
    from panda_tui.tui.app import PandaApp
    from panda_tui.tui.demo import JOBS_TOML
    from panda_tui.tui.marks import Marks
    db = own_copy(demo_db, tmp_path)
    table = copy.deepcopy(JOBS_TOML)
    table["jobs"]["db-backup"]["pull"] = "never"
    write(db, lambda conn: state.put_engines(conn, {"local": {"up": True, "error": None,
                                                              "missing": ["busybox:latest"]}}, NOW))
    def console() -> PandaApp:
        return PandaApp(build_config(table, "jobs.toml"), db, mode="attached", clock=lambda: NOW, marks=Marks())
    app = console()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await select_job(pilot, "db-backup")
        detail = app.main.query_one(TrendBar)
        await until(pilot, lambda: "image busybox:latest missing" in detail.words.splitlines()[0], what=detail.words)
    app = console()
    async with app.run_test(size=(200, 24)) as pilot:
        await started(app, pilot)
        await select_job(pilot, "db-backup")
        detail = app.main.query_one(TrendBar)
        await until(pilot, lambda: "image: 'busybox:latest' is not on its engine and pull = \"never\"" in detail.words,
                    what=detail.words)
