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


def running(db: Database, first: list[tuple[str, str]]) -> tuple[Ledger, int, object, log_tail.Tail]:
    """A run going on with `first` in its log, a read-only connection and a tail to follow it."""
    book = Ledger(db)
    run_id = book.insert("j", 0, trigger="manual", now=0).id
    book.start(run_id, 0)
    put(db, first, run_id=run_id)
    return book, run_id, connect(db.path, readonly=True), log_tail.Tail(run_id, False)


def test_a_followed_run_shows_a_long_line_once_when_its_last_piece_comes(db, monkeypatch):
    """While the run goes on, pieces already in are held back until the line is complete."""
    monkeypatch.setattr(log_tail, "HOLD", 600.0)
    book, run_id, conn, tail = running(db, [("out", "before")])
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


LONG = [("out", "x" * FULL)] * 5 + [("out", "x" * 10)]  # one line of 5 full pieces and a short last one


def saved_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return [line.split(" ", 1)[1] for line in fh.read().split("\n")[:-1]]  # without the stored times


def test_s_and_logs_give_a_long_line_whole_across_pages(tmp_path, monkeypatch):
    """`s` and `panda-tui logs` join a long line's pieces the way the pane does (pieces.joined), piece by piece
    as their pages come: one line, the whole of it, then the next line."""
    from panda_tui.store import log_queries
    from panda_tui.tui import log_save
    from tests.conftest import ledger_on, run_cli
    from tests.jobfiles import job, write_jobs

    cfg, path = write_jobs(tmp_path, job("j"))
    with ledger_on(path) as book:
        run_id = book.insert("j", 0, trigger="manual", now=0).id
        book.start(run_id, 0)
        book.finish(run_id, RunStatus.SUCCEEDED, 1, exit_code=0)
        put(book.db, [("out", "first")] + LONG + [("out", "y" * FULL), ("err", "z"), ("out", "after")], run_id=run_id)
    whole = "x" * (5 * FULL + 10)
    want = ["first", whole, "y" * FULL, "z", "after"]  # a full-size line followed by another stream's: two lines
    monkeypatch.setattr(log_queries, "PAGE_CHARS", 100_000)  # pages end inside the long line
    monkeypatch.chdir(tmp_path)
    conn = connect(path, readonly=True)
    try:
        saved, count = log_save.save(conn, run_id, "j")
    finally:
        conn.close()
    assert count == 5
    assert [line[2:] for line in saved_lines(saved)] == want
    out = run_cli("logs", "j", "--run", str(run_id), "--config", cfg, "--db", path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n") == ["  first", "  " + whole, "  " + "y" * FULL, "! z", "  after", ""]


def test_a_long_line_followed_for_longer_than_hold_grows_in_place_to_its_whole_size(db, monkeypatch):
    """Pieces that keep coming past HOLD: the line is posted again, grown (same first seq), never its later
    pieces as lines of their own; its size only grows and ends at the whole line's."""
    monkeypatch.setattr(log_tail, "HOLD", 0.0)
    book, run_id, conn, tail = running(db, [("out", "before")])
    posted: list[LogLine] = []

    def post(message) -> None:
        posted.extend(message.tail.take()[0])

    follower = threading.Thread(target=log_tail.follow,
                                args=(conn, tail, ledger.get(conn, run_id), 0, post, lambda: False))
    follower.start()
    wait_until(lambda: posted, what="the first line followed")
    for n in range(4):
        put(db, [("out", "x" * FULL)], start=2 + n, run_id=run_id)
        wait_until(lambda n=n: pieces.last_seq(posted[-1]) == 2 + n, what=f"piece {n + 1} shown")
    put(db, [("out", "x" * 5), ("out", "done")], start=6, run_id=run_id)
    book.finish(run_id, RunStatus.SUCCEEDED, 1, exit_code=0)
    follower.join(30)
    conn.close()
    assert [line.seq for line in posted] == [1, 2, 2, 2, 2, 2, 7]
    sizes = [pieces.stored_bytes(line) for line in posted if line.seq == 2]
    assert sizes == sorted(sizes) and sizes[-1] == 4 * FULL + 5


def test_a_log_opened_inside_a_growing_line_goes_on_with_that_line(db, monkeypatch):
    """The window ends inside a long line still being written: its next pieces grow that line, not new ones."""
    monkeypatch.setattr(log_tail, "HOLD", 0.0)
    book, run_id, conn, tail = running(db, [("out", "x" * FULL)] * 2)
    posted: list[LogLine] = []

    def post(message) -> None:
        posted.extend(message.lines if isinstance(message, log_tail.TailWindow) else message.tail.take()[0])

    reader = threading.Thread(target=log_tail.read,
                              args=(conn, tail, Place("tail"), None, post, lambda: False))
    reader.start()
    wait_until(lambda: posted, what="the window")
    put(db, [("out", "x" * FULL), ("out", "x" * 3)], start=3, run_id=run_id)
    book.finish(run_id, RunStatus.SUCCEEDED, 1, exit_code=0)
    reader.join(30)
    conn.close()
    assert {line.seq for line in posted} == {1}
    assert pieces.stored_bytes(posted[-1]) == 3 * FULL + 3
