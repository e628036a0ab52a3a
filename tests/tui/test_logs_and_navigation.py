"""The log pane works over the whole run; the cursor stays where the user put it."""

from __future__ import annotations

from pathlib import Path

from panda_tui.store import connect, control
from panda_tui.tui.screens.logs import LogScreen
from panda_tui.tui.widgets.history_table import HistoryTable
from panda_tui.tui.widgets.log_view import LogView
from tests.jobfiles import job
from tests.tui.conftest import started, until

# stdout and stderr are two pipes: written within a millisecond, their order is not kept (README). The job
# pauses after its error line so that line 100 is line 100 in the store too.
def long_job(gate: Path) -> str:
    """Lines 1-99 on stdout, line 100 on stderr, then 101-6000 and "done": two pipes keep no order between them,
    so the job waits at each step for the store to hold what came before (the test opens the gates)."""
    wait = "while [ ! -e {} ]; do sleep 0.02; done"
    return job("long", command=f"seq 1 99; {wait.format(gate / '1')}; echo 'error: disk full at line 100' >&2; "
                               f"{wait.format(gate / '2')}; seq 101 6000; echo done")


async def open_gates(pilot, db: str, gate: Path) -> None:
    """Let the long job go on once the store holds its first 99 lines, then once it holds its error line."""
    stored = "SELECT COUNT(*) FROM logs WHERE stream = ?"
    for name, stream, count in (("1", "out", 99), ("2", "err", 1)):
        await until(pilot, lambda: _count(db, stored, stream) >= count, what=f"{count} {stream} lines stored")
        (gate / name).touch()


def _count(db: str, sql: str, *params) -> int:
    conn = connect(db)
    try:
        return conn.execute(sql, params).fetchone()[0]
    finally:
        conn.close()


def ask(db: str, kind: str, name: str) -> None:
    conn = connect(db)
    control.submit(conn, kind, job=name)
    conn.close()


async def test_errors_search_first_error_times_and_save_cover_the_whole_run(world, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gate = tmp_path / "gate"
    gate.mkdir()
    w = world(long_job(gate))
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await pilot.press("t")
        await open_gates(pilot, w.db, gate)
        await until(pilot, lambda: app.main.jobs.health("long") and app.main.jobs.health("long").state == "ok")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen))
        view = app.screen.query_one(LogView)
        await until(pilot, lambda: view.shown and view.shown[-1] == "  done")
        assert view.log_widget.window[0].seq > 100  # the window holds the tail: line 100 is not in it
        await pilot.press("e")
        await until(pilot, lambda: view.shown == ["! error: disk full at line 100"], what="errors of the whole run")
        await pilot.press("e", "slash", *"disk full", "enter")
        await until(pilot, lambda: "matching line 1/1" in str(view.query_one(".log-title").render()),
                    what="the counter")
        assert any(line.seq == 100 for line in view.log_widget.window)  # loaded around the match
        assert "!▶error: disk full at line 100" in view.shown  # the match n/N went to is marked
        await pilot.press("G")
        await until(pilot, lambda: view.shown and view.shown[-1] == "  done")
        await pilot.press("E")
        await until(pilot, lambda: any(line.seq == 100 for line in view.log_widget.window), what="the first error")
        await pilot.press("T")
        assert view.shown[0][2:].split(" ", 1)[0].count(":") == 2  # HH:MM:SS.mmm before each line
        await pilot.press("n")
        assert view.search.match_index == 0
        await pilot.press("s")
        await until(pilot, lambda: any(n.startswith("saved 6,001 lines") for n in app.notices.messages))
        saved = Path(app.notices.messages[-1].rsplit(" to ", 1)[1])
        lines = saved.read_text().splitlines()
        assert len(lines) == 6001 and lines[99].endswith("! error: disk full at line 100")


async def test_the_cursor_stays_on_its_job_when_the_list_resorts(world):
    w = world(job("a-fails", command="exit 1"), job("b"), job("c"))
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot, rows=["a-fails", "b", "c"])
        app.main.jobs.move_cursor(row=2)
        await until(pilot, lambda: app.main.selected_job == "c")
        ask(w.db, "trigger", "a-fails")
        ask(w.db, "trigger", "b")
        await until(pilot, lambda: app.main.jobs.rows_shown == ["a-fails", "b", "c"]
                    and app.main.jobs.health("a-fails").state == "failing")
        ask(w.db, "trigger", "c")  # c runs and succeeds: it stays below, b and c swap nothing
        w.cfg.write_text(w.cfg.read_text() + job("0-first"))  # a new job sorts above c
        await until(pilot, lambda: app.main.jobs.rows_shown[0] == "a-fails" and "0-first" in app.main.jobs.rows_shown)
        assert app.main.jobs.selected == "c" and app.main.selected_job == "c"


