"""Two servers in one swarm, on one machine: this machine's engine as the manager, and a second dockerd
(its own data root, socket and listen address, under the hostname panda-worker) joined as a worker."""

from __future__ import annotations

import json
import socket

import pytest

from panda_tui.readmodel.running import RunningConfig
from panda_tui.tui.app import PandaApp
from tests.conftest import engine_at, run_cli
from tests.integration.helpers import Bench, wait_until
from tests.jobfiles import job

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.swarm]

WORKER = "panda-worker"


@pytest.fixture
def worker(docker_client, busybox_image, swarm):
    """The second server, joined for this test only (other tests' tasks stay on the manager)."""
    token = swarm.api.inspect_swarm()["JoinTokens"]["Worker"]
    with engine_at(docker_client, busybox_image, hostname=WORKER) as engine:
        engine.client().swarm.join(remote_addrs=["127.0.0.1:2377"], join_token=token, advertise_addr="127.0.0.2",
                                   listen_addr="127.0.0.2:2377")
        node_id = engine.client().info()["Swarm"]["NodeID"]
        wait_until(lambda: swarm.api.inspect_node(node_id)["Status"]["State"] == "ready", 30, what="worker ready")
        try:
            yield engine
        finally:
            engine.client().swarm.leave(force=True)
            swarm.api.remove_node(node_id, force=True)  # at once: a node that left need not be seen down first


async def test_a_job_constrained_to_the_worker_runs_there_and_its_node_is_recorded(tmp_path, busybox_image,
                                                                                   worker):
    tables = [job(name, "@yearly", "echo on $PANDA_JOB; exit 3", image=busybox_image, runner="swarm",
                  constraints=[where]) for name, where in (("there", f"node.hostname=={WORKER}"),
                                                            ("here", "node.role==manager"))]
    b = Bench(tmp_path, "\n".join(tables))
    try:
        there, here = await b.run("there"), await b.run("here")
    finally:
        await b.close()
    assert (there.status, there.exit_code, there.node) == ("failed", 3, WORKER)
    assert (here.status, here.exit_code, here.node) == ("failed", 3, socket.gethostname())
    assert b.lines(there.id, "out") == ["on there"]
    assert not worker.client().containers.list(all=True)  # its task's container went with the service

    shown = run_cli("executions", "there", "--config", b.cfg, "--db", b.db)
    head, row = shown.stdout.splitlines()[:2]
    assert "NODE" in head.split() and f" {WORKER} " in row, shown.stdout
    as_json = json.loads(run_cli("executions", "there", "--json", "--config", b.cfg, "--db", b.db).stdout)
    assert as_json[0]["node"] == WORKER

    app = PandaApp(RunningConfig(b.cfg), b.db, mode="attached")
    nodes = {str(there.id): WORKER, str(here.id): socket.gethostname()}
    async with app.run_test(size=(140, 40)) as pilot:
        for _ in range(400):  # app.main is set once the panes below the job list are mounted
            if app.main is not None:
                break
            await pilot.pause(0.05)
        history = app.query_one("#history")

        def shown() -> tuple[str, str] | None:
            if not history.row_count:
                return None
            row = history.get_row_at(0)
            return str(row[history.columns_shown.index("RUN")]), str(row[history.columns_shown.index("NODE")])
        for _ in range(200):
            if shown() and shown()[1]:
                break
            await pilot.pause(0.05)
        run_id, node = shown()
        assert nodes[run_id] == node
