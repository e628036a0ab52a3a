"""Every key, driven with Pilot against a real scheduler on a real store."""

from __future__ import annotations

import pytest
from textual import events

from panda_tui.store import connect, lease
from panda_tui.store import ledger as store_ledger
from panda_tui.store import state
from panda_tui.tui.app import PandaApp
from panda_tui.tui.log_tail import Tail, TailLines, TailWindow
from panda_tui.tui.screens.confirm import ConfirmScreen
from panda_tui.tui.screens.help import HelpScreen
from panda_tui.tui.screens.logs import LogScreen
from panda_tui.tui.widgets.log_view import LogView
from tests.jobfiles import job
from tests.tui.conftest import started, until

ALPHA = job("alpha", command="""echo alpha says hi; echo '{"level": "error", "msg": "boom"}'; exit 2""")
SLEEPER = job("sleeper", command="echo sleeping; sleep 30", kill_grace="1s")
ZETA = job("zeta", command="echo zeta")


def ledger(db: str, name: str):
    conn = connect(db)
    try:
        return list(reversed(store_ledger.history(conn, name, 100)))
    finally:
        conn.close()


def select(app: PandaApp, name: str) -> None:
    table = app.main.jobs
    table.move_cursor(row=table.rows_shown.index(name))


async def test_trigger_pause_resume_and_enter_on_a_failing_job(world):
    w = world(ALPHA, SLEEPER, ZETA)
    app = w.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        select(app, "alpha")
        await pilot.press("t")
        await until(pilot, lambda: ledger(w.db, "alpha") and ledger(w.db, "alpha")[-1].status == "failed")
        assert ledger(w.db, "alpha")[-1].trigger == "manual"
        await until(pilot, lambda: any("run 1 started" in n for n in app.notices.messages))
        await until(pilot, lambda: app.main.jobs.rows_shown[0] == "alpha")  # failing sorts first
        assert app.main.jobs.selected == "alpha"  # and the cursor went with it
        await pilot.press("p")
        await until(pilot, lambda: "alpha" in state.paused_jobs(connect(w.db)))
        await until(pilot, lambda: app.main.jobs.health("alpha").paused)
        await pilot.press("p")
        await until(pilot, lambda: "alpha" not in state.paused_jobs(connect(w.db)))
        await until(pilot, lambda: app.main.jobs.health("alpha").state == "failing")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LogScreen))
        view = app.screen.query_one(LogView)
        await until(pilot, lambda: view.log_widget.window)
        assert view.errors_only and view.shown == ["  ERROR boom", "# [panda] failed: exit 2"]
        await pilot.press("e")  # all lines
        await until(pilot, lambda: view.shown and view.shown[0] == "  alpha says hi")
        await pilot.press("j")  # raw JSON
        assert '{"level": "error", "msg": "boom"}' in [line.strip() for line in view.shown]
        await pilot.press("f")  # a run that ended: nothing to follow, and the notice line says why
        await until(pilot, lambda: app.notices.messages and "has ended (failed): nothing to follow"
                    in app.notices.messages[-1], what="why f does nothing")
        await pilot.press("w")
        assert not view.log_widget.wrap  # wrap is on by default; w turns it off
        await pilot.press("escape")
        assert not isinstance(app.screen, LogScreen)


async def test_kill_asks_first_then_kills(world):
    w = world(SLEEPER)
    app = w.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await pilot.press("k")
        assert app.notices.messages[-1] == "sleeper has no running run to kill"
        await pilot.press("t")
        await until(pilot, lambda: (h := app.main.jobs.health("sleeper")) and h.running)
        await pilot.press("k")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert not isinstance(app.screen, ConfirmScreen)
        conn = connect(w.db)
        assert conn.execute("SELECT COUNT(*) FROM control WHERE kind='kill'").fetchone()[0] == 0  # nothing asked
        await pilot.press("k", "y")
        await until(pilot, lambda: ledger(w.db, "sleeper")[-1].status == "killed")
        run = ledger(w.db, "sleeper")[-1]
        await until(pilot, lambda: app.notices.messages[-1].startswith(f"run {run.id} (sleeper) killed"),
                    what="the kill's end said, not only its start")


