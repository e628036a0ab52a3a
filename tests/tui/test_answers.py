"""Issue 21, the console side: the answer is on the screen without hunting for it (demo store, fixed clock)."""

from __future__ import annotations

from panda_tui.readmodel.running import RunningConfig
from panda_tui.tui.app import PandaApp
from panda_tui.tui.demo import NOW, demo_config, missed_reason
from panda_tui.tui.marks import Marks
from panda_tui.tui.screens.logs import LogScreen
from panda_tui.tui.widgets.history_table import HistoryTable
from panda_tui.tui.widgets.log_view import LogView
from tests.tui.conftest import started, until
from tests.tui.test_snapshots import settle


def demo_app(db: str, **kwargs) -> PandaApp:
    kwargs.setdefault("marks", Marks())
    return PandaApp(demo_config(), db, mode="attached", clock=lambda: NOW, **kwargs)


async def select_job(pilot, name: str) -> None:
    app = pilot.app
    app.main.jobs.focus()
    await pilot.pause()
    await pilot.press("g")
    for _ in range(len(app.main.jobs.rows_shown)):
        if app.main.jobs.selected == name:
            break
        await pilot.press("down")
    await until(pilot, lambda: app.main.query_one(HistoryTable).runs
                and next(iter(app.main.query_one(HistoryTable).runs.values())).job == name)


async def missed_slot_in_the_pane(pilot) -> tuple[LogView, str]:
    """The console up, report-mail's history focused on its newest row, a missed slot: the log pane, and the
    slot's whole reason (in ISO 8601)."""
    app = pilot.app
    await settle(pilot)
    await select_job(pilot, "report-mail")
    await pilot.press("tab")
    history = app.main.query_one(HistoryTable)
    return app.main.query_one("#logpane", LogView), missed_reason(history.runs[history.ids[0]].scheduled_at)


async def test_a_missed_run_shows_its_whole_reason_in_the_pane_and_when_opened(demo_db):
    app = demo_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        pane, reason = await missed_slot_in_the_pane(pilot)
        await until(pilot, lambda: any(reason in line for line in pane.log_widget.shown_text), what="the reason")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen))
        full = app.screen.query_one(LogView)
        await until(pilot, lambda: any(reason in line for line in full.log_widget.shown_text), what="reason opened")
        assert any("missed: no log" in line for line in full.log_widget.shown_text)


async def test_without_colour_the_focused_pane_shows_by_its_border_and_title(demo_db, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = demo_app(demo_db, marks=Marks(colour=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        jobs, history = app.main.query_one("#jobs"), app.main.query_one("#history")
        title = app.main.query_one("#logpane .log-title")
        assert jobs.styles.border_top[0] == "double" and history.styles.border_top[0] != "double"
        await pilot.press("tab")
        assert history.styles.border_top[0] == "double" and jobs.styles.border_top[0] != "double"
        assert "reverse" not in str(title.styles.text_style)
        await pilot.press("tab")
        await until(pilot, lambda: "reverse" in str(title.styles.text_style), what="the log pane.s title reversed")


def test_the_linux_console_shows_failures_as_without_colour(monkeypatch):
    from panda_tui.tui.marks import detect
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "linux")
    marks = detect()
    assert not marks.colour and "reverse" in marks.style("failing") and "bold" in marks.style("stderr")
    monkeypatch.setenv("TERM", "xterm-256color")
    assert detect().colour


async def test_help_opened_in_a_log_starts_with_the_log_keys(demo_db):
    from panda_tui.tui.screens.help import HelpScreen
    app = demo_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen) and not app.screen.section_titles[0].startswith("Logs")
        await pilot.press("escape", "enter")  # db-backup, failing: its failed run's log
        await until(pilot, lambda: isinstance(app.screen, LogScreen))
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen) and app.screen.section_titles[0].startswith("Logs")


