"""Snapshot tests of the main screen states over the fixed demo store and a fixed clock."""

from __future__ import annotations

from panda_tui.tui.app import PandaApp
from panda_tui.tui.demo import NOW, demo_config


def app(db: str) -> PandaApp:
    return PandaApp(demo_config(), db, mode="attached", clock=lambda: NOW)


def test_main_screen(snap_compare, demo_db):
    assert snap_compare(app(demo_db), terminal_size=(120, 34), run_before=settle)


def test_main_screen_80x24(snap_compare, demo_db):
    assert snap_compare(app(demo_db), terminal_size=(80, 24), run_before=settle)


def test_failing_job_opens_its_error_lines(snap_compare, demo_db):
    assert snap_compare(app(demo_db), terminal_size=(120, 34), press=["enter"], run_before=settle)


def test_help_screen(snap_compare, demo_db):
    assert snap_compare(app(demo_db), terminal_size=(100, 34), press=["question_mark"], run_before=settle)


async def settle(pilot) -> None:
    await pilot.pause(0.8)