async def test_t_and_p_on_a_job_only_exec_runs_say_why_nothing_happens(world):
    """Said by the console itself: it knows the job is not in jobs.toml, with a scheduler to ask or none."""
    from tests.conftest import run_cli
    w = world(ZETA)
    assert run_cli("exec", "cronjob", "--config", str(w.cfg), "--db", w.db, "--", "sh", "-c", "exit 3").returncode == 3
    w.scheduler.stop()
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot, count=2)
        select(app, "cronjob")
        for key, verb in (("t", "trigger"), ("p", "pause")):
            await pilot.press(key)
            await until(pilot, lambda: app.notices.messages[-1].startswith(
                f'cannot {verb} "cronjob": only `panda-tui exec` runs it'), what=f"why {key} does nothing")
    conn = connect(w.db)
    assert conn.execute("SELECT COUNT(*) FROM control").fetchone()[0] == 0  # nothing was asked


async def kill_asked(app: PandaApp, pilot, name: str) -> ConfirmScreen:
    """The console's only job, triggered and running, and `k` asking whether to kill it: the question."""
    await started(app, pilot)
    await pilot.press("t")
    await until(pilot, lambda: (h := app.main.jobs.health(name)) and h.running)
    await pilot.press("k")
    assert isinstance(app.screen, ConfirmScreen)
    return app.screen


async def test_a_kill_question_whose_run_ends_by_itself_says_so_and_kills_nothing(world, tmp_path):
    gate = tmp_path / "gate"
    w = world(job("waiter", command=f"while [ ! -e {gate} ]; do sleep 0.05; done; echo done"))
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await kill_asked(app, pilot, "waiter")
        gate.touch()  # the run ends while the question is open
        await until(pilot, lambda: "ended by itself" in app.screen.question, what="the question overtaken")
        run = ledger(w.db, "waiter")[-1]
        assert app.screen.question.startswith(f"Run {run.id} of waiter ended by itself before it was killed "
                                              "(succeeded)")
        await pilot.press("y")  # too late to mean it: nothing is killed
        assert not isinstance(app.screen, ConfirmScreen)
        # and the notice line keeps how it ended (new-user test: `y` left it empty)
        assert app.notices.messages[-1] == f"run {run.id} already ended: succeeded"
    conn = connect(w.db)
    assert conn.execute("SELECT COUNT(*) FROM control WHERE kind='kill'").fetchone()[0] == 0


async def test_a_yes_that_comes_after_the_run_ended_says_how_it_ended(world):
    """`k`, then `y` as the run times out, before the console read its end: how it ended, not "no running run"."""
    import time
    w = world(job("slowish", command="echo starting; sleep 30", timeout="2s", kill_grace="1s"))
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        asking = await kill_asked(app, pilot, "slowish")
        run_id = app.main.jobs.health("slowish").running[0]
        # the run times out while the console's loop is held, so the console cannot have read its end yet
        while ledger(w.db, "slowish")[-1].status == "running":
            time.sleep(0.05)
        assert not asking.overtaken
        asking.action_answer(True)
        await until(pilot, lambda: app.notices.messages[-1].startswith(f"run {run_id} already ended: timeout "
                                                                       "(timed out after 2s"), what="how it ended")


async def sleeper_removed_while_it_runs(app, pilot, tmp_path) -> None:
    """sleeper runs, then leaves jobs.toml (the scheduler reloads): listed as removed while its run goes on."""
    from tests.jobfiles import QUICK_STOP, write_jobs
    await started(app, pilot, count=2)
    select(app, "sleeper")
    await pilot.press("t")
    await until(pilot, lambda: (h := app.main.jobs.health("sleeper")) and h.running)
    write_jobs(tmp_path, ZETA, QUICK_STOP)
    await pilot.press("r")  # the scheduler reloads: sleeper is no longer in its jobs
    await until(pilot, lambda: (h := app.main.jobs.health("sleeper")) is not None and h.removed,
                what="sleeper listed as removed")