async def test_at_60x20_the_log_keeps_3_lines_and_a_wrapped_stderr_line_keeps_its_mark(demo_db):
    app = demo_app(demo_db)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        await until(pilot, lambda: "✗ run 40" in app.main.query_one("#trend").words, what="the error line")
        await pilot.pause()
        pane = app.main.query_one("#logpane", LogView)
        lines, footer = pane.log_widget.region, app.main.query_one("Footer").region
        assert lines.height >= 3 and lines.bottom <= footer.y, (lines, footer)  # on screen, above the footer
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen))
        view = app.screen.query_one(LogView)
        await until(pilot, lambda: any("pg_dump" in line for line in view.shown))
        start = next(i for i, line in enumerate(view.shown) if "pg_dump" in line)
        assert view.shown[start + 1].startswith("! ") and "timeout" in view.shown[start + 1], view.shown


async def test_panda_tui_s_own_notes_wrap_between_words(demo_db):
    """New-user test: a wrapped `#` note broke mid-word (`catchu` / `# p = none`). A note's rows keep its
    mark and, joined by spaces, are the note; a program's output still wraps where the width falls."""
    app = demo_app(demo_db)
    async with app.run_test(size=(60, 20)) as pilot:
        pane, reason = await missed_slot_in_the_pane(pilot)
        note = f"[panda] reason: {reason}"
        await until(pilot, lambda: any("[panda] reason:" in line for line in pane.shown), what="the note")
        start = next(i for i, line in enumerate(pane.shown) if "[panda] reason:" in line)
        rows = pane.shown[start:start + len(note) // 40 + 2]
        rows = rows[:next((i for i, row in enumerate(rows[1:], 1) if not row.startswith("# ")), len(rows))]
        assert len(rows) > 1 and all(row.startswith("# ") for row in rows), rows
        assert " ".join(row[2:] for row in rows) == note, rows


def fail_then_run_again(db_path: str, job: str) -> None:
    """`job` fails, then runs again: its row says running, and it still counts as failing."""
    from panda_tui.store import logs
    from panda_tui.store.db import Database
    from panda_tui.store.ledger import Ledger, RunStatus
    db = Database(db_path)
    writer = logs.LogWriter(db_path, lock=db.lock)
    try:
        book = Ledger(db)
        failed = book.insert(job, NOW - 120, trigger="manual", now=NOW - 120)
        book.start(failed.id, NOW - 119)
        book.finish(failed.id, RunStatus.FAILED, NOW - 100, exit_code=2, reason="exit 2")
        again = book.insert(job, NOW - 60, trigger="manual", now=NOW - 60)
        book.start(again.id, NOW - 59)
        logs.RunLog(writer, again.id).line("out", "warming again", NOW - 58)  # the failing rows now sort first
    finally:
        writer.close()
        db.close()


async def test_the_header_counts_the_rows_marked_failing(tmp_path):
    from panda_tui.tui.demo import fill
    db = str(tmp_path / "demo.db")
    fill(db)
    fail_then_run_again(db, "cache-warm")
    app = demo_app(db)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        jobs = app.main.jobs
        marked = [jobs.get_row_at(i)[0].plain for i in range(jobs.row_count)]
        failing = [cell for cell in marked if cell.startswith("✗")]
        assert len(failing) == 2 and any("running" in cell for cell in failing), marked
        assert "✗ 2 failing" in app.main.query_one("#header").words


async def test_the_detail_line_says_the_last_error_line_and_when_it_last_succeeded(demo_db):
    app = demo_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        detail = app.main.query_one("#trend")
        await until(pilot, lambda: "last ok" in detail.words, what="the detail line")
        first, error, *_ = detail.words.splitlines()
        assert first.startswith("db-backup · last ok 29m ago · ")  # the name never runs into the schedule
        assert error.startswith("✗ run 40 line 3: pg_dump: error: connection to server")
        await select_job(pilot, "cache-warm")
        await until(pilot, lambda: detail.words.startswith("cache-warm · last ok"), what="another job's")
        assert "✗" not in detail.words.splitlines()[1]  # no trouble: no error line


async def test_a_daemon_gone_leaves_the_console_attached_saying_so_and_s_starts_one_here(tmp_path):
    from panda_tui.cli.console_cmd import decide_mode
    from panda_tui.config import load_config
    from panda_tui.readmodel.running import RunningConfig
    from panda_tui.store import connect, lease
    from panda_tui.tui.mode import ConsoleMode
    from tests.jobfiles import job, write_jobs
    cfg, db = write_jobs(tmp_path, job("a"))
    conn = connect(db)
    lease.record(conn, "elsewhere:4242:0.000:daemon", NOW - 3600, __import__("time").time() - 240, 10.0)
    conn.commit()
    conn.close()
    config = load_config(cfg)
    mode, _, embedded = decide_mode(config, db, read_only=False, launch=False)
    assert mode is ConsoleMode.ATTACHED and embedded is None  # not by itself
    schedulers = []

    def starter():
        schedulers.append(decide_mode(config, db, read_only=False, embed=True)[2])
        return schedulers[-1]

    app = PandaApp(RunningConfig(cfg), db, mode=mode, starter=starter)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await started(app, pilot)
            header = app.main.query_one("#header")
            await until(pilot, lambda: "no scheduler! daemon last seen 4m ago" in header.words, what=header.words)
            await pilot.press("S")
            await until(pilot, lambda: "embedded" in header.words and "no scheduler" not in header.words, 15,
                        what="a scheduler started here")
            assert app.services.scheduler is schedulers[0] is not None
    finally:
        for scheduler in schedulers:
            if scheduler is not None:
                scheduler.stop()


async def test_d_on_a_run_shows_what_changed_since_the_last_good_run(demo_db):
    from panda_tui.tui.screens.diff import DiffScreen
    app = demo_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "d")  # the history's newest run: db-backup's failed run 40
        await until(pilot, lambda: isinstance(app.screen, DiffScreen) and app.screen.lines, what="the diff")
        said = "\n".join(app.screen.lines)
        assert said.startswith("run 40 (failed) against run 39"), said
        for change in ("env PGHOST: value changed", "image: 41d0be7f5a98 → 9c1f4e2ab7d3", "exit code: 0 → 1",
                       'pg_dump: error: connection to server at "db"'):
            assert change in said, said
        await pilot.press("escape", "down")  # run 39 succeeded: there is a good run before it, nothing failed
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DiffScreen) and app.screen.lines)
        assert app.screen.lines[0].startswith("run 39 (succeeded) against run 38")
        await pilot.press("escape")
        await select_job(pilot, "orders-sync")
        await pilot.press("tab", "G", "d")  # its oldest run: no good run before it
        await until(pilot, lambda: isinstance(app.screen, DiffScreen) and app.screen.lines)
        assert "no successful run to compare with" in app.screen.lines[0]


