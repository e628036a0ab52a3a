"""Swarm jobs on real engines: this machine's engine as a single-node swarm manager (the `swarm` fixture),
and a second dockerd as a swarm manager of its own that is stopped and started. Nothing is mocked."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from panda_tui.store import connect, logs
from tests.conftest import engine_at, ledger_on, run_cli
from tests.faults.conftest import events, rows, submit
from tests.integration.helpers import Daemon, ledger, wait_until
from tests.jobfiles import job, write_jobs
from tests.swarm_hold import SWARM_LABEL, leave_stale_swarm

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.swarm,
              pytest.mark.usefixtures("swarm_lock")]  # 127.0.0.3:2377 too

SECRET = "pd-5ecret-Zq81xv"


def swarm_job(name: str, image: str, command: str, **fields) -> str:
    return job(name, "@yearly", command, image=image, runner="swarm", **fields)


def with_secret(tmp_path: Path, *tables: str) -> tuple[str, str]:
    secrets = tmp_path / "secrets.env"
    secrets.write_text(f"TOKEN={SECRET}\n")
    secrets.chmod(0o600)
    return write_jobs(tmp_path, '[defaults]\nsecrets_file = "secrets.env"\n', *tables)


def db_id(db: str) -> str:
    return rows(db, "SELECT value FROM meta WHERE key='db_id'")[0][0]


def left_on(client, db: str) -> tuple[list, list]:
    """The services and secrets this database's runs have on the swarm."""
    label = {"label": f"panda.db={db_id(db)}"}
    return client.api.services(filters=label), client.api.secrets(filters=label)


def out_lines(db: str, run_id: int) -> list[str]:
    conn = connect(db)
    try:
        return [line.text for line in logs.read(conn, run_id, 0, 10_000) if line.stream != "sys"]
    finally:
        conn.close()


def test_a_secret_reaches_the_task_as_a_file_and_as_env_and_nowhere_else(tmp_path, busybox_image, swarm):
    cfg, db = with_secret(tmp_path, swarm_job(
        "s", busybox_image, "cat /run/secrets/TOKEN; echo; echo env:$TOKEN; echo up; sleep 3",
        secrets=["TOKEN"], secrets_env=["TOKEN"]))
    d = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in d.output(), 20, what="daemon start")
        submit(db, "trigger", "s")
        wait_until(lambda: ledger(db, "s") and "up" in out_lines(db, 1), 30, what="the task printed")
        service = ledger(db, "s")[0].runner_ref
        looked = [subprocess.run(["docker", *args], capture_output=True, text=True, timeout=30)
                  for args in (["service", "inspect", service], ["service", "ps", "--no-trunc", service],
                               ["secret", "inspect", *[s["ID"] for s in left_on(swarm, db)[1]]])]
        containers = swarm.containers.list(all=True, filters={"label": f"com.docker.swarm.service.id={service}"})
        assert containers and all(SECRET not in json.dumps(c.attrs) for c in containers)
        for done in looked:
            assert done.returncode == 0 and SECRET not in done.stdout, done
        assert '"SecretName"' in looked[0].stdout  # the spec names the secret, and that is all it holds
        wait_until(lambda: ledger(db, "s")[0].status == "succeeded", 30, what="the run ended")
        wait_until(lambda: left_on(swarm, db) == ([], []), 20, what="service and secret removed")
    finally:
        assert d.stop() == 0
    assert out_lines(db, 1) == ["***", "env:***", "up"]
    assert SECRET not in d.output()
    for path in Path(db).parent.glob(Path(db).name + "*"):
        assert SECRET.encode() not in path.read_bytes(), path


def test_after_kill9_a_swarm_run_is_followed_once_to_its_end_and_nothing_is_left(tmp_path, busybox_image, swarm):
    """The daemon dies mid-run; the next one finds the service by its labels, reads the rest of the log, records
    the end once, and removes the run's service and secret. What a scheduler killed after recording a run but
    before removing its service left (planted here for run 2) is removed too."""
    cfg, db = with_secret(tmp_path, swarm_job(
        "s", busybox_image, "for i in $(seq 1 10); do echo line$i; sleep 0.3; done; exit 4", secrets=["TOKEN"]))
    first = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in first.output(), 20, what="daemon start")
        submit(db, "trigger", "s")
        wait_until(lambda: rows(db, "SELECT COUNT(*) FROM runs WHERE status='running' AND log_lines > 0")[0][0], 30,
                   what="the run started and printed")
    finally:
        first.kill9()
    services, secrets = left_on(swarm, db)
    assert len(services) == 1 and len(secrets) == 1
    with ledger_on(db) as book:  # a run a killed scheduler had recorded, but not cleaned up after
        planted = book.insert("s", time.time(), trigger="manual", now=time.time(), runner="swarm")
        book.finish(planted.id, "failed", time.time(), exit_code=1, reason="exit 1")
    labels = {"panda.db": db_id(db), "panda.run_id": str(planted.id), "panda.job": "s"}
    swarm.api.create_secret(f"panda-left-{planted.id}", b"x", labels=labels)
    swarm.api.create_service({"ContainerSpec": {"Image": busybox_image, "Args": ["sleep", "60"]},
                              "RestartPolicy": {"Condition": "none"}}, name=f"panda-left-{planted.id}",
                             labels=labels)
    second = Daemon(cfg, db)
    try:
        wait_until(lambda: ledger(db, "s")[0].status != "running", 40, what="run settled")
        wait_until(lambda: left_on(swarm, db) == ([], []), 30, what="services and secrets removed")
    finally:
        assert second.stop() == 0
    run = ledger(db, "s")[0]
    assert (run.status, run.exit_code, run.runner, run.node) == ("failed", 4, "swarm", swarm.info()["Name"])
    assert out_lines(db, run.id) == [f"line{i}" for i in range(1, 11)]  # complete, no duplicates
    told = [e for e in events(second.output()) if e.get("run_id") == run.id]
    assert [e["event"] for e in told] == ["adopted", "finished"], told