async def test_a_run_whose_job_left_jobs_toml_stays_listed_and_killable_until_it_ends(world, tmp_path):
    """New-user test: removing a job from jobs.toml while it ran hid the run from the console (the header
    still counted it running) and `k` could not reach it."""
    w = world(SLEEPER, ZETA)
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sleeper_removed_while_it_runs(app, pilot, tmp_path)
        row = app.main.jobs.get_row_at(app.main.jobs.rows_shown.index("sleeper"))
        assert str(row[app.main.jobs.shown_columns.index("NEXT")]) == "removed"
        select(app, "sleeper")
        await pilot.press("k")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: ledger(w.db, "sleeper")[-1].status == "killed")
        await until(pilot, lambda: app.main.jobs.rows_shown == ["zeta"], what="sleeper gone once its run ended")


async def test_a_filtered_job_that_left_jobs_toml_is_said_removed_once_its_run_ends(world, tmp_path):
    """New-user test: with the filter on the removed job, its detail line read `not in jobs.toml: run only by
    `panda-tui exec`` once its run ended (it never was an exec job)."""
    from panda_tui.tui.shown_jobs import LEFT
    w = world(SLEEPER, ZETA)
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sleeper_removed_while_it_runs(app, pilot, tmp_path)
        await pilot.press("slash", *"sleep", "enter")
        await until(pilot, lambda: app.main.jobs.rows_shown == ["sleeper"], what="the filter on sleeper")
        await pilot.press("k", "y")
        await until(pilot, lambda: ledger(w.db, "sleeper")[-1].status == "killed")
        await until(pilot, lambda: app.main.jobs.rows_shown == [], what="sleeper gone once its run ended")
        detail = app.main.query_one("#trend")
        await until(pilot, lambda: LEFT in detail.words, what="the detail line saying it left jobs.toml")
        assert "panda-tui exec" not in detail.words


async def test_tab_filter_help_and_palette(world):
    w = world(ALPHA, SLEEPER, ZETA)
    app = w.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        assert app.focused.id == "jobs"
        await pilot.press("tab")
        assert app.focused.id == "history"
        await pilot.press("tab")
        assert app.focused.id == "log-lines"
        await pilot.press("shift+tab", "shift+tab")
        assert app.focused.id == "jobs"
        select(app, "sleeper")
        await pilot.press("slash", *"e")
        await until(pilot, lambda: app.main.jobs.rows_shown == ["sleeper", "zeta"])
        assert app.main.jobs.border_title == "jobs · filter 'e': 2 of 3"  # the active filter is shown
        assert app.main.jobs.selected == "sleeper"
        await pilot.press("escape")
        await until(pilot, lambda: len(app.main.jobs.rows_shown) == 3)
        assert app.main.jobs.selected == "sleeper" and app.main.jobs.border_title == "jobs"  # still selected
        await pilot.press("G")
        assert app.main.jobs.selected == app.main.jobs.rows_shown[-1]
        await pilot.press("home")
        assert app.main.jobs.selected == app.main.jobs.rows_shown[0]
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette")
        await pilot.press("escape")
        await pilot.press("q")
    assert app.return_code in (0, None)