async def test_d_in_a_log_opens_the_diff_of_that_run(demo_db):
    from panda_tui.tui.screens.diff import DiffScreen
    app = demo_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen))
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DiffScreen) and app.screen.lines)
        assert app.screen.lines[0].startswith("run 40 (failed)")
        await pilot.press("escape")
        assert isinstance(app.screen, LogScreen)


async def test_at_80_columns_the_history_shows_try_when_a_retry_exists_and_seconds_under_a_minute(tmp_path):
    import copy

    from panda_tui.config import build_config
    from panda_tui.store.db import Database
    from panda_tui.store.ledger import Ledger, RunStatus
    from panda_tui.tui.demo import JOBS_TOML, fill
    db = str(tmp_path / "demo.db")
    fill(db)
    table = copy.deepcopy(JOBS_TOML)
    table["jobs"]["0-fast"] = {"schedule": "@every 30s", "command": "true", "retries": 1}
    store = Database(db)
    try:
        book = Ledger(store)
        for n, slot in enumerate((NOW - 60, NOW - 30)):
            first = book.insert("0-fast", slot, trigger="schedule", now=slot)
            book.start(first.id, slot + 0.1)
            book.finish(first.id, RunStatus.FAILED if n else RunStatus.SUCCEEDED, slot + 1, exit_code=n)
        retry = book.insert("0-fast", NOW - 30, trigger="retry", now=NOW - 25, attempt=2)
        book.start(retry.id, NOW - 25)
        book.finish(retry.id, RunStatus.SUCCEEDED, NOW - 24, exit_code=0)
    finally:
        store.close()
    app = PandaApp(build_config(table, "jobs.toml"), db, mode="attached", clock=lambda: NOW, marks=Marks())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await select_job(pilot, "0-fast")
        history = app.main.query_one(HistoryTable)
        await until(pilot, lambda: "TRY" in history.columns_shown[:6], what="TRY beside EXIT")
        scheduled = [history.get_row_at(i)[1] for i in range(history.row_count)]
        assert scheduled[0].count(":") == 2, scheduled  # 30 s apart: the seconds tell the slots apart
        try_at = history.columns_shown.index("TRY")
        offsets = [column.get_render_width(history) for column in history.ordered_columns]
        assert sum(offsets[:try_at + 1]) <= 78  # on screen at 80 columns
        assert [history.get_row_at(i)[try_at] for i in range(history.row_count)][0] == "2"
        await select_job(pilot, "db-backup")  # no retry: the order of every day
        await until(pilot, lambda: "TRY" not in history.columns_shown[:history.columns_shown.index("REASON")])


