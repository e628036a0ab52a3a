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
