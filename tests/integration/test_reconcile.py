"""kill -9 of the daemon mid-run: on restart, no run stays running and logs are whole."""

from __future__ import annotations

import os
import textwrap

import pytest

from panda_tui.store import connect, logs
from tests.integration.helpers import Daemon, ledger, wait_until


def write(tmp_path, body: str) -> tuple[str, str]:
    cfg = tmp_path / "jobs.toml"
    cfg.write_text(textwrap.dedent(body))
    return str(cfg), str(tmp_path / "panda.db")


def all_lines(db: str, run_id: int, stream: str = "out") -> list[str]:
    conn = connect(db)
    try:
        return [l.text for l in logs.read(conn, run_id, 0, 1_000_000) if l.stream == stream]
    finally:
        conn.close()


@pytest.mark.docker
@pytest.mark.parametrize("exits_while_down", [False, True])
def test_container_runs_are_adopted_after_sigkill(tmp_path, busybox_image, docker_client, exits_while_down):
    cfg, db = write(tmp_path, f"""
        [jobs.c]
        schedule = "@every 3600s"
        image = "{busybox_image}"
        network_mode = "none"
        command = "for i in $(seq 1 30); do echo line$i; sleep 0.1; done; exit 7"
        """)
    first = Daemon(cfg, db)
    try:
        first_ready = wait_until(lambda: "lease_acquired" in first.output(), 20, what="daemon start")
        assert first_ready
        from tests.conftest import run_cli
        assert run_cli("trigger", "c", "--config", cfg, "--db", db).returncode == 0
        wait_until(lambda: len(all_lines(db, 1)) >= 5, 20, what="some lines stored")
    finally:
        first.kill9()
    assert ledger(db, "c")[0].status == "running"
    if exits_while_down:
        ref = ledger(db, "c")[0].runner_ref
        wait_until(lambda: docker_client.containers.get(ref).status == "exited", 30, what="container exit")
    second = Daemon(cfg, db)
    try:
        wait_until(lambda: ledger(db, "c")[0].status != "running", 30, what="run settled")
    finally:
        second.stop()
    run = ledger(db, "c")[0]
    assert (run.status, run.exit_code) == ("failed", 7)
    assert all_lines(db, 1) == [f"line{i}" for i in range(1, 31)]  # complete, no duplicates
    import docker.errors
    with pytest.raises(docker.errors.NotFound):  # removed once its result and logs were safe
        docker_client.containers.get(run.runner_ref)


def test_local_run_is_settled_after_sigkill_and_its_process_group_ended(tmp_path):
    pidfile = tmp_path / "child.pid"
    cfg, db = write(tmp_path, f"""
        [jobs.l]
        schedule = "@every 3600s"
        command = "echo $$ > {pidfile}; echo up; sleep 120"
        """)
    first = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in first.output(), 20, what="daemon start")
        from tests.conftest import run_cli
        assert run_cli("trigger", "l", "--config", cfg, "--db", db).returncode == 0
        wait_until(lambda: all_lines(db, 1) == ["up"], 20, what="run started")
    finally:
        first.kill9()
    child = int(pidfile.read_text())
    os.kill(child, 0)  # still alive: the daemon's death did not end it
    second = Daemon(cfg, db)
    try:
        wait_until(lambda: ledger(db, "l")[0].status != "running", 30, what="run settled")
    finally:
        second.stop()
    run = ledger(db, "l")[0]
    assert run.status == "lost" and "process group was ended on restart" in run.reason
    wait_until(lambda: not os.path.exists(f"/proc/{child}") or open(f"/proc/{child}/stat").read().split()[2] == "Z",
               10, what="orphan ended")
