"""Every key, driven with Pilot against a real embedded scheduler on a real store."""

from __future__ import annotations

import textwrap

import pytest

from panda_tui.config import load_config
from panda_tui.engine.daemon import EmbeddedScheduler
from panda_tui.store import connect, lease, ledger as store_ledger, state
from panda_tui.tui.app import PandaApp
from panda_tui.tui.screens.confirm import ConfirmScreen
from panda_tui.tui.screens.help import HelpScreen
from panda_tui.tui.screens.logs import LogScreen
from panda_tui.tui.widgets.job_table import JobTable
from panda_tui.tui.widgets.log_view import LogView

JOBS = """
[jobs.alpha]
schedule = "@daily"
command = "echo alpha says hi; echo '{\\"level\\": \\"error\\", \\"msg\\": \\"boom\\"}'; exit 2"
[jobs.sleeper]
schedule = "@daily"
command = "echo sleeping; sleep 30"
kill_grace = "1s"
[jobs.zeta]
schedule = "@daily"
command = "echo zeta"
"""


@pytest.fixture
def world(tmp_path):
    cfg = tmp_path / "jobs.toml"
    cfg.write_text(textwrap.dedent(JOBS))
    db = str(tmp_path / "panda.db")
    config = load_config(str(cfg))
    embedded = EmbeddedScheduler(config, db)
    embedded.start()
    yield config, db, cfg
    embedded.stop()


def ledger(db: str, job: str):
    conn = connect(db)
    try:
        return list(reversed(store_ledger.history(conn, job, 100)))
    finally:
        conn.close()


async def until(pilot, cond, timeout: float = 10.0):
    for _ in range(int(timeout / 0.05)):
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached on screen")


def select(app: PandaApp, job: str) -> None:
    table = app.screen.query_one(JobTable)
    table.move_cursor(row=table._shown.index(job))


def notices(app: PandaApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_trigger_pause_resume_and_enter_on_a_failing_job(world):
    config, db, _ = world
    app = PandaApp(config, db, mode="embedded")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await until(pilot, lambda: app.screen.query_one(JobTable)._shown)
        select(app, "alpha")
        await pilot.press("t")
        await until(pilot, lambda: ledger(db, "alpha") and ledger(db, "alpha")[-1].status == "failed")
        assert ledger(db, "alpha")[-1].trigger == "manual"
        await until(pilot, lambda: any("run 1 started" in n for n in notices(app)))
        await until(pilot, lambda: app.screen.query_one(JobTable)._shown[0] == "alpha")  # failing sorts first
        app.screen.query_one(JobTable).move_cursor(row=0)
        await pilot.press("p")
        await until(pilot, lambda: "alpha" in state.paused_jobs(connect(db)))
        await until(pilot, lambda: app.screen.query_one(JobTable).health("alpha").paused)
        await pilot.press("p")
        await until(pilot, lambda: "alpha" not in state.paused_jobs(connect(db)))
        app.screen.query_one(JobTable).focus()
        await until(pilot, lambda: app.screen.query_one(JobTable).health("alpha").state == "failing")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen))
        view = app.screen.query_one(LogView)
        await until(pilot, lambda: view.window)
        assert view.errors_only
        shown = [str(line) for line in view.log_widget.lines]
        assert shown == ["  ERROR boom", "# [panda] failed: exit 2"]
        await pilot.press("e")  # all lines
        assert [str(l) for l in view.log_widget.lines][0] == "  alpha says hi"
        await pilot.press("j")  # raw JSON
        assert '{"level": "error", "msg": "boom"}' in [str(l).strip() for l in view.log_widget.lines]
        await pilot.press("slash")
        await pilot.press(*"boom", "enter")
        assert view.matches == [1]
        await pilot.press("n")
        assert view.match_index == 0 and not view.follow  # jumping to a match stops following
        await pilot.press("f", "w")
        assert view.follow and view.wrap
        await pilot.press("escape")
        assert not isinstance(app.screen, LogScreen)


async def test_kill_asks_first_then_kills(world):
    config, db, _ = world
    app = PandaApp(config, db, mode="embedded")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await until(pilot, lambda: app.screen.query_one(JobTable)._shown)
        select(app, "sleeper")
        await pilot.press("k")
        assert "sleeper has no running run to kill" in notices(app)
        await pilot.press("t")
        await until(pilot, lambda: (h := app.screen.query_one(JobTable).health("sleeper")) and h.running)
        select(app, "sleeper")
        await pilot.press("k")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause(0.3)
        assert ledger(db, "sleeper")[-1].status == "running"
        await pilot.press("k")
        await pilot.press("y")
        await until(pilot, lambda: ledger(db, "sleeper")[-1].status == "killed")


