"""A console on a store it sees through a read-only mount (a bind mount, a sandboxed service's view) reads
what the writer commits, WAL included: the -shm the writer keeps is shared, so nothing goes stale."""

from __future__ import annotations

import os
import sqlite3
import subprocess

import pytest

from panda_tui.store import connect


@pytest.fixture
def read_only_view(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to bind-mount a folder read-only")
    rw, ro = tmp_path / "rw", tmp_path / "ro"
    rw.mkdir()
    ro.mkdir()
    subprocess.run(["mount", "--bind", str(rw), str(ro)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], check=True)
        yield rw, ro
    finally:
        subprocess.run(["umount", "-l", str(ro)], check=False)


def runs(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]


def test_a_live_writers_wal_is_read_through_a_read_only_mount(read_only_view):
    rw, ro = read_only_view
    writer = connect(str(rw / "panda.db"))
    writer.execute("PRAGMA wal_autocheckpoint=0")  # every commit stays in the WAL
    insert = ("INSERT INTO runs(job, scheduled_at, queued_at, attempt, status, trigger, runner) "
              "VALUES ('j', ?, 0, 1, 'succeeded', 'schedule', 'local')")
    writer.execute(insert, (1.0,))
    reader = connect(str(ro / "panda.db"), readonly=True)
    assert runs(reader) == 1
    writer.execute(insert, (2.0,))
    assert runs(reader) == 2  # not a snapshot of the main file: the reader follows the writer
    reader.close()
    writer.close()


def test_a_store_nobody_has_open_is_read_whole(read_only_view):
    rw, ro = read_only_view
    writer = connect(str(rw / "panda.db"))
    writer.close()  # the last connection checkpoints and removes -wal and -shm
    assert not (rw / "panda.db-shm").exists()
    reader = connect(str(ro / "panda.db"), readonly=True)
    assert runs(reader) == 0
    reader.close()