async def test_an_attached_console_follows_reloads_and_shows_a_refusal(world):
    w = world(ALPHA, ZETA)
    app = w.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.main and set(app.main.jobs.rows_shown) == {"alpha", "zeta"})
        w.cfg.write_text(w.cfg.read_text() + job("omega"))  # the scheduler sees the change by itself
        await until(pilot, lambda: "omega" in app.main.jobs.rows_shown, what="omega, without a key")
        w.cfg.write_text(w.cfg.read_text().replace('"@daily"', '"@fortnightly"', 1))
        await until(pilot, lambda: "jobs.toml refused" in app.main.query_one("#header").words)
        assert "omega" in app.main.jobs.rows_shown  # the last good config still runs, and shows
        await until(pilot, lambda: any("unknown alias '@fortnightly'" in n for n in app.notices.messages))
        await pilot.press("r")  # asking again gets the same answer, in the notice line
        await until(pilot, lambda: any("refused, the last good config keeps running" in n
                                       for n in app.notices.messages))
        assert not app.query("Toast")  # notices never cover the log pane


async def test_a_read_only_console_advertises_no_acting_key_and_answers_each(world):
    w = world(ALPHA)
    app = w.app(mode="read-only")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        footer = " ".join(binding.description for (_, binding, enabled, _) in app.active_bindings.values()
                          if binding.show and enabled)
        assert "quit" in footer and not {"trigger", "kill", "reload", "pause/resume"} & set(footer.split())
        for key in ("t", "p", "k", "r"):
            await pilot.press(key)
        said = [n for n in app.notices.messages if n.startswith("read-only (opened with --read-only): ")]
        assert [n.split(": ")[1].split()[0] for n in said] == ["t", "p", "k", "r"]  # each key named
        await pilot.press("question_mark")
        assert "trigger the selected job now" not in str(app.screen.query_one("#help-keys").render())
    conn = connect(w.db)
    assert conn.execute("SELECT COUNT(*) FROM control").fetchone()[0] == 0


async def test_a_read_only_console_sees_the_scheduler_die(world):
    w = world(ZETA)
    app = w.app(mode="read-only")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        table = app.main.jobs
        next_cell = lambda: str(table.get_row_at(0)[table.shown_columns.index("NEXT")])  # noqa: E731
        assert "no scheduler" not in app.main.query_one("#header").words
        assert next_cell().startswith("in ")
        w.scheduler.stop()
        await until(pilot, lambda: "no scheduler!" in app.main.query_one("#header").words, 15)
        assert next_cell() == "stopped"  # no time that nothing is there to keep


async def test_live_tail_shows_new_lines_while_the_run_goes_on(world, tmp_path):
    gate = tmp_path / "gate"  # the job goes on until the test has seen its lines: no race with a slow machine
    w = world(job("talk", command=f"echo line 1; echo line 2; while [ ! -e {gate} ]; do sleep 0.05; done; echo end"))
    app = w.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await pilot.press("t")
        view = app.main.query_one("#logpane", LogView)
        await until(pilot, lambda: any("line 2" in line for line in view.shown))
        assert ledger(w.db, "talk")[-1].status == "running"  # line 2 reached the pane while the job ran
        gate.touch()
        await until(pilot, lambda: any("end" in line for line in view.shown))


async def test_quitting_an_embedded_console_with_runs_going_asks_first(world):
    w = world(SLEEPER)
    app = w.app(mode="embedded")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await pilot.press("t")
        await until(pilot, lambda: app.services.latest.snapshot and app.services.latest.snapshot.running)
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        assert "1 run in progress will be stopped" in app.screen.question
        await pilot.press("n")
        assert app.is_running
        await pilot.press("q", "y")
    assert app.return_code in (0, None)


async def test_q_right_after_t_asks_first_though_no_read_shows_the_run_yet(world):
    """A fast `t` `q`: q comes before the trigger's request is written, let alone read back as running."""
    w = world(SLEEPER)
    app = w.app(mode="embedded")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        burst(app, "tq")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question before quitting")
        assert app.is_running and "1 run" in app.screen.question
        await pilot.press("n")
        await until(pilot, lambda: ledger(w.db, "sleeper") and ledger(w.db, "sleeper")[-1].status == "running")
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen) and "1 run in progress will be stopped" in app.screen.question
        await pilot.press("y")
    assert app.return_code in (0, None)


