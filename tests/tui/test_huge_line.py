"""A run whose output is one 20 MB line: the log pane reads a bounded prefix of each stored piece with its size,
shows the line once, cut with what is left out, and the console keeps answering keys."""

from __future__ import annotations

from panda_tui.tui.screens.help import HelpScreen
from panda_tui.tui.screens.logs import LogScreen
from panda_tui.tui.widgets.log_view import LogView
from tests.jobfiles import job
from tests.tui.conftest import started, until

HUGE = job("huge", command="head -c 20000000 /dev/zero | tr '\\0' x; echo; echo done")


async def test_a_20_mb_line_is_shown_cut_with_its_size_and_help_still_opens(world):
    w = world(HUGE)
    app = w.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await pilot.press("t")
        await until(pilot, lambda: app.main.jobs.health("huge") and app.main.jobs.health("huge").state == "ok",
                    timeout=60, what="the run over")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen))
        view = app.screen.query_one(LogView)
        await until(pilot, lambda: view.shown and view.shown[-1] == "  done", timeout=30, what="the log shown")
        window = view.log_widget.window
        assert all(len(line.text) <= 2000 for line in window)
        # the line's 306 stored pieces (64 KiB each) shown once: its first 2,000 characters and the rest's size
        assert [line.text for line in window] == ["x" * 2000, "done"]
        assert window[0].more == 20_000_000 - 2000
        assert view.log_widget.shown_text[0].endswith("x … 20.0 MB more; s saves the whole line")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help open")
