"""Search over a run's whole log is smart-case (vim's smartcase); errors are lines whose own level says so."""

from __future__ import annotations

import pytest

from panda_tui.store import log_queries
from panda_tui.store.db import Database


@pytest.fixture
def run_log(tmp_path):
    db = Database(str(tmp_path / "p.db"))
    lines = [("err", "2026-12-02 03:00:00,000 INFO app: errors=0 written=10"),
             ("err", "2026-12-02 03:00:01,000 ERROR app: write failed"),
             ("out", "summary: Error rate 0.1"),
             ("out", "no problems")]
    with db.transaction() as conn:
        conn.executemany("INSERT INTO logs(run_id, seq, ts, stream, text) VALUES (1, ?, 0, ?, ?)",
                         [(n + 1, stream, text) for n, (stream, text) in enumerate(lines)])
    yield db.conn
    db.close()


@pytest.mark.parametrize("query, seqs", [
    ("ERROR", [2]),            # a capital letter: case matters, so errors=0 does not match
    ("error", [1, 2, 3]),      # all lower case: any case
    ("Error", [3]),
    ("problems", [4]),
    ("100%", []),              # LIKE's wildcards are taken literally
])
def test_search_is_smart_case(run_log, query, seqs):
    assert log_queries.match_seqs(run_log, 1, query) == seqs


def test_python_logging_info_on_stderr_is_not_an_error(run_log):
    assert log_queries.error_seqs(run_log, 1) == [2]
    assert log_queries.match_seqs(run_log, 1, "app", errors_only=True) == [2]


def test_the_sql_prefilter_lets_every_error_line_through():
    """error_seqs asks SQL for the lines that may be errors before reading their level in Python: every line
    the level reader calls an error (the whole level corpus, on both streams) must pass that first test."""
    import sqlite3
    from pathlib import Path
    corpus = Path(__file__).parent.parent / "fixtures" / "log_levels"
    texts = [raw.split("\t", 1)[1] for path in sorted(corpus.glob("*.txt")) for raw in path.read_text().splitlines()]
    texts += ["Traceback (most recent call last):", "Exception in thread main", "E1202 10:00:00.000 x",
              'F, [2026-12-02] x', '{"level":50}', "<3>disk", "level=eror x", "it did FAIL", "SEVERE: x"]
    conn = sqlite3.connect(":memory:")
    missed = [(stream, text) for text in texts for stream in ("out", "err", "sys")
              if log_queries.is_error(stream, text) and not conn.execute(
                  f"SELECT {log_queries.MAYBE_ERROR} FROM (SELECT ? AS stream, ? AS text)", (stream, text)).fetchone()[0]]
    assert not missed and len(texts) > 100


def test_errors_near_reads_a_window_of_error_lines(run_log):
    assert log_queries.errors_near(run_log, 1, 3, 5, 5) == ([2], False)
    assert log_queries.errors_near(run_log, 1, 3, 0, 5) == ([], True)


def test_errors_near_agrees_with_the_whole_run_read_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(log_queries, "CHUNK", 7)  # many stretches in a short log
    db = Database(str(tmp_path / "p.db"))
    with db.transaction() as conn:
        conn.executemany("INSERT INTO logs(run_id, seq, ts, stream, text) VALUES (1, ?, 0, 'out', ?)",
                         [(n, "ERROR x" if n % 5 == 0 or n in (1, 2, 3) else "fine") for n in range(1, 60)])
    every = log_queries.error_seqs(db.conn, 1)
    for seq in (0, 1, 4, 13, 14, 30, 59, 60, 1 << 62):
        for before, after in ((0, 4), (3, 3), (20, 0), (100, 100)):
            for _ in range(2):  # the second time from what was kept
                older = [s for s in every if s < seq]
                want = (older[max(0, len(older) - before):] if before else []) + [s for s in every if s >= seq][:after]
                assert log_queries.errors_near(db.conn, 1, seq, before, after) == (want, len(older) > before)
    db.close()


def test_a_search_read_in_stretches_two_at_a_time_finds_what_one_read_finds(run_log):
    for chunk in (1, 2, 3):  # stretches read in pairs, the second on a second connection
        found = [seq for seqs in log_queries.match_chunks(run_log, 1, "o", chunk=chunk) for seq in seqs]
        assert found == [1, 2, 3, 4]
        limited = [seq for seqs in log_queries.match_chunks(run_log, 1, "o", limit=3, chunk=chunk) for seq in seqs]
        assert limited == [1, 2, 3]
    assert log_queries.match_seqs(run_log, 1, "o") == [1, 2, 3, 4]