async def test_history_follows_the_newest_run_unless_the_user_moved_in_it(world):
    w = world(job("n", command="true"))
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        history = app.main.query_one(HistoryTable)
        for expected in (1, 2):
            ask(w.db, "trigger", "n")
            await until(pilot, lambda: len(history.ids) == expected and history.selected == history.ids[0])
        history.focus()
        await pilot.press("down")  # the user looks at the older run
        assert history.selected == history.ids[1]
        older = history.selected
        ask(w.db, "trigger", "n")
        await until(pilot, lambda: len(history.ids) == 3)
        assert history.selected == older  # not dragged away to the new one
        await pilot.press("g")
        ask(w.db, "trigger", "n")
        await until(pilot, lambda: len(history.ids) == 4)
        assert history.selected == history.ids[0]  # back at the top: following again


WIDE = job("wide", command="echo start-$(printf 'x%.0s' $(seq 1 150))-end; echo short")


async def test_long_log_lines_scroll_in_with_the_arrow_keys_without_a_bar_and_a_cut_one_says_so(world):
    w = world(WIDE)
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        ask(w.db, "trigger", "wide")
        pane = app.main.query_one(LogView)
        await until(pilot, lambda: any(line.endswith("-end") and len(line) < 80 for line in pane.shown),
                    what="the wide line, wrapped (the default)")
        lines = pane.log_widget
        assert lines.styles.scrollbar_size_horizontal == 0  # the row is the log's, not a bar's
        lines.focus()
        await pilot.press("w")  # one line per log line: the rest is reached with the arrow keys
        await until(pilot, lambda: "  short" in pane.shown and any(line.startswith("  start-") and
                                                                   line.endswith("-end") for line in pane.shown),
                    what="unwrapped")

        def drawn(start: str) -> str:
            """The row as it shows: as wide as the scroll bar leaves the pane."""
            row = next(i for i, line in enumerate(pane.shown) if line.startswith(start))
            return lines.render_line(row - round(lines.scroll_offset.y)).text[:lines.scrollable_content_region.width]

        assert drawn("  start-").endswith("x…")
        assert drawn("  short").rstrip() == "  short"  # a line that fits is not marked
        await pilot.press("right", "right", "right")
        assert lines.scroll_x > 0
        lines.scroll_to(x=lines.max_scroll_x, animate=False)
        await until(pilot, lambda: lines.scroll_x == lines.max_scroll_x)
        assert drawn("  start-").rstrip().endswith("-end")  # its end in view: nothing cut on the right


async def test_a_line_scrolled_sideways_keeps_its_stream_mark(world):
    """New-user test: `→` scrolled the `! ` of a stderr line out of view with the rest; it stays in its cells."""
    w = world(job("wide-err", command="echo start-$(printf 'x%.0s' $(seq 1 150))-end >&2; echo short"))
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        ask(w.db, "trigger", "wide-err")
        pane = app.main.query_one(LogView)
        lines = pane.log_widget
        await until(pilot, lambda: any(line.startswith("! start-") for line in pane.shown), what="the wide line")
        lines.focus()
        await pilot.press("w", "right")
        await until(pilot, lambda: lines.scroll_x > 0, what="scrolled sideways")
        row = next(i for i, line in enumerate(pane.shown) if line.startswith("! start-"))
        drawn = lines.render_line(row - round(lines.scroll_offset.y)).text[:lines.scrollable_content_region.width]
        assert drawn.startswith("! x") and drawn.rstrip().endswith("…"), drawn
        short = lines.render_line(pane.shown.index("  short") - round(lines.scroll_offset.y)).text
        assert short.strip() == "", short  # a short line scrolled past: its blank mark, nothing else


async def test_a_phone_wide_console_drops_columns_not_jobs(world):
    """At 44 columns (a phone's browser) the list keeps status, job and last, shows every job, and scrolls
    nothing sideways."""
    w = world(job("alpha"), job("beta"))
    app = w.app()
    async with app.run_test(size=(44, 24)) as pilot:
        await started(app, pilot, count=2)
        table = app.main.jobs
        assert table.shown_columns == ["STATUS", "JOB", "LAST"]
        assert sum(column.get_render_width(table) for column in table.columns.values()) <= 44 - 2
        assert table.max_scroll_x == 0


