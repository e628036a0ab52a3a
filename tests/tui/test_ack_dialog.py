"""`a` asks how long (as `panda-tui ack --for`) and for a note; the detail line shows the ack's end and note."""

from __future__ import annotations

import time

from textual import events

from panda_tui.store import acks, connect
from panda_tui.store.acking import refusal
from panda_tui.text import when
from panda_tui.tui.screens.ack import AckScreen
from tests.jobfiles import job
from tests.tui.conftest import started, until
from tests.tui.test_keys import ALPHA, ledger, select


def typed(app, keys: list[str]) -> None:
    """Keys as a fast typist's burst: all queued before the first is handled (tab must still move on first)."""
    names = {" ": "space", "\t": "tab"}
    for key in keys:
        app.post_message(events.Key(names.get(key, key), key if len(key) == 1 else None))


async def failed_alpha(app, pilot, db: str) -> None:
    await started(app, pilot)
    select(app, "alpha")
    await pilot.press("t")
    await until(pilot, lambda: ledger(db, "alpha") and ledger(db, "alpha")[-1].status == "failed")
    await until(pilot, lambda: app.main.jobs.health("alpha").state == "failing")


async def test_a_takes_a_time_and_a_note_and_the_detail_line_shows_both(world):
    w = world(ALPHA, job("zeta"))
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await failed_alpha(app, pilot, w.db)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AckScreen), what="the ack dialog")
        await pilot.press(*"soon", "enter")  # not a time: said in the dialog, which stays
        error = app.screen.query_one("#ack-error")
        assert "expected a duration like" in str(error.render()) and isinstance(app.screen, AckScreen)
        await pilot.press(*["backspace"] * 4)
        typed(app, list("2h") + ["tab"] + list("disk replaced"))  # at once: tab moves on before "disk" comes
        await until(pilot, lambda: app.screen.query_one("#ack-note").value == "disk replaced", what="the note")
        await pilot.press("enter")
        await until(pilot, lambda: acks.get(connect(w.db), "alpha") is not None, what="the ack stored")
        held = acks.get(connect(w.db), "alpha")
        assert held.until is not None and held.until - held.at == 7200 and held.note == "disk replaced"
        detail = app.main.query_one("#trend")
        said = f"for 2h (until {when(held.until, time.time())}): disk"  # the note ends in `…` at 80 columns
        await until(pilot, lambda: said in detail.words.splitlines()[0], what=f"'{said}' in the detail line")
        assert "acked by " in detail.words.splitlines()[0]


async def test_escape_in_the_ack_dialog_asks_nothing(world):
    w = world(ALPHA)
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await failed_alpha(app, pilot, w.db)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AckScreen), what="the ack dialog")
        await pilot.press(*"1h", "escape")
        assert not isinstance(app.screen, AckScreen)
    conn = connect(w.db)
    assert conn.execute("SELECT COUNT(*) FROM control WHERE kind='ack'").fetchone()[0] == 0


async def test_a_on_a_healthy_job_is_refused_at_once_without_the_dialog(world):
    """New-user test: `a` on a job in no trouble opened the dialog and refused only after it was filled in."""
    w = world(ALPHA, job("zeta"))
    app = w.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        select(app, "zeta")
        await pilot.press("a")
        await until(pilot, lambda: any("there is nothing to acknowledge" in n for n in app.notices.messages),
                    what="the refusal in the notice line")
        assert not isinstance(app.screen, AckScreen)
        assert app.notices.messages[-1] == refusal("zeta")