def test_overlap_retries_and_catchup_hold_for_swarm_jobs(tmp_path, busybox_image, swarm):
    cfg, db = write_jobs(
        tmp_path,
        swarm_job("long", busybox_image, "sleep 4", concurrency="forbid"),
        swarm_job("flaky", busybox_image, "exit 1", retries=1, retry_delay="1s"),
        job("tick", "@every 2s", "true", image=busybox_image, runner="swarm", catchup="latest"))
    first = Daemon(cfg, db)
    try:
        wait_until(lambda: any(r.status == "succeeded" for r in ledger(db, "tick")), 30, what="a tick ran")
        submit(db, "trigger", "long")
        wait_until(lambda: ledger(db, "long") and ledger(db, "long")[0].status == "running", 20, what="long runs")
        submit(db, "trigger", "long")
        submit(db, "trigger", "flaky")
        wait_until(lambda: len(ledger(db, "flaky")) == 2 and ledger(db, "flaky")[1].status == "failed", 40,
                   what="flaky retried once")
    finally:
        assert first.stop() == 0
    long_runs, flaky = ledger(db, "long"), ledger(db, "flaky")
    assert long_runs[1].status == "skipped" and long_runs[1].reason.startswith("overlap"), long_runs[1]
    assert [(r.attempt, r.trigger, r.status, r.runner) for r in flaky] == \
        [(1, "manual", "failed", "swarm"), (2, "retry", "failed", "swarm")]
    stopped, ticks = time.time(), len(ledger(db, "tick"))
    wait_until(lambda: time.time() > stopped + 5, 10, what="three slots to pass while no scheduler runs")
    second = Daemon(cfg, db)
    try:
        wait_until(lambda: any(r.trigger == "catchup" and r.status == "succeeded" for r in ledger(db, "tick")), 30,
                   what="the newest missed slot caught up")
    finally:
        assert second.stop() == 0
    later = ledger(db, "tick")[ticks:]
    assert [r.trigger for r in later if r.trigger == "catchup"] == ["catchup"]
    assert any(r.status == "missed" and r.reason.startswith("scheduler down") for r in later), later


def test_a_manager_that_cannot_be_reached_fails_runs_plainly_and_scheduling_recovers(tmp_path, docker_client,
                                                                                     busybox_image):
    with engine_at(docker_client, busybox_image) as manager:
        manager.client().swarm.init(advertise_addr="127.0.0.3", listen_addr="127.0.0.3:2377")
        cfg, db = write_jobs(tmp_path, swarm_job("r", busybox_image, "echo ok", docker_host=manager.host))
        d = Daemon(cfg, db)
        try:
            wait_until(lambda: "lease_acquired" in d.output(), 20, what="daemon start")
            submit(db, "trigger", "r")
            wait_until(lambda: [r.status for r in ledger(db, "r")] == ["succeeded"], 30, what="a first run")
            manager.stop()
            submit(db, "trigger", "r")
            wait_until(lambda: len(ledger(db, "r")) == 2 and ledger(db, "r")[1].status == "failed", 30,
                       what="a run while the manager is down")
            manager.start()
            wait_until(lambda: _leads(manager), 60, what="the manager leads its swarm again")
            submit(db, "trigger", "r")
            wait_until(lambda: len(ledger(db, "r")) == 3 and ledger(db, "r")[2].status != "running", 40,
                       what="a run once it is back")
        finally:
            assert d.stop() == 0
    runs = ledger(db, "r")
    assert runs[1].reason == "swarm manager unreachable: no engine socket (is dockerd running?)", runs[1]
    assert (runs[2].status, out_lines(db, runs[2].id)) == ("succeeded", ["ok"])


def _leads(engine) -> bool:
    try:
        return bool(engine.client().nodes.list())
    except Exception:
        return False


def test_validate_says_plainly_when_the_engine_is_not_a_swarm_manager(tmp_path, busybox_image, second_engine, swarm):
    cfg, _ = write_jobs(tmp_path, swarm_job("on-swarm", busybox_image, "true"),
                        swarm_job("elsewhere", busybox_image, "true", docker_host=second_engine.host))
    done = run_cli("validate", "--config", cfg)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f'warning: job "elsewhere": runner: {second_engine.host} is not a swarm manager: run `docker swarm init` '
        "there (or `docker swarm join` it to your swarm as a manager), or point docker_host at a manager; every run "
        "will fail until it is"]


def test_a_swarm_a_killed_run_left_is_left_and_one_the_user_made_is_kept(second_engine):
    """How the suite tells its own swarm from the user's (tests/swarm_hold.py), on a second engine: one made with
    the suite's label, as a run killed right after `swarm init` leaves it, is left by the next run; one made
    without it stays as it is."""
    client = second_engine.client()
    client.swarm.init(advertise_addr="127.0.0.4", listen_addr="127.0.0.4:2377",
                      labels={SWARM_LABEL: "another-host 4242"})
    try:
        assert leave_stale_swarm(client)
        assert client.info()["Swarm"]["LocalNodeState"] == "inactive"
        client.swarm.init(advertise_addr="127.0.0.4", listen_addr="127.0.0.4:2377")  # the user's own
        assert not leave_stale_swarm(client)
        assert client.info()["Swarm"]["LocalNodeState"] == "active"
    finally:
        if client.info()["Swarm"]["LocalNodeState"] != "inactive":
            client.swarm.leave(force=True)
