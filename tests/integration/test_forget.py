"""`panda-tui forget JOB` removes a job no config declares (an `exec` typo), through the scheduler; a
declared job is refused in one line. /metrics lists the same jobs as the API, before and after."""

from __future__ import annotations

import json

import httpx

from tests.conftest import run_cli
from tests.integration.helpers import Daemon, wait_until
from tests.integration.test_web_metrics import samples
from tests.integration.web_server import Served
from tests.jobfiles import job, write_jobs


def api_and_metrics_jobs(cfg: str, db: str) -> tuple[set[str], set[str]]:
    server = Served(cfg, db)
    try:
        with httpx.Client(base_url=server.url, headers=server.auth, timeout=30) as http:
            api = {j["job"] for j in http.get("/api/jobs").json()["jobs"]}
            metrics = {dict(labels).get("job") for _name, labels in samples(http.get("/metrics").text)}
    finally:
        server.stop()
    return api, metrics - {None}


def test_forget_removes_an_undeclared_job_and_refuses_a_declared_one(tmp_path):
    cfg, db = write_jobs(tmp_path, job("backup"), job("old", enabled=False))
    assert run_cli("exec", "bakcup", "--config", cfg, "--db", db, "--", "true").returncode == 0  # a typo
    assert run_cli("run", "backup", "--config", cfg, "--db", db).returncode == 0
    api, metrics = api_and_metrics_jobs(cfg, db)
    assert api == metrics == {"backup", "bakcup", "old"}
    no_scheduler = run_cli("forget", "bakcup", "--config", cfg, "--db", db)
    assert no_scheduler.returncode == 1 and "no scheduler is running" in no_scheduler.stderr
    daemon = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in daemon.output(), 20, what="daemon start")
        declared = run_cli("forget", "backup", "--config", cfg, "--db", db)
        assert (declared.returncode, declared.stderr) == (
            2, 'error: "backup" is in jobs.toml: remove it there (and reload) before forgetting it\n')
        unknown = run_cli("forget", "nothing", "--config", cfg, "--db", db)
        assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1
        done = run_cli("forget", "bakcup", "--config", cfg, "--db", db)
        assert done.returncode == 0, done.stderr
        assert done.stdout == "bakcup forgotten: 1 run and their logs removed\n"
        status = json.loads(run_cli("status", "--json", "--config", cfg, "--db", db).stdout)
        assert {j["job"] for j in status["jobs"]} == {"backup", "old"}
        api, metrics = api_and_metrics_jobs(cfg, db)
        assert api == metrics == {"backup", "old"}
    finally:
        daemon.stop()
