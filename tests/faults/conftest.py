from __future__ import annotations

import json
import sqlite3
import sys

import pytest


def submit(db: str, kind: str, job: str | None = None, **args) -> None:
    from panda_tui.store import connect, control
    conn = connect(db)
    control.submit(conn, kind, job=job, args=args)
    conn.close()


def rows(db: str, sql: str, *params):
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def events(output: str) -> list[dict]:
    out = []
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


@pytest.fixture
def figure(request):
    """Print a scenario's figure so it shows in the test output (-rA or -s)."""
    def say(text: str) -> None:
        print(f"\n[figure] {request.node.name}: {text}", file=sys.stderr)
    return say

