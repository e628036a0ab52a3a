from __future__ import annotations

import time

import pytest

from panda_tui.tui.demo import fill


@pytest.fixture(autouse=True)
def utc_clock_display(monkeypatch):
    """Screens show local time: pin the zone so snapshots match everywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    time.tzset()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("demo") / "demo.db")
    fill(path)
    return path
