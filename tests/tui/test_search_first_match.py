"""`/` shows the first match at once, whether or not the window already holds it (new-user test, finding 1)."""

from __future__ import annotations

from panda_tui.tui.widgets.log_view import LogView
from tests.jobfiles import job
from tests.tui.conftest import started, until
from tests.tui.test_logs_and_navigation import ask

# 60 lines of 320 characters each, ending END1 … END60: wrapped, the pane's 4 rows hold a fragment of one
WIDE_LINES = job("wide60", command="for i in $(seq 1 60); do printf '%0316d' 0; echo END$i; done")


async def finished_wide_run(app, pilot, w) -> LogView:
    """The console up, wide60 run to its end and shown in the log pane, the pane's lines focused."""
    await started(app, pilot)
    ask(w.db, "trigger", "wide60")
    pane = app.main.query_one(LogView)
    await until(pilot, lambda: pane.run is not None and pane.run.finished_at is not None
                and any(line.endswith("END60") for line in pane.shown), what="the finished run's last line")
    pane.log_widget.focus()
    return pane


async def test_slash_brings_the_first_match_into_view_when_the_window_holds_it(world):
    w = world(WIDE_LINES)
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await finished_wide_run(app, pilot, w)
        lines = pane.log_widget
        await pilot.press("slash", *"END4", "enter")
        await until(pilot, lambda: "matching line 1/11" in str(pane.query_one(".log-title").render()),
                    what="the counter")

        def on_screen() -> list[str]:
            top = round(lines.scroll_offset.y)
            return pane.shown[top:top + lines.scrollable_content_region.height]

        # the match n / N went to, marked, in view (the 4 rows hold the last of line 3 and the start of line 4)
        await until(pilot, lambda: any(row[1:2] == "▶" for row in on_screen()), timeout=5, what="the first match")
        await pilot.press("n", "N")  # to 2/11 and back
        await until(pilot, lambda: any(row[1:2] == "▶" for row in on_screen()), timeout=5, what="N: the first match")


async def test_arrows_step_a_quarter_of_the_pane_shift_one_column_and_end_keeps_the_column(world):
    """Unwrapped (w), `→` moves a quarter of the pane's width (a 320-char line is a few presses away, not
    hundreds), shift+→ one column, and End goes to the newest line without losing the column."""
    w = world(WIDE_LINES)
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await finished_wide_run(app, pilot, w)
        lines = pane.log_widget
        await pilot.press("w")
        await until(pilot, lambda: lines.max_scroll_x > 200, what="unwrapped")
        quarter = lines.scrollable_content_region.width // 4
        assert quarter >= 15
        await pilot.press("right")
        await until(pilot, lambda: lines.scroll_x == quarter, timeout=5, what="a quarter of the pane")
        await pilot.press("shift+right")
        await until(pilot, lambda: lines.scroll_x == quarter + 1, timeout=5, what="one column more")
        await pilot.press("left")
        await until(pilot, lambda: lines.scroll_x == 1, timeout=5, what="a quarter back")
        await pilot.press("right", "end")
        await until(pilot, lambda: lines.is_vertical_scroll_end and pane.shown[-1].endswith("END60"), timeout=5,
                    what="the newest line")
        await pilot.pause()
        assert lines.scroll_x == quarter + 1  # still in the column the user was at


async def test_each_search_box_says_what_it_searches_while_words_are_typed_in_it(demo_db):
    """New-user test: the box had only a placeholder, gone with the first letter typed."""
    from tests.tui.test_answers import demo_app
    app = demo_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await pilot.press("slash", "c", "a")
        box = app.main.query_one("#job-filter")
        assert box.value == "ca" and box.border_title == "filter jobs by name"
        await pilot.press("enter", "tab", "tab", "slash", "e")
        search = app.main.query_one("#logpane", LogView).search
        await until(pilot, lambda: search.has_focus and search.value == "e", what="the log's search box")
        assert search.border_title == "search this run's whole log"


async def test_the_log_screen_s_footer_names_n_and_n_and_they_go_through_the_matches(world):
    """New-user test: n / N were missing from the log screen's footer. The main screen's footer, with the log
    pane focused, has no room for them at 80 columns (`?` lists them there)."""
    from panda_tui.tui.screens.logs import LogScreen
    w = world(WIDE_LINES)
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished_wide_run(app, pilot, w)

        def footer() -> dict[str, str]:
            return {key: b.description for key, (_, b, enabled, _) in app.screen.active_bindings.items()
                    if b.show and enabled}
        assert not {"n", "N"} & set(footer())
        app.main.jobs.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen), what="the log screen")
        assert footer()["n"] == "next" and footer()["N"] == "prev"
        full = app.screen.query_one(LogView)
        await pilot.press("slash", *"END4", "enter")
        await until(pilot, lambda: "matching line 1/11" in str(full.query_one(".log-title").render()), what="1/11")
        await pilot.press("n")
        await until(pilot, lambda: "matching line 2/11" in str(full.query_one(".log-title").render()), what="2/11")
