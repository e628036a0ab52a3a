"""The log pane's tail, on a real store: the window first, then every line as it is committed, in order and
once, until the run ends; a burst of its messages collapses into one for the pane."""

from __future__ import annotations

import threading
import time

import pytest

from panda_tui.store import connect, logs
from panda_tui.store.db import Database
from panda_tui.store.ledger import Ledger, RunStatus
from panda_tui.tui import log_tail
from panda_tui.tui.log_tail import Tail, TailLines, TailWindow
from panda_tui.tui.log_window import Place


@pytest.fixture
def book(db_path):
    db = Database(db_path)
    yield Ledger(db)
    db.close()


def wait_for(cond, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "not reached"
        time.sleep(0.005)


def test_the_tail_posts_the_window_then_each_committed_line_once_and_in_order_until_the_run_ends(db_path, book):
    run = book.insert("talk", 1.0, trigger="manual", now=1.0)
    assert run is not None
    book.start(run.id, 1.0)
    writer = logs.LogWriter(db_path)
    sink = logs.RunLog(writer, run.id)
    sink.lines_of("out", ["before 1", "before 2"])
    writer.flush_run(run.id, sink.seq)
    posted: list = []
    tail = Tail(run.id, errors_only=False)
    conn = connect(db_path, readonly=True)
    reader = threading.Thread(target=log_tail.read, args=(conn, tail, Place("tail"), None, posted.append,
                                                         lambda: False))
    reader.start()
    try:
        wait_for(lambda: posted)
        window = posted[0]
        assert isinstance(window, TailWindow) and [l.text for l in window.lines] == ["before 1", "before 2"]
        for batch in range(3):  # each batch waits for the tail to have seen the one before
            sink.lines_of("err" if batch == 1 else "out", [f"line {batch}.{i}" for i in range(50)])
            writer.flush_run(run.id, sink.seq)
            wait_for(lambda: len(posted) > 1 + batch)
        book.finish(run.id, RunStatus.SUCCEEDED, 2.0, exit_code=0)
        reader.join(10)
        assert not reader.is_alive()  # the run ended: so did the tail
    finally:
        writer.close()
        conn.close()
    assert all(isinstance(m, TailLines) and m.tail is tail for m in posted[1:])
    lines, last = tail.take()
    assert [l.text for l in lines] == [f"line {b}.{i}" for b in range(3) for i in range(50)]
    assert last is not None and last.status == RunStatus.SUCCEEDED
    assert tail.take()[0] == []  # taken once


def test_errors_only_keeps_the_error_lines_of_what_comes(db_path, book):
    run = book.insert("talk", 1.0, trigger="manual", now=1.0)
    assert run is not None
    book.start(run.id, 1.0)
    writer = logs.LogWriter(db_path)
    sink = logs.RunLog(writer, run.id)
    posted: list = []
    tail = Tail(run.id, errors_only=True)
    conn = connect(db_path, readonly=True)
    reader = threading.Thread(target=log_tail.read, args=(conn, tail, Place("tail"), None, posted.append,
                                                         lambda: False))
    reader.start()
    try:
        wait_for(lambda: posted)
        sink.line("out", "all is well")
        sink.line("err", "disk full")
        writer.flush_run(run.id, sink.seq)
        book.finish(run.id, RunStatus.FAILED, 2.0, exit_code=1)
        reader.join(10)
    finally:
        writer.close()
        conn.close()
    assert [l.text for l in tail.take()[0]] == ["disk full"]


def test_a_burst_of_tail_messages_collapses_to_one_per_load():
    first, second = Tail(1, False), Tail(1, False)
    assert TailLines(first).can_replace(TailLines(first))  # the pane takes every waiting line at once
    assert not TailLines(first).can_replace(TailLines(second))  # another load's lines are not these
    assert not TailLines(first).can_replace(TailWindow(first, [], None))


def test_a_cancelled_tail_stops_following(db_path, book):
    run = book.insert("talk", 1.0, trigger="manual", now=1.0)
    assert run is not None
    book.start(run.id, 1.0)
    cancelled = threading.Event()
    conn = connect(db_path, readonly=True)
    reader = threading.Thread(target=log_tail.read, args=(conn, Tail(run.id, False), Place("tail"), None,
                                                         lambda _m: None, cancelled.is_set))
    reader.start()
    cancelled.set()
    reader.join(10)
    conn.close()
    assert not reader.is_alive()  # the run still goes on; another load took the pane
