"""The notice line: always on screen, however long the notice; a state's notice lasts while the state does,
and goes when it passes."""

from __future__ import annotations

import copy

from panda_tui.config import build_config
from panda_tui.tui.app import PandaApp
from panda_tui.tui.demo import JOBS_TOML, NOW
from panda_tui.tui.marks import Marks
from tests.tui.conftest import until
from tests.tui.test_snapshots import settle


async def test_a_notice_that_wraps_stays_on_screen_above_the_footer(demo_db):
    """Eight jobs fill the job list's rows at 80x24: a notice on two or three rows took one or two more than
    the screen had, which pushed the notice itself below the terminal's last row."""
    table = copy.deepcopy(JOBS_TOML)
    for name in ("x-one", "x-two"):
        table["jobs"][name] = {"schedule": "@daily", "command": "true"}
    app = PandaApp(build_config(table, "jobs.toml"), demo_db, mode="attached", clock=lambda: NOW, marks=Marks())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bar, footer, jobs = app.main.query_one("#notices"), app.main.query_one("Footer"), app.main.jobs
        rows = jobs.region.height
        for words, height in ((20, 2), (35, 3), (2, 1)):
            app.notify(" ".join(["words"] * words), markup=False)
            await until(pilot, lambda: bar.region.height == height, what=f"a notice on {height} rows")
            await pilot.pause()
            assert bar.region.bottom == footer.region.y and footer.region.bottom == 24, (bar.region, footer.region)
            assert app.screen.max_scroll_y == 0
        assert jobs.region.height == rows  # the rows lent come back