async def test_tab_filter_help_palette_and_reload(world):
    config, db, cfg = world
    app = PandaApp(config, db, mode="embedded")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await until(pilot, lambda: app.screen.query_one(JobTable)._shown)
        assert app.focused.id == "jobs"
        await pilot.press("tab")
        assert app.focused.id == "history"
        await pilot.press("tab")
        assert app.focused.id == "log-lines"
        await pilot.press("shift+tab", "shift+tab")
        assert app.focused.id == "jobs"
        await pilot.press("slash", *"zet")
        await pilot.pause(0.1)
        assert app.screen.query_one(JobTable)._shown == ["zeta"]
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert len(app.screen.query_one(JobTable)._shown) == 3
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        assert type(app.screen).__name__ == "CommandPalette"
        await pilot.press("escape")
        cfg.write_text(cfg.read_text().replace('"@daily"', '"@fortnightly"', 1))
        await pilot.press("r")
        assert any("unknown alias '@fortnightly'" in n for n in notices(app))
        cfg.write_text(textwrap.dedent(JOBS) + '[jobs.omega]\nschedule = "@daily"\ncommand = "true"\n')
        await pilot.press("r")
        await until(pilot, lambda: any(n == "reloaded: 4 jobs" for n in notices(app)))
        await until(pilot, lambda: "omega" in app.screen.query_one(JobTable)._shown)
        await pilot.press("q")
    assert app.return_code in (0, None)


async def test_read_only_refuses_every_acting_key_with_a_notice(world):
    config, db, _ = world
    app = PandaApp(config, db, mode="read-only")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await until(pilot, lambda: app.screen.query_one(JobTable)._shown)
        for key in ("t", "p", "k", "r"):
            await pilot.press(key)
        assert notices(app).count("read-only: opened with --read-only") == 4
    conn = connect(db)
    assert conn.execute("SELECT COUNT(*) FROM control").fetchone()[0] == 0


async def test_live_tail_shows_new_lines_quickly(tmp_path):
    cfg = tmp_path / "jobs.toml"
    cfg.write_text('[jobs.talk]\nschedule = "@daily"\ncommand = "for i in 1 2 3 4 5 6; do echo line $i; sleep 0.3; done"\n')
    db = str(tmp_path / "p.db")
    config = load_config(str(cfg))
    embedded = EmbeddedScheduler(config, db)
    embedded.start()
    try:
        app = PandaApp(config, db, mode="embedded")
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.screen.query_one(JobTable)._shown)
            await pilot.press("t")
            view = app.screen.query_one("#logpane", LogView)
            await until(pilot, lambda: any("line 2" in str(l) for l in view.log_widget.lines), 5)
            # the run is still going: line 2 reached the pane while the job was running
            assert ledger(db, "talk")[-1].status == "running"
    finally:
        embedded.stop()


def test_console_embeds_attaches_or_reads_only(tmp_path):
    from panda_tui.cli.console_cmd import decide_mode
    cfg = tmp_path / "jobs.toml"
    cfg.write_text('[jobs.a]\nschedule = "@daily"\ncommand = "true"\n')
    config = load_config(str(cfg))
    db = str(tmp_path / "p.db")
    mode, _, embedded = decide_mode(config, db, read_only=False)
    assert mode == "embedded" and embedded is not None
    try:
        second, _, none = decide_mode(config, db, read_only=False)
        assert second == "attached" and none is None
        assert decide_mode(config, db, read_only=True)[:2] == ("read-only", "opened with --read-only")
    finally:
        embedded.stop()
    conn = connect(db)
    assert lease.live_holder(conn) is None  # quitting released the lease
    # --attach (how `serve` opens a browser console) never embeds, even with no scheduler anywhere
    assert decide_mode(config, db, read_only=False, attach=True) == ("attached", None, None)
    assert lease.live_holder(conn) is None


async def test_clock_tick_during_teardown_is_harmless(world):
    """CI once caught the one-second clock tick landing after the header was pruned at exit."""
    config, db, _ = world
    app = PandaApp(config, db, mode="embedded")
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.screen.query_one(JobTable)._shown)
        await app.screen.query_one("#header").remove()
        app._tick()
        assert app.get_screen_main() is None
        await app.screen.query_one(LogView).query_one("#log-lines").remove()
        view = app.screen.query_one(LogView)
        view.on_log_view_lines(LogView.Lines(view.run_id, [], True, view.run))
