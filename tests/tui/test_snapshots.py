"""Snapshot tests of the console's states over the fixed demo store and a fixed clock, with colour and
without (NO_COLOR: failures must stand out by bold and reverse, not by colour)."""

from __future__ import annotations

import pytest

from panda_tui.store import lease, state
from panda_tui.tui.app import PandaApp
from panda_tui.tui.demo import NOW, demo_config, fill, fill_alarms
from panda_tui.tui.marks import Marks
from panda_tui.tui.widgets.log_view import LogView
from tests.tui.conftest import started, until, write_store


def app(db: str, colour: bool = True, ascii_only: bool = False) -> PandaApp:
    return PandaApp(demo_config(), db, mode="attached", clock=lambda: NOW,
                    marks=Marks(colour=colour, ascii=ascii_only))


@pytest.fixture
def no_color(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")  # Textual reads it when the app is made: monochrome output


@pytest.fixture(scope="session")
def alarm_db(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("alarms") / "alarms.db")
    fill_alarms(path)
    return path


@pytest.fixture(scope="session")
def refused_db(tmp_path_factory) -> str:
    """A new user's store: a daemon holds it, no run yet, and the file they just edited was refused."""
    path = str(tmp_path_factory.mktemp("refused") / "refused.db")

    def refused(conn) -> None:
        lease.record(conn, "server1:4242:0:daemon", NOW - 60, NOW, 3e9)
        state.record_reload(conn, NOW - 5, "file changed", ['jobs.toml: job "hello": schedule: got \'banana\''])
    write_store(path, refused)
    return path


@pytest.fixture
def unwatched_db(tmp_path) -> str:
    """The demo store after `kill -9` of its daemon: its lease ran out with orders-sync's run still running."""
    path = str(tmp_path / "unwatched.db")
    fill(path)
    write_store(path, lambda conn: lease.record(conn, "server1:4242:0:daemon", NOW - 86400, NOW - 60, 10))
    return path


def test_main_screen(snap_compare, demo_db):
    assert snap_compare(app(demo_db), terminal_size=(120, 34), run_before=settle)


def test_main_screen_80x24(snap_compare, demo_db):
    assert snap_compare(app(demo_db), terminal_size=(80, 24), run_before=settle)


def test_main_screen_80x24_without_colour(snap_compare, demo_db, no_color):
    assert snap_compare(app(demo_db, colour=False), terminal_size=(80, 24), run_before=settle)


def test_main_screen_80x24_in_ascii(snap_compare, demo_db, no_color):
    assert snap_compare(app(demo_db, colour=False, ascii_only=True), terminal_size=(80, 24), run_before=settle)


def test_an_alarm_heavy_header_at_80_columns(snap_compare, alarm_db):
    assert snap_compare(app(alarm_db), terminal_size=(80, 24), run_before=settle)


async def test_the_header_drops_no_alarm_at_80_columns(alarm_db):
    shown = app(alarm_db)
    async with shown.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        words = shown.main.query_one("#header").words
    for alarm in ("engines down", "toml refused", "alerts unsent", "1 failing", "1 missed"):
        assert alarm in words, words


def test_a_refused_jobs_toml_at_80_columns(snap_compare, refused_db):
    async def shown(pilot) -> None:
        await started(pilot.app, pilot)
        await pilot.pause()
    assert snap_compare(app(refused_db), terminal_size=(80, 24), run_before=shown)


async def test_a_refused_jobs_toml_shortens_its_words_before_the_counts_give_way(refused_db):
    """New-user test: `jobs.toml refused · attached · 09:18:50 UTC` at 80 columns, the three counts gone."""
    shown = app(refused_db)
    async with shown.run_test(size=(80, 24)) as pilot:
        await started(shown, pilot)
        words = shown.main.query_one("#header").words
    assert words.startswith("toml refused · 0 failing · 0 running · 0 missed/24h · attached"), words


async def test_the_header_says_its_counts_in_words_and_keeps_the_clock_s_seconds(demo_db):
    """New-user test: `✗1 · ▶1 · !1` and a clock cut to `11:06` at 80 columns. The glyphs give way before
    the words (`1 failing`), the clock's zone before its seconds."""
    for size, expected in (((80, 24), " · 1 failing · 1 running · 1 missed/24h · attached · 11:06:40 UTC"),
                           ((60, 20), " · 1 failing · 1 missed/24h · 11:06:40")):
        shown = app(demo_db)
        async with shown.run_test(size=size) as pilot:
            await settle(pilot)
            words = shown.main.query_one("#header").words
        assert words.endswith(expected), (size, words)


def test_failing_job_opens_its_error_lines(snap_compare, demo_db):
    assert snap_compare(app(demo_db), terminal_size=(120, 34), press=["enter"], run_before=settle)


def test_failing_job_errors_at_80x24_without_colour(snap_compare, demo_db, no_color):
    assert snap_compare(app(demo_db, colour=False), terminal_size=(80, 24), press=["enter"], run_before=settle)


def test_help_screen(snap_compare, demo_db):
    assert snap_compare(app(demo_db), terminal_size=(100, 34), press=["question_mark"], run_before=settle)


def test_help_at_80x24_keeps_its_close_key_in_view(snap_compare, demo_db):
    assert snap_compare(app(demo_db), terminal_size=(80, 24), press=["question_mark"], run_before=settle)


async def unwatched_run_shown(pilot) -> None:
    """orders-sync selected: its run that is still `running` in the ledger, in the log pane."""
    app = pilot.app
    await settle(pilot)
    await pilot.press(*["down"] * app.main.jobs.rows_shown.index("orders-sync"))
    pane = app.main.log_pane
    await until(pilot, lambda: pane.run is not None and pane.run.job == "orders-sync", what="the running run")
    await pilot.pause()


def title(pane: LogView) -> str:
    return str(pane.query_one(".log-title").render())


def test_a_run_no_scheduler_reads_any_more_at_80x24(snap_compare, unwatched_db):
    assert snap_compare(app(unwatched_db), terminal_size=(80, 24), run_before=unwatched_run_shown)


async def test_the_log_of_a_run_no_scheduler_reads_says_so_until_one_takes_the_lease(unwatched_db):
    """New-user test: after `kill -9` of the daemon, the log of a run still `running` froze and said nothing."""
    shown = app(unwatched_db)
    async with shown.run_test(size=(80, 24)) as pilot:
        await unwatched_run_shown(pilot)
        pane = shown.main.log_pane
        await until(pilot, lambda: "unwatched since the lease ended" in title(pane), what="the pane saying nobody reads")
        back = "server1:4243:0:daemon"  # a daemon takes the store back
        write_store(unwatched_db, lambda conn: lease.record(conn, back, NOW, NOW, 3e9))
        await until(pilot, lambda: "unwatched" not in title(pane), what="the word gone once a scheduler reads")
        assert "running" in title(pane)



async def test_the_log_of_a_run_its_keeper_ended_says_ended_not_unwatched(unwatched_db):
    """New-user test: the keeper ended the run at its timeout, and the pane still said it ran unwatched. What the
    keeper leaves in the run's directory (runners/keeper.py): the `timeout` file, then `exit` with its code."""
    import os
    from panda_tui.store.run_dirs import run_dir, runs_dir
    shown = app(unwatched_db)
    async with shown.run_test(size=(80, 24)) as pilot:
        await unwatched_run_shown(pilot)
        pane = shown.main.log_pane
        await until(pilot, lambda: "unwatched since the lease ended" in title(pane), what="the pane saying nobody reads")
        directory = run_dir(runs_dir(unwatched_db), pane.run.id)
        os.makedirs(directory)
        with open(os.path.join(directory, "timeout"), "w") as fh:
            fh.write("TERM\n")
        with open(os.path.join(directory, "exit"), "w") as fh:
            fh.write(f"143 {NOW - 30}\n")
        await until(pilot, lambda: "ended while no scheduler ran" in title(pane), what="the pane saying it ended")
        assert "unwatched" not in title(pane)
        header = shown.main.query_one("#header").words
        assert "unwatched" not in header and "1 running" not in header, header  # nor counted (`1 unwatched`)
        from tests.tui.test_row_words import cell
        await until(pilot, lambda: cell(shown, "orders-sync", "STATUS") == "⏱ ended", what="its row saying it ended")


def test_a_notice_on_two_rows_at_80x24(snap_compare, demo_db):
    async def said(pilot) -> None:
        await settle(pilot)
        pilot.app.notify("could not ask the scheduler to trigger: the store is locked by another writer; "
                         "try again once it is free (jobs.toml, job db-backup)", severity="error", markup=False)
        await until(pilot, lambda: pilot.app.main.query_one("#notices").region.height == 2)
        await pilot.pause()
    assert snap_compare(app(demo_db), terminal_size=(80, 24), run_before=said)


async def settle(pilot) -> None:
    """Until the first read is on screen: the job list, and the selected run's log in the pane."""
    app = pilot.app
    await started(app, pilot)
    await until(pilot, lambda: app.main.query_one("#logpane", LogView).log_widget.window)
    await pilot.pause()  # until the messages of that read are handled


def test_the_diff_of_a_failed_run_at_80x24(snap_compare, demo_db):
    async def opened(pilot) -> None:
        await settle(pilot)
        await pilot.press("tab", "d")
        await until(pilot, lambda: getattr(pilot.app.screen, "lines", None))
        await pilot.pause()
    assert snap_compare(app(demo_db), terminal_size=(80, 24), run_before=opened)


def test_the_detail_line_of_a_failing_job_at_60x20(snap_compare, demo_db):
    """The detail line (name · last ok · schedule; the error line; the trend) on a small screen, where the
    log pane still keeps its lines."""
    assert snap_compare(app(demo_db), terminal_size=(60, 20), run_before=settle)
