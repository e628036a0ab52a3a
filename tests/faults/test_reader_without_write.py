"""A user who can read the database but not write its folder (root's 0755 folder, 0644 file) reads it all:
status, executions, logs and a read-only console. With a live writer the WAL is read; with none (no -shm),
the file is read as it is. Only acting needs write access."""

from __future__ import annotations

import json
import sqlite3

from panda_tui.store import connect
from tests.conftest import run_cli
from tests.jobfiles import job, write_jobs
from tests.other_user import other_user, shared_folder  # noqa: F401  (fixtures)

CONSOLE = ("from panda_tui.cli.console_cmd import decide_mode; from panda_tui.config import load_config; "
           "print(decide_mode(load_config({cfg!r}), {db!r}, read_only={flag})[:2])")


def store_of_root(folder) -> tuple[str, str]:
    """A job run once by root; the database left as a writer that closed cleanly leaves it, mode 644."""
    cfg, db = write_jobs(folder, job("j", command="echo hello-from-j"))
    done = run_cli("run", "j", "--config", cfg, "--db", db)
    assert done.returncode == 0, done.stderr
    (folder / "panda.db").chmod(0o644)
    (folder / "jobs.toml").chmod(0o644)
    return cfg, db


def test_a_reader_of_a_store_nobody_writes_reads_everything_and_acts_on_nothing(other_user, shared_folder):
    cfg, db = store_of_root(shared_folder)
    assert not (shared_folder / "panda.db-shm").exists()
    status = other_user.run("status", "--json", "--config", cfg, "--db", db)
    assert status.returncode == 1, status.stderr  # 1: no scheduler holds the lease; it read the store
    assert [j["job"] for j in json.loads(status.stdout)["jobs"]] == ["j"]
    runs = other_user.run("executions", "j", "--json", "--config", cfg, "--db", db)
    assert runs.returncode == 0 and [r["status"] for r in json.loads(runs.stdout)] == ["succeeded"], runs.stderr
    log = other_user.run("logs", "j", "--latest", "--config", cfg, "--db", db)
    assert log.returncode == 0 and "hello-from-j" in log.stdout, log.stderr
    for flag in (True, False):  # --read-only, and a console that finds it cannot write
        console = other_user.run_python(CONSOLE.format(cfg=cfg, db=db, flag=flag))
        assert console.returncode == 0 and "'read-only'" in console.stdout, console.stderr
    trigger = other_user.run("trigger", "j", "--config", cfg, "--db", db)
    assert trigger.returncode != 0 and "read-only for this user" in trigger.stderr
    assert "Traceback" not in trigger.stderr
    assert not (shared_folder / "panda.db-shm").exists()  # nothing of the reader's was left beside it


def test_a_reader_follows_a_live_writers_wal(other_user, shared_folder):
    cfg, db = store_of_root(shared_folder)
    writer = connect(db)  # a live writer: -wal and -shm exist, mode 644 like the file
    writer.execute("PRAGMA wal_autocheckpoint=0")  # what follows stays in the WAL
    try:
        again = run_cli("run", "j", "--config", cfg, "--db", db)
        assert again.returncode == 0, again.stderr
        assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2
        runs = other_user.run("executions", "j", "--json", "--config", cfg, "--db", db)
        assert runs.returncode == 0, runs.stderr
        assert len(json.loads(runs.stdout)) == 2  # the second run is only in the WAL
    finally:
        writer.close()