def test_console_embeds_attaches_or_reads_only(tmp_path):
    from panda_tui.cli.console_cmd import decide_mode
    from panda_tui.config import load_config
    from tests.jobfiles import write_jobs
    cfg, db = write_jobs(tmp_path, job("a"))
    config = load_config(cfg)
    from panda_tui.tui.mode import ConsoleMode
    mode, _, embedded = decide_mode(config, db, read_only=False)
    assert mode is ConsoleMode.EMBEDDED and embedded is not None
    try:
        second, _, none = decide_mode(config, db, read_only=False)
        assert second is ConsoleMode.ATTACHED and none is None
        assert decide_mode(config, db, read_only=True)[:2] == (ConsoleMode.READ_ONLY, "opened with --read-only")
    finally:
        embedded.stop()
    assert lease.live_holder(connect(db)) is None  # quitting released the lease


@pytest.mark.parametrize("broken", ["missing", "invalid"])
def test_the_console_opens_on_a_broken_jobs_toml_only_when_there_is_something_to_show(tmp_path, broken):
    from tests.conftest import run_cli
    cfg = tmp_path / "jobs.toml"
    if broken == "invalid":
        cfg.write_text('[jobs.a]\nschedule = "@fortnightly"\ncommand = "true"\n')
    result = run_cli("--config", str(cfg), "--db", str(tmp_path / "empty.db"), timeout=30)
    assert result.returncode == 2 and "Traceback" not in result.stderr  # an empty store: nothing to show
    assert ("file not found" if broken == "missing" else "unknown alias") in result.stderr


async def test_a_clock_tick_or_a_late_read_during_teardown_is_harmless(world):
    w = world(ZETA)
    app = w.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        main = app.main
        await main.query_one("#header").remove()
        main.tick()
        view = main.query_one(LogView)
        await view.query_one("#log-lines").remove()
        view.on_tail_window(TailWindow(Tail(view.run_id or 0, False), [], view.run))
        view.on_tail_lines(TailLines(Tail(view.run_id or 0, False)))


async def test_a_console_that_embeds_the_scheduler_again_keeps_its_warning_and_names_only_real_reloads(world):
    """The second launch of `panda-tui` on a database: the jobs the last scheduler stored show first, then
    its own scheduler stores the same jobs anew. That is no reload, and must not push the warning away."""
    from panda_tui.config import load_config
    from panda_tui.engine.daemon import EmbeddedScheduler
    w = world(ZETA)
    w.scheduler.stop()
    again = EmbeddedScheduler(load_config(str(w.cfg)), w.db)
    again.acquire()  # as `panda-tui` does: the lease first, the loop after the first screen
    app = w.app(mode="embedded")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.main and app.main.jobs.rows_shown == ["zeta"] and app.notices.messages)
            again.launch()  # after the first screen, as `panda-tui` does
            await until(pilot, lambda: app.main.jobs.health("zeta").next_at is not None)
            w.cfg.write_text(w.cfg.read_text() + job("yankee"))
            await until(pilot, lambda: app.main.jobs.rows_shown == ["yankee", "zeta"], 15)
            said = app.notices.messages
            assert said[0] == "no daemon found: this console runs the scheduler; quitting stops it"
            assert [n for n in said if "reloaded" in n] == ["the scheduler reloaded: 2 jobs"]  # the edit alone
    finally:
        again.stop()


async def test_no_scheduler_is_said_until_one_is_back(world):
    from panda_tui.config import load_config
    from panda_tui.engine.daemon import EmbeddedScheduler
    w = world(ZETA)
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        bar = app.main.query_one("#notices")
        w.scheduler.stop()
        await until(pilot, lambda: "no scheduler!" in app.main.query_one("#header").words, 15)
        await pilot.press("t")
        await until(pilot, lambda: bar.message.startswith("no scheduler is running"))
        back = EmbeddedScheduler(load_config(str(w.cfg)), w.db)
        back.start()
        try:
            await until(pilot, lambda: bar.message == "", 15, what="the refusal withdrawn once a scheduler is back")
        finally:
            back.stop()


