"""`enter` and `d` on a job whose state is about failures open the run that explains it (its newest
failure), not merely its newest run; the log's and the diff's titles say which run that is."""

from __future__ import annotations

import copy

from panda_tui.config import build_config
from panda_tui.store.db import Database
from panda_tui.store.ledger import Ledger, RunStatus
from panda_tui.tui.app import PandaApp
from panda_tui.tui.demo import JOBS_TOML, NOW, fill
from panda_tui.tui.marks import Marks
from panda_tui.tui.screens.diff import DiffScreen
from panda_tui.tui.screens.logs import LogScreen
from panda_tui.tui.widgets.log_view import LogView
from tests.tui.conftest import until
from tests.tui.test_answers import select_job
from tests.tui.test_snapshots import settle

FLAPS = (RunStatus.SUCCEEDED, RunStatus.FAILED) * 3 + (RunStatus.SUCCEEDED,)  # oldest first: ends on a success


def flapping_store(db: str, statuses: tuple[RunStatus, ...] = FLAPS) -> dict[str, int]:
    """The demo store with a job `0-flap` that flaps; its newest run succeeded. The ids of its newest run,
    its newest failure and the success before that failure."""
    fill(db)
    store = Database(db)
    ids: list[int] = []
    try:
        book = Ledger(store)
        for n, status in enumerate(statuses):
            slot = NOW - 600 + 60 * n
            run = book.insert("0-flap", slot, trigger="schedule", now=slot)
            assert run is not None
            book.start(run.id, slot + 1)
            code = {RunStatus.SUCCEEDED: 0, RunStatus.KILLED: 143}.get(status, 3)
            book.finish(run.id, status, slot + 2, exit_code=code,
                        reason={0: None, 143: "killed on request"}.get(code, "exit 3"))
            ids.append(run.id)
    finally:
        store.close()
    return {"newest": ids[-1], "failure": ids[-2], "good_before": ids[-3]}


def flapping_app(db: str) -> PandaApp:
    table = copy.deepcopy(JOBS_TOML)
    table["jobs"]["0-flap"] = {"schedule": "* * * * *", "command": "true"}
    return PandaApp(build_config(table, "jobs.toml"), db, mode="attached", clock=lambda: NOW, marks=Marks())


async def test_enter_and_d_on_a_flapping_job_open_its_newest_failure_and_say_so(tmp_path):
    runs = flapping_store(str(tmp_path / "demo.db"))
    app = flapping_app(str(tmp_path / "demo.db"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await select_job(pilot, "0-flap")
        assert app.main.jobs.health("0-flap").state == "flapping"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen), what="the log")
        view = app.screen.query_one(LogView)
        assert app.screen.run_id == runs["failure"], "not the newest run, which succeeded"
        await until(pilot, lambda: "newest failure" in str(view.query_one(".log-title").render()),
                    what="the log's title saying which run it is")
        await pilot.press("d")  # that failure against the last good run before it, not two successes
        await until(pilot, lambda: isinstance(app.screen, DiffScreen) and app.screen.lines, what="the diff")
        assert app.screen.lines[0].startswith(f"run {runs['failure']} (failed) against run {runs['good_before']}")
        await pilot.press("escape", "escape")
        await until(pilot, lambda: app.screen is app.main)
        await pilot.press("d")  # on the main screen too (the log pane shows the newest run)
        await until(pilot, lambda: isinstance(app.screen, DiffScreen) and app.screen.lines, what="the diff")
        assert app.screen.lines[0].startswith(f"run {runs['failure']} (failed)")
        assert "newest failure" in str(app.screen.query_one("#diff-title").render())


async def test_enter_on_a_failing_job_whose_newest_run_was_killed_opens_the_failure_not_the_kill(tmp_path):
    """A kill on purpose is no failure: the run `enter` opens is the one the detail line names."""
    runs = flapping_store(str(tmp_path / "demo.db"), (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.KILLED))
    app = flapping_app(str(tmp_path / "demo.db"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await select_job(pilot, "0-flap")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen), what="the log")
        assert app.screen.run_id == runs["failure"], "the failure before the kill, not the kill"


async def test_enter_on_a_missed_job_opens_its_missed_slot_with_the_reason(demo_db):
    app = PandaApp(build_config(JOBS_TOML, "jobs.toml"), demo_db, mode="attached", clock=lambda: NOW, marks=Marks())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await select_job(pilot, "report-mail")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen), what="the log")
        view = app.screen.query_one(LogView)
        await until(pilot, lambda: view.run is not None, what="the run read")
        assert view.run.status == "missed" and "newest missed slot" in str(view.query_one(".log-title").render())
        await until(pilot, lambda: any("scheduler down from" in line for line in view.shown), what="the reason")
