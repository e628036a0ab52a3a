"""Jobs on two Docker engines: the local one and a second dockerd standing in for a remote one."""

from __future__ import annotations


import pytest

from panda_tui.store import connect, logs
from tests.faults.conftest import rows, submit
from tests.integration.helpers import Daemon, wait_until

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def config(tmp_path, image: str, remote: str, body: str = 'echo on $PANDA_JOB; sleep {pause}; exit 4',
           pause: str = "0") -> str:
    path = tmp_path / "jobs.toml"
    path.write_text(
        f'[defaults]\nimage = "{image}"\nnetwork_mode = "none"\npull = "never"\nschedule = "@yearly"\n'
        f'[jobs.here]\ncommand = "{body.format(pause=pause)}"\n'
        f'[jobs.there]\ncommand = "{body.format(pause=pause)}"\ndocker_host = "{remote}"\n')
    return str(path)


def test_jobs_run_on_both_engines_and_one_engine_down_fails_only_its_jobs(tmp_path, busybox_image, second_engine):
    cfg, db = config(tmp_path, busybox_image, second_engine.host), str(tmp_path / "p.db")
    d = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in d.output(), 20)
        submit(db, "trigger", "here")
        submit(db, "trigger", "there")
        wait_until(lambda: rows(db, "SELECT COUNT(*) FROM runs WHERE status='failed'")[0][0] == 2, 30)
        engines = dict(rows(db, "SELECT job, docker_host FROM runs"))
        assert engines == {"here": "local", "there": second_engine.host}
        second_engine.stop()
        try:
            submit(db, "trigger", "here")
            submit(db, "trigger", "there")
            wait_until(lambda: rows(db, "SELECT COUNT(*) FROM runs WHERE status='failed'")[0][0] == 4, 30)
            wait_until(lambda: '"up": false' in (rows(db, "SELECT value FROM meta WHERE key='engines'") or
                                                  [("",)])[0][0], 15, what="engine marked down")
        finally:
            second_engine.start()
    finally:
        d.stop()
    latest = rows(db, "SELECT job, exit_code, reason FROM runs WHERE id > 2 ORDER BY id")
    assert latest[0] == ("here", 4, "exit 4")
    assert latest[1][0] == "there" and latest[1][2].startswith("docker engine unreachable")
    status = __import__("tests.conftest", fromlist=["run_cli"]).run_cli("status", "--config", cfg, "--db", db)
    assert f"docker {second_engine.host}: DOWN" in status.stdout and "docker local: up" in status.stdout


def test_reconciliation_after_kill9_finds_runs_on_both_engines(tmp_path, busybox_image, second_engine):
    body = "for i in 1 2 3 4 5 6 7 8 9 10; do echo $PANDA_JOB-$i; sleep {pause}; done; exit 3"
    cfg, db = config(tmp_path, busybox_image, second_engine.host, body, pause="0.3"), str(tmp_path / "p.db")
    first = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in first.output(), 20)
        submit(db, "trigger", "here")
        submit(db, "trigger", "there")
        wait_until(lambda: rows(db, "SELECT COUNT(*) FROM runs WHERE status='running' AND log_lines > 0")[0][0] == 2,
                   30)
    finally:
        first.kill9()
    second = Daemon(cfg, db)
    try:
        wait_until(lambda: rows(db, "SELECT COUNT(*) FROM runs WHERE status IN ('queued','running')")[0][0] == 0, 40)
    finally:
        second.stop()
    conn = connect(db)
    for run_id, job, status, code in rows(db, "SELECT id, job, status, exit_code FROM runs ORDER BY id"):
        assert (status, code) == ("failed", 3)
        assert [l.text for l in logs.read(conn, run_id, 0, 100) if l.stream == "out"] == [f"{job}-{i}" for i in
                                                                                           range(1, 11)]
    assert "adopted" in second.output() and second.output().count('"event": "adopted"') == 2

