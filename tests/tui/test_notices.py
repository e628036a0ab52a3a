"""The notice line: always on screen, however long the notice; a state's notice lasts while the state does,
and goes when it passes."""

from __future__ import annotations

import copy

from panda_tui.config import build_config
from panda_tui.tui.app import PandaApp
from panda_tui.tui.demo import JOBS_TOML, NOW
from panda_tui.tui.marks import Marks
from tests.tui.conftest import idle_store, started, until, write_store
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


async def test_a_daemon_gone_is_said_with_s_offered_until_a_scheduler_runs_again(world):
    from panda_tui.cli.console_cmd import decide_mode
    from panda_tui.config import load_config
    from tests.jobfiles import job
    w = world(job("zeta"))
    schedulers = []

    def starter():
        schedulers.append(decide_mode(load_config(str(w.cfg)), w.db, read_only=False, embed=True)[2])
        return schedulers[-1]

    app = w.app(starter=starter)
    offer = "no scheduler is running: press S to run the scheduler here"
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await started(app, pilot)
            bar = app.main.query_one("#notices")
            w.scheduler.stop()  # the daemon goes away
            await until(pilot, lambda: bar.message == offer, what="the notice offering S")
            app.notify("an answer to some key", timeout=0.2, markup=False)  # said over it, for its time
            await until(pilot, lambda: bar.message == offer, what="the offer back once the answer had its time")
            await pilot.press("S")
            await until(pilot, lambda: "embedded" in app.main.query_one("#header").words)
            await until(pilot, lambda: not bar.message.startswith("no scheduler"), what="the offer withdrawn")
            app.notify("another answer", timeout=0.2, markup=False)
            await until(pilot, lambda: bar.message == "", what="nothing standing once a scheduler runs")
    finally:
        for scheduler in schedulers:
            if scheduler is not None:
                scheduler.stop()


async def test_a_refused_jobs_toml_is_no_longer_said_once_the_file_is_accepted_again(world):
    """The file put back as it was is no reload (the jobs are the same), so nothing else would replace the
    error in the notice line for its 30 s."""
    from tests.jobfiles import job
    w = world(job("zeta"))
    app = w.app()
    good = w.cfg.read_text()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        bar = app.main.query_one("#notices")
        w.cfg.write_text(good.replace('"@daily"', '"@fortnightly"', 1))
        await until(pilot, lambda: bar.message.startswith("jobs.toml refused"), 15, what="the refusal said")
        w.cfg.write_text(good)
        await until(pilot, lambda: "toml refused" not in app.main.query_one("#header").words, 15)  # at 80 columns
        assert not bar.message.startswith("jobs.toml refused")  # by the same read that cleared the header


async def test_with_no_scheduler_the_job_list_follows_jobs_toml_and_keeps_the_last_list_when_refused(tmp_path):
    """New-user test: with no scheduler, an edited jobs.toml left the console on the jobs of its launch (their
    schedules, and no word of the change) until S."""
    import time

    from panda_tui.readmodel.running import RunningConfig
    from panda_tui.store import state
    from tests.jobfiles import job, write_jobs
    cfg, db = idle_store(tmp_path, job("alpha"))
    write_store(db, lambda conn: state.record_reload(  # the daemon that died had refused an edit since put right
        conn, time.time(), "file changed", ['jobs.toml: job "alpha": schedule: bad']))
    app = PandaApp(RunningConfig(cfg), db, mode="attached", marks=Marks())
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot, rows=["alpha"])
        bar, header = app.main.query_one("#notices"), app.main.query_one("#header")
        assert "refused" not in header.words
        write_jobs(tmp_path, job("alpha", "@hourly"), job("beta"))
        await started(app, pilot, rows=["alpha", "beta"])
        await until(pilot, lambda: bar.message.startswith("jobs.toml re-read: 2 jobs"), what="the change said")
        assert app.main.shown.schedules()["alpha"] == "@hourly" and "refused" not in header.words
        write_jobs(tmp_path, job("alpha", "@hourly"), job("beta", "@fortnightly"))
        await until(pilot, lambda: bar.message.startswith("jobs.toml refused"), what="the refusal said")
        assert 'job "beta": schedule' in bar.message and app.main.jobs.rows_shown == ["alpha", "beta"]
        assert app.main.shown.schedules()["alpha"] == "@hourly"


async def test_s_in_an_attach_console_says_why_it_starts_no_scheduler(world, tmp_path):
    """New-user test: S in a console opened with --attach (no starter) did nothing, and said nothing."""
    from panda_tui.readmodel.running import RunningConfig
    from tests.jobfiles import job
    (idle := tmp_path / "idle").mkdir()  # the world writes its own jobs.toml and store in tmp_path
    cfg, db = idle_store(idle, job("alpha"))
    for app in (PandaApp(RunningConfig(cfg), db, mode="attached", marks=Marks()), world(job("zeta")).app()):
        async with app.run_test(size=(80, 24)) as pilot:
            await started(app, pilot)
            bar, controls = app.main.query_one("#notices"), app.services.controls
            await pilot.press("S")
            running = app.services.latest.snapshot.holder is not None
            said = controls.attached() if running else controls.no_scheduler()
            await until(pilot, lambda: bar.message == said, what="why S starts none")
            assert "--embed" in said and (not running or "systemctl" in said)


async def test_a_notice_that_wraps_starts_its_next_lines_under_its_words(demo_db):
    """New-user test: the second line of a wrapped notice began at the screen's edge, under the mark."""
    app = PandaApp(build_config(JOBS_TOML, "jobs.toml"), demo_db, mode="attached", clock=lambda: NOW, marks=Marks())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bar = app.main.query_one("#notices")
        for words, rows in ((20, 2), (60, 3)):
            app.notify(" ".join(["words"] * words), markup=False)
            await until(pilot, lambda: bar.region.height == rows, what=f"a notice on {rows} rows")
            lines = str(bar.render()).split("\n")
            assert lines[0].startswith(" › words") and len(lines) == rows, lines
            assert all(line.startswith("   words") and len(line) <= 80 for line in lines[1:]), lines
        assert lines[-1].endswith("…")


async def test_a_daemon_killed_on_this_host_is_seen_gone_at_the_next_tick_as_status_sees_it(tmp_path, monkeypatch):
    """New-user test: after `kill -9` of the daemon, `status` said NOT RUNNING at once, the console ~10 s later:
    the store does not change when a daemon dies, and the console only read it again every FULL_READ_EVERY."""
    import socket
    import subprocess
    from panda_tui.readmodel.running import RunningConfig
    from panda_tui.store import lease
    from panda_tui.tui.screens import main
    from tests.jobfiles import job
    monkeypatch.setattr(main, "FULL_READ_EVERY", 1e9)  # only the liveness check can tell it
    cfg, db = idle_store(tmp_path, job("zeta"))
    daemon = subprocess.Popen(["sleep", "600"])  # stands for the daemon: its pid is what dies
    owner = f"{socket.gethostname()}:{daemon.pid}:0.000:daemon"
    write_store(db, lambda conn: lease.record(conn, owner, NOW, 4e9, 4e9))  # a heartbeat that never lapses
    app = PandaApp(RunningConfig(cfg), db, mode="attached")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await started(app, pilot)
            await until(pilot, lambda: app.services.latest.snapshot and app.services.latest.snapshot.holder == owner)
            daemon.kill()
            daemon.wait()
            await until(pilot, lambda: app.services.latest.snapshot.holder is None, what="the daemon seen gone")
    finally:
        daemon.kill()
        daemon.wait()