async def test_s_starts_the_scheduler_on_the_jobs_toml_on_disk_not_the_one_read_when_the_console_opened(world):
    """The new-user test: a job added (the daemon reloaded, the console listed it), the daemon stopped, S: the
    scheduler started with the jobs the console read when it opened, and the added job disappeared."""
    from panda_tui.cli.console_cmd import embedded_mode
    from panda_tui.config import load_config
    w = world(ZETA)
    read_at_open = load_config(str(w.cfg))  # as `panda-tui` reads it, and hands it to its S
    schedulers = []

    def starter():
        schedulers.append(embedded_mode(read_at_open, w.db)[2])
        return schedulers[-1]

    app = w.app(starter=starter)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await started(app, pilot, ["zeta"])
            w.cfg.write_text(w.cfg.read_text() + job("yankee"))
            await started(app, pilot, ["yankee", "zeta"])  # the daemon reloaded
            w.scheduler.stop()
            bar = app.main.query_one("#notices")
            await until(pilot, lambda: bar.message.startswith("no scheduler is running: press S"), 15)
            await pilot.press("S")
            await until(pilot, lambda: "embedded" in app.main.query_one("#header").words)
            conn = connect(w.db)
            try:
                await until(pilot, lambda: (state.get_meta(conn, "scheduler") or {}).get("owner")
                            == schedulers[0].claim.owner, 15, what="S's scheduler started")
                assert set(state.running_config(conn)["data"]["jobs"]) == {"yankee", "zeta"}
            finally:
                conn.close()
            assert app.main.jobs.rows_shown == ["yankee", "zeta"]
            assert not [n for n in app.notices.messages if "reloaded: 1 jobs" in n]
    finally:
        for scheduler in schedulers:
            if scheduler is not None:
                scheduler.stop()


def burst(app: PandaApp, keys: str) -> None:
    """Keys as a terminal delivers a fast typist's burst: all queued before the console handles the first
    (Pilot's press() waits for the app to be idle after each key, which hides what a burst does)."""
    for char in keys:
        app.post_message(events.Key({"/": "slash"}.get(char, char), char))


async def test_a_word_typed_right_after_slash_goes_into_the_filter_not_to_the_keys(world):
    w = world(job("tick"), ZETA)
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot, count=2)
        burst(app, "/tick")  # t would trigger, k would ask to kill
        await until(pilot, lambda: app.main.jobs.rows_shown == ["tick"], what="the filter holding 'tick'")
        assert app.main.query_one("#job-filter").value == "tick"
        assert not isinstance(app.screen, ConfirmScreen) and not app.notices.messages[1:]
    conn = connect(w.db)
    assert conn.execute("SELECT COUNT(*) FROM control").fetchone()[0] == 0  # nothing was asked


