"""A line longer than 64 KiB is stored in pieces (runners.lines); the log pane shows it once: its first piece
cut at the display cap, with the bytes of all its pieces left out (`… 20.0 MB more`)."""

from __future__ import annotations

import threading

import pytest

from panda_tui.store import connect, ledger, pieces
from panda_tui.store.db import Database
from panda_tui.store.ledger import Ledger, RunStatus
from panda_tui.store.logs import LogLine
from panda_tui.tui import log_tail, log_window
from panda_tui.tui.log_window import Place
from tests.integration.helpers import wait_until

FULL = pieces.PIECE_BYTES


def put(db: Database, rows: list[tuple[str, str]], start: int = 1, run_id: int = 1) -> None:
    with db.transaction() as conn:
        conn.executemany("INSERT INTO logs(run_id, seq, ts, stream, text) VALUES (?, ?, 0, ?, ?)",
                         [(run_id, start + n, stream, text) for n, (stream, text) in enumerate(rows)])


@pytest.fixture
def db(tmp_path):
    db = Database(str(tmp_path / "p.db"))
    yield db
    db.close()


def test_the_pieces_of_a_long_line_read_as_one_line_with_their_size(db):
    put(db, [("out", "first"), ("out", "x" * FULL), ("out", "x" * FULL), ("out", "x" * 10),  # one long line
             ("out", "y" * FULL), ("err", "z"),  # a full-size line, then another stream: two lines
             ("out", "é" * (FULL // 2 - 1)), ("out", "tail"),  # a cut moved back to a character's start
             ("out", "w" * (FULL + 9)), ("out", "done")])  # longer than a piece: a whole line, never cut
    lines, older = log_window.load(db.conn, 1, Place("head"), False)
    assert [(line.seq, line.upto, line.text[:1], line.more) for line in lines] == [
        (1, 0, "f", 0), (2, 4, "x", 2 * FULL + 10 - 2000), (5, 0, "y", FULL - 2000), (6, 0, "z", 0),
        (7, 8, "é", (FULL - 2) - 4000 + 4), (9, 0, "w", FULL + 9 - 2000), (10, 0, "d", 0)]
    assert not older


def test_a_window_that_ends_inside_a_long_line_counts_the_pieces_after_it(db, monkeypatch):
    put(db, [("out", "x" * FULL)] * 9 + [("out", "end of it"), ("out", "done")])
    monkeypatch.setattr(log_window, "PAGE", 3)
    (line,), _ = log_window.load(db.conn, 1, Place("head"), False)
    assert (line.seq, line.upto, line.more) == (1, 10, 9 * FULL + 9 - 2000)
    assert pieces.holds(line, 7) and not pieces.holds(line, 11)


def test_a_followed_run_shows_a_long_line_once_when_its_last_piece_comes(db, monkeypatch):
    """While the run goes on, pieces already in are held back until the line is complete."""
    monkeypatch.setattr(log_tail, "HOLD", 600.0)
    book = Ledger(db)
    run_id = book.insert("j", 0, trigger="manual", now=0).id
    book.start(run_id, 0)
    put(db, [("out", "before")], run_id=run_id)
    conn = connect(db.path, readonly=True)
    tail = log_tail.Tail(run_id, False)
    polls: list[int] = []
    posted: list[LogLine] = []

    def post(message) -> None:
        posted.extend(message.tail.take()[0])

    def cancelled() -> bool:
        polls.append(1)
        return False

    follower = threading.Thread(target=log_tail.follow,
                                args=(conn, tail, ledger.get(conn, run_id), 0, post, cancelled))
    follower.start()
    wait_until(lambda: posted, what="the first line followed")
    put(db, [("out", "x" * FULL)] * 2, start=2, run_id=run_id)
    seen = len(polls)
    wait_until(lambda: len(polls) > seen + 2, what="the first pieces read")
    put(db, [("out", "x" * 5), ("out", "done")], start=4, run_id=run_id)
    wait_until(lambda: len(posted) == 3, what="the line and the one after it")
    book.finish(run_id, RunStatus.SUCCEEDED, 1, exit_code=0)
    follower.join(30)
    conn.close()
    assert [(line.seq, line.upto, line.more) for line in posted] == [(1, 0, 0), (2, 4, 2 * FULL + 5 - 2000), (5, 0, 0)]


def test_saving_a_long_line_reads_its_pieces_a_bounded_page_at_a_time(db, monkeypatch):
    """`s` and `panda-tui logs` page by lines and by size: 5,000 pieces of 64 KiB would be 320 MB at once."""
    import tracemalloc

    from panda_tui.store import log_queries
    put(db, [("out", "x" * FULL)] * 100 + [("out", "done")])  # 6.5 MB in 101 rows
    monkeypatch.setattr(log_queries, "PAGE_CHARS", 1_000_000, raising=False)
    tracemalloc.start()
    try:
        count = sum(len(line.text) for line in log_queries.each_line(db.conn, 1))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 100 * FULL + 4
    assert peak < 3_000_000
