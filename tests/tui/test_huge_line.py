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


GROWING = job("growing", command="for i in 1 2 3 4; do head -c 200000 /dev/zero | tr '\\0' y; sleep 1.5; done; "
                                 "echo; echo done")


async def test_a_line_that_grows_while_followed_is_one_line_whose_size_only_grows(world):
    """Pieces that keep coming for longer than the pane holds a line back: the pane shows it once, its size
    growing, and ends at the whole line's (as a full-screen log of the run shows it)."""
    w = world(GROWING)
    app = w.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        pane = app.main.query_one("#logpane", LogView)
        await pilot.press("t")
        sizes: list[int] = []

        def over() -> bool:
            window = pane.log_widget.window
            longs = [line for line in window if line.text.startswith("y")]
            assert len(longs) <= 1, [(line.seq, line.upto, line.more) for line in longs]  # never pieces as lines
            if longs and (not sizes or sizes[-1] != longs[0].more):
                sizes.append(longs[0].more)
            return bool(window) and window[-1].text == "done"

        await until(pilot, over, timeout=60, what="the run followed to its end")
        assert len(sizes) > 1 and sizes == sorted(sizes), sizes  # shown while it grew, never shrinking
        assert sizes[-1] == 800_000 - 2000
        said = pane.log_widget.shown_text[-2]
        assert said.endswith("y … 798.0 kB more; s saves the whole line")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen))
        view = app.screen.query_one(LogView)
        await until(pilot, lambda: view.shown and view.shown[-1] == "  done", what="the full-screen log")
        assert view.log_widget.shown_text[-2] == said  # one way of counting it, both places