async def test_until_the_user_moves_the_cursor_follows_the_most_urgent_job(world):
    w = world(job("alpha"), job("zulu", command="sh -c 'echo no; exit 3'"))
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot, rows=["alpha", "zulu"])
        assert app.main.jobs.selected == "alpha"
        ask(w.db, "trigger", "zulu")
        await until(pilot, lambda: app.main.jobs.rows_shown[0] == "zulu", what="zulu failing, on top")
        assert app.main.jobs.selected == "zulu"  # a fresh console shows what went wrong, unasked
        view = app.main.query_one("#logpane", LogView)
        await until(pilot, lambda: app.main.selected_job == "zulu" and view.run is not None and view.run.job == "zulu",
                    what="the panes below follow the cursor to zulu")  # no highlight event says the row changed
        app.main.jobs.focus()
        await pilot.press("down")
        assert app.main.jobs.selected == "alpha"
        ask(w.db, "trigger", "alpha")
        await until(pilot, lambda: app.main.jobs.health("alpha").last is not None)
        assert app.main.jobs.selected == "alpha"  # once moved, the cursor is the user's


async def test_a_job_chosen_through_the_filter_stays_chosen_when_the_filter_is_cleared(world):
    w = world(job("alpha"), job("beta"), job("zulu"))
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot, rows=["alpha", "beta", "zulu"])
        await pilot.press("slash", *"zu", "enter")  # no cursor key: the filter alone chose zulu
        await until(pilot, lambda: app.main.jobs.selected == "zulu")
        await pilot.press("escape")
        await until(pilot, lambda: len(app.main.jobs.rows_shown) == 3)
        ask(w.db, "trigger", "alpha")
        await until(pilot, lambda: app.main.jobs.health("alpha").last is not None, what="a refresh after the clear")
        assert app.main.jobs.selected == "zulu" and app.main.selected_job == "zulu"


async def test_G_in_the_pane_on_a_run_that_ended_goes_to_the_job_s_newest_run(demo_db, tmp_path):
    """New-user test: passing through the history pinned the pane to the run newest then; new runs came and
    the pane's title stayed on the old one, `G` included. `G` on a run that has ended shows the newest."""
    from panda_tui.store.ledger import RunStatus
    from panda_tui.tui.demo import NOW
    from tests.conftest import ledger_on
    from tests.tui.test_answers import demo_app
    from tests.tui.test_row_words import own_copy
    db = own_copy(demo_db, tmp_path)
    app = demo_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        history, pane = app.main.query_one(HistoryTable), app.main.query_one("#logpane", LogView)
        await until(pilot, lambda: history.row_count > 2, what="db-backup's history")
        await pilot.press("tab", "tab")  # through the history (its newest run) into the log pane
        shown = pane.run_id
        with ledger_on(db) as book:
            run = book.insert("db-backup", NOW - 30, trigger="manual", now=NOW - 30)
            book.start(run.id, NOW - 29)
            book.finish(run.id, RunStatus.FAILED, NOW - 20, exit_code=1, reason="exit 1")
        await until(pilot, lambda: history.ids and history.ids[0] == run.id, what="the new run in the history")
        assert pane.run_id == shown  # the pane stays on the run it shows...
        await pilot.press("G")  # ...until G asks for the newest
        await until(pilot, lambda: pane.run_id == run.id and f"run {run.id}" in pane.query_one(".log-title").render().plain,
                    what="the newest run in the pane and its title")


async def test_a_search_in_the_errors_only_view_says_it_looked_among_the_errors(world):
    """New-user test: in the errors-only view enter opens on a failing run, `/slow` said `no match for 'slow'
    in the whole run`, which has it (`e` showed it, and the old notice stayed up beside the match)."""
    w = world(job("f", command="echo slow start; echo 'error: boom' >&2; exit 1"))
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await pilot.press("t")
        await until(pilot, lambda: app.main.jobs.health("f") and app.main.jobs.health("f").state == "failing")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen))
        view, bar = app.screen.query_one(LogView), app.screen.query_one("#log-notices")
        await until(pilot, lambda: view.errors_only and any("error: boom" in s for s in view.shown), 10,
                    what=f"the errors-only view ({view.errors_only}, {view.shown})")
        await pilot.press("slash", *"slow", "enter")
        await until(pilot, lambda: bar.message.endswith("no match for 'slow' among the errors (e: all lines)"),
                    what="the notice saying where it looked")
        await pilot.press("e")
        await until(pilot, lambda: bar.message.endswith("1 matching line for 'slow' in the whole run"),
                    what="the notice said again of all lines")
        assert "matching line 1/1" in str(view.query_one(".log-title").render())