async def test_a_word_typed_right_after_slash_in_a_log_goes_into_the_search(world, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = world(job("talk", command="echo hello; echo xskg"))
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await pilot.press("t")
        view = app.main.query_one("#logpane", LogView)
        await until(pilot, lambda: "  xskg" in view.shown)
        await pilot.press("tab", "tab")
        assert app.focused is view.log_widget
        said = len(app.notices.messages)
        burst(app, "/skg")  # s would save the log to a file, k would ask to kill
        await pilot.press("home", "x")  # home in the box, not the log's first line
        await until(pilot, lambda: view.search.value == "xskg", what="the search box holding 'xskg'")
        await pilot.press("enter")
        await until(pilot, lambda: view.search.matches, what="the match")
        assert not isinstance(app.screen, ConfirmScreen) and not list(tmp_path.glob("*.log"))
        assert not [n for n in app.notices.messages[said:] if "saved" in n or "kill" in n]


async def test_the_palette_acts_on_the_screen_it_was_opened_from(world):
    w = world(ZETA)
    app = w.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette")
        await pilot.press(*"Trigger selected", "enter")
        await until(pilot, lambda: ledger(w.db, "zeta") and ledger(w.db, "zeta")[-1].trigger == "manual",
                    what="zeta triggered from the palette")


async def test_an_embedded_scheduler_that_dies_says_so_at_once_in_the_header_and_in_help(world):
    from panda_tui.config import load_config
    from panda_tui.engine.daemon import EmbeddedScheduler
    w = world(ZETA)
    w.scheduler.stop()
    dying = EmbeddedScheduler(load_config(str(w.cfg)), w.db)
    dying.acquire()  # as `panda-tui` does: the lease first, the loop after the first screen

    async def crash(stop, acquire: bool = True) -> None:
        raise RuntimeError("disk I/O error (the loop's own words)")

    dying.sched.run = crash  # the loop dies as soon as it starts
    app = w.app(mode="embedded", scheduler=dying, after_first_screen=dying.launch)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await started(app, pilot)
            header = app.main.query_one("#header")
            await until(pilot, lambda: "scheduler died" in header.words, 5, what="the alarm")
            assert lease.live_holder(connect(w.db)) is not None  # said at once, not when the lease lapses
            assert "no scheduler!" not in header.words
            await pilot.resize_terminal(160, 24)
            await until(pilot, lambda: "scheduler died: RuntimeError: disk I/O error" in header.words)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            assert app.screen.alarms[0] == ("the scheduler this console runs died: "
                                            "RuntimeError: disk I/O error (the loop's own words)")
    finally:
        dying.stop()


async def test_work_deferred_until_the_first_screen_starts_once_the_job_list_is_shown(world, monkeypatch):
    """The embedded scheduler's loop starts after the first paint, told so by the main screen (the timer
    that would start it anyway is pushed out of reach here)."""
    import panda_tui.tui.app as app_module
    monkeypatch.setattr(app_module, "FIRST_SCREEN_WAIT", 3600.0)
    w = world(ZETA)
    deferred: list[bool] = []
    app = w.app(after_first_screen=lambda: deferred.append(bool(app.main and app.main.jobs.rows_shown)))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: deferred, what="the deferred work")
    assert deferred == [True]  # once, with the job list on screen


async def test_a_acknowledges_the_failing_job_and_shows_who_then_a_again_asks_before_taking_it_back(world):
    from panda_tui.store import acks
    w = world(ALPHA, ZETA)
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        select(app, "alpha")
        await pilot.press("t")
        await until(pilot, lambda: ledger(w.db, "alpha") and ledger(w.db, "alpha")[-1].status == "failed")
        await pilot.press("a")  # how long and a note, both optional: enter acks until its next success
        await until(pilot, lambda: type(app.screen).__name__ == "AckScreen", what="the ack dialog")
        await pilot.press("enter")
        await until(pilot, lambda: acks.get(connect(w.db), "alpha") is not None)
        await until(pilot, lambda: any('acknowledged "alpha" by ' in n for n in app.notices.messages))
        history = app.main.query_one("#history")
        await until(pilot, lambda: "alpha: acknowledged by " in str(history.border_subtitle))
        detail = app.main.query_one("#trend")  # at 80 columns too: the detail line says who is on it
        await until(pilot, lambda: "acked by " in detail.words.splitlines()[0], what="the ack in the detail line")
        await pilot.press("a")  # an ack held is asked about first, naming who and until when, as a kill is
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question before unack")
        assert app.screen.question.startswith('Remove the ack on "alpha" by ') and "next success" in app.screen.question
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert acks.get(connect(w.db), "alpha") is not None  # "no" keeps it
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: acks.get(connect(w.db), "alpha") is None)
        await until(pilot, lambda: not str(history.border_subtitle))
        await until(pilot, lambda: "acked by " not in detail.words, what="the ack gone from the detail line")