async def test_tab_into_the_history_shows_the_run_under_its_cursor_at_once(demo_db):
    """The read of the store that would otherwise bring it comes every 5 s when nothing changes: the pane
    must not wait for it (the clock here never moves, so that read says nothing new)."""
    app = demo_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await select_job(pilot, "report-mail")
        pane = app.main.query_one("#logpane", LogView)
        await until(pilot, lambda: pane.run is not None and pane.run.job == "report-mail")
        await pilot.press("tab")
        await until(pilot, lambda: pane.run_id == app.main.query_one(HistoryTable).selected, 1.0,
                    what="the missed run in the pane within a second")


async def test_executions_and_the_history_write_a_run_s_time_lateness_and_status_alike(tmp_path):
    """One rule each (text.when, text.late, text.status_word), not two that disagree (`02 16:45:40` and an
    ISO time; `250ms` and `0.250s`; `timeout` and `timed_out`)."""
    from panda_tui.store.db import Database
    from panda_tui.store.ledger import Ledger, RunStatus
    from tests.conftest import run_cli
    from tests.jobfiles import job, write_jobs
    last_year = 1_764_000_000.0  # 2025-11-24T16:00:00Z: another year than now, whenever the test runs
    cfg, db = write_jobs(tmp_path, job("backup"))
    store = Database(db)
    try:
        book = Ledger(store)
        run = book.insert("backup", last_year, trigger="schedule", now=last_year)
        book.start(run.id, last_year + 0.25)
        book.finish(run.id, RunStatus.TIMED_OUT, last_year + 60, reason="timed out after 1m")
    finally:
        store.close()
    table = run_cli("executions", "backup", "--config", cfg, "--db", db, env={"TZ": "UTC"}).stdout.splitlines()
    assert table[1].split()[:5] == [str(run.id), "Nov", "24", "2025", "250ms"], table
    assert "timeout" in table[1].split() and "timed_out" not in table[1]
    app = PandaApp(RunningConfig(cfg), db, mode="attached", clock=lambda: NOW, marks=Marks())
    async with app.run_test(size=(120, 24)) as pilot:
        await started(app, pilot)
        history = app.main.query_one(HistoryTable)
        await until(pilot, lambda: history.row_count == 1)
        cells = dict(zip(history.columns_shown, map(str, history.get_row_at(0))))
    assert cells["SCHEDULED"] == "Nov 24 2025" and cells["LATE"] == "250ms" and cells["STATUS"] == "⏱ timeout"
