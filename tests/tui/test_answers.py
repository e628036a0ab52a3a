"""Issue 21, the console side: the answer is on the screen without hunting for it (demo store, fixed clock)."""

from __future__ import annotations

from panda_tui.tui.app import PandaApp
from panda_tui.tui.demo import NOW, demo_config
from panda_tui.tui.marks import Marks
from panda_tui.tui.screens.logs import LogScreen
from panda_tui.tui.widgets.history_table import HistoryTable
from panda_tui.tui.widgets.log_view import LogView
from tests.tui.conftest import until
from tests.tui.test_snapshots import settle


def demo_app(db: str, **kwargs) -> PandaApp:
    kwargs.setdefault("marks", Marks())
    return PandaApp(demo_config(), db, mode="attached", clock=lambda: NOW, **kwargs)


async def select_job(pilot, name: str) -> None:
    app = pilot.app
    while app.main.jobs.selected != name:
        await pilot.press("down")
    await until(pilot, lambda: app.main.query_one(HistoryTable).runs
                and next(iter(app.main.query_one(HistoryTable).runs.values())).job == name)


async def test_a_missed_run_shows_its_whole_reason_in_the_pane_and_when_opened(demo_db):
    app = demo_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await select_job(pilot, "report-mail")
        await pilot.press("tab")  # the history: its newest row, a missed slot
        pane = app.main.query_one("#logpane", LogView)
        reason = "scheduler down from 02:10 to 09:40; catchup = none"
        await until(pilot, lambda: any(reason in line for line in pane.log_widget.shown_text), what="the reason")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen))
        full = app.screen.query_one(LogView)
        await until(pilot, lambda: any(reason in line for line in full.log_widget.shown_text), what="reason opened")
        assert any("missed: no log" in line for line in full.log_widget.shown_text)