@pytest.mark.parametrize("offered, advice", [(True, "S runs one in this console"),
                                             (False, "open a console with `panda-tui --embed` to run one there")])
def test_a_key_that_acts_with_no_scheduler_advises_what_this_console_offers(tmp_path, offered, advice):
    from panda_tui.store.control import ControlKind, Reply
    from panda_tui.tui.controls import Controls
    db = str(tmp_path / "p.db")
    connect(db).close()
    answer = Controls(db, can_start_here=offered).request(ControlKind.PAUSE, job="alpha")
    assert answer.reply == Reply.NO_SCHEDULER and answer.text.endswith(advice)


def test_a_request_the_store_cannot_take_is_answered_in_words_not_dropped(tmp_path):
    """A worker that raised would have said nothing in the notice line."""
    from panda_tui.store.control import ControlKind, Reply
    from panda_tui.tui.controls import Controls
    answer = Controls(str(tmp_path / "gone" / "p.db")).request(ControlKind.TRIGGER, job="alpha")
    assert answer.reply == Reply.REFUSED and answer.text.startswith("could not ask the scheduler to trigger: ")


def test_help_lists_every_key_the_console_binds():
    """`?` is where a key the footer has no room for is found: every binding of every screen and pane."""
    from panda_tui.tui.screens import help as help_screen
    from panda_tui.tui.screens.acting import ActingScreen
    from panda_tui.tui.screens.diff import DiffScreen
    from panda_tui.tui.screens.main import MainScreen
    from panda_tui.tui.widgets.row_table import RowTable
    names = {"slash": "/", "question_mark": "?", "left_square_bracket": "[", "right_square_bracket": "]",
             "escape": "esc", "enter": "enter"}
    listed = {token for _, rows in help_screen.KEYS for key, _ in rows for token in key.replace("/", " / ").split()}
    listed |= {key for key, _ in help_screen.ACTING}
    bound = {names.get(key.strip(), key.strip())
             for cls in (PandaApp, ActingScreen, MainScreen, LogScreen, DiffScreen, LogView, RowTable)
             for binding in cls.BINDINGS for key in binding.key.split(",")}
    assert bound - listed == set(), f"bound but not in help: {bound - listed}"


def test_the_console_s_a_and_ack_help_say_the_same():
    """`a` is `panda-tui ack JOB` without --for: both say which jobs it takes and when it ends."""
    from panda_tui.cli.ack_cmds import ack
    from panda_tui.tui.screens import help as help_screen
    console = " ".join(dict(help_screen.ACTING)["a"].split())
    cli = " ".join((ack.help or "").split())
    for words in ("failing, flapping or missed-runs", "until its next success", "--for"):
        assert words in console and words in cli, words


async def test_k_with_no_scheduler_says_so_before_asking(tmp_path):
    """New-user test: `k` on an unwatched run (the daemon killed -9) asked `Kill run 42?`, then refused."""
    from panda_tui.readmodel.running import RunningConfig
    from tests.jobfiles import write_jobs
    cfg, db = write_jobs(tmp_path, SLEEPER)
    from panda_tui.store.db import Database
    book = store_ledger.Ledger(Database(db))
    run_id = book.insert("sleeper", 1.0, trigger="manual", now=1.0).id
    book.start(run_id, 1.0)  # running in the ledger, and no scheduler holds the lease
    app = PandaApp(RunningConfig(cfg), db, mode="attached")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        bar = app.main.query_one("#notices")
        await until(pilot, lambda: "unwatched" in app.main.query_one("#header").words, 15)
        await pilot.press("k")
        await until(pilot, lambda: "start `panda-tui daemon`" in bar.message, what="the refusal at once")
        assert not isinstance(app.screen, ConfirmScreen)
