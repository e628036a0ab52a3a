"""`/metrics` read back with prometheus_client's own parser: every figure is what the ledger says."""

from __future__ import annotations

import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from panda_tui.config import load_config
from panda_tui.readmodel.health import next_fire
from panda_tui.store import connect, lease, outbox, state
from panda_tui.store.ledger import RunStatus
from tests.conftest import ledger_on
from tests.integration.helpers import Daemon, wait_until
from tests.integration.web_server import Served
from tests.jobfiles import job, write_jobs


def samples(text: str) -> dict[tuple, float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def fill(db: str, now: float) -> None:
    """backup: 3 succeeded (0.3 s, 4 s, 40 s), 1 failed (7 s), 1 running; report: 2 missed; paused report."""
    with ledger_on(db) as book:
        for i, (status, seconds) in enumerate([(RunStatus.SUCCEEDED, 0.3), (RunStatus.SUCCEEDED, 4.0),
                                               (RunStatus.FAILED, 7.0), (RunStatus.SUCCEEDED, 40.0)]):
            slot = now - 1000 + i * 100
            run = book.insert("backup", slot, trigger="schedule", now=slot)
            book.start(run.id, slot)
            book.finish(run.id, status, slot + seconds, exit_code=0 if status == "succeeded" else 1)
        book.start(book.insert("backup", now - 5, trigger="manual", now=now - 5).id, now - 5)
        for slot in (now - 7200, now - 3600):
            book.insert("report", slot, trigger="schedule", now=slot + 700, status=RunStatus.MISSED, reason="down")
        conn = book.conn
        state.set_paused(conn, "report", True, now)
        state.put_meta(conn, "engines", {"unix:///var/run/docker.sock": {"up": True},
                                         "tcp://10.0.0.9:2376": {"up": False, "error": "refused"}}, now)
        for event in ("failed", "missed"):
            item_id = outbox.enqueue(conn, event, "ops", {}, now, job="backup")
            conn.execute("UPDATE outbox SET attempts=2 WHERE id=?", (item_id,))
        outbox.enqueue(conn, "succeeded", "ops", {}, now, job="backup")  # not tried yet: not undelivered


def test_metrics_are_the_ledger_in_prometheus_text(tmp_path):
    cfg, db = write_jobs(tmp_path, job("backup", schedule="*/5 * * * *"), job("report", schedule="@daily"),
                         job("old", enabled=False))
    connect(db).close()
    now = time.time()
    fill(db, now)
    server = Served(cfg, db)
    try:
        with httpx.Client(base_url=server.url) as http:
            assert http.get("/metrics").status_code == 401
            answer = http.get("/metrics", headers=server.auth)
    finally:
        server.stop()
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    got = samples(answer.text)

    def value(name: str, **labels) -> float:
        return got[(name, tuple(sorted(labels.items())))]

    assert value("panda_runs_total", job="backup", status="succeeded") == 3
    assert value("panda_runs_total", job="backup", status="failed") == 1
    assert value("panda_runs_total", job="report", status="missed") == 2
    assert ("panda_runs_total", (("job", "backup"), ("status", "running"))) not in got  # not a final status
    assert value("panda_runs_active", job="backup", status="running") == 1
    assert value("panda_run_duration_seconds_bucket", job="backup", le="0.5") == 1
    assert value("panda_run_duration_seconds_bucket", job="backup", le="5.0") == 2
    assert value("panda_run_duration_seconds_bucket", job="backup", le="10.0") == 3
    assert value("panda_run_duration_seconds_bucket", job="backup", le="60.0") == 4
    assert value("panda_run_duration_seconds_bucket", job="backup", le="+Inf") == 4
    assert value("panda_run_duration_seconds_count", job="backup") == 4
    assert abs(value("panda_run_duration_seconds_sum", job="backup") - 51.3) < 1e-6
    assert abs(value("panda_job_last_run_timestamp_seconds", job="backup", status="succeeded") - (now - 700 + 40)) < 1e-3
    assert abs(value("panda_job_last_run_timestamp_seconds", job="backup", status="failed") - (now - 800 + 7)) < 1e-3
    config = load_config(cfg)
    assert abs(value("panda_job_next_run_timestamp_seconds", job="backup") - next_fire(config.jobs["backup"], now)) < 1
    assert ("panda_job_next_run_timestamp_seconds", (("job", "old"),)) not in got  # disabled
    assert value("panda_job_paused", job="report") == 1 and value("panda_job_paused", job="backup") == 0
    assert value("panda_scheduler_up") == 0
    assert value("panda_engine_up", host="unix:///var/run/docker.sock") == 1
    assert value("panda_engine_up", host="tcp://10.0.0.9:2376") == 0
    assert value("panda_alerts_undelivered") == 2
    assert value("panda_web_consoles") == 0


def test_scheduler_up_follows_the_lease(tmp_path):
    cfg, db = write_jobs(tmp_path, job("tick", schedule="@every 1s"))
    daemon = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in daemon.output(), 20, what="daemon start")
        server = Served(cfg, db)
        try:
            with httpx.Client(base_url=server.url, headers=server.auth) as http:
                def scrape():
                    return samples(http.get("/metrics").text)
                assert scrape()[("panda_scheduler_up", ())] == 1
                wait_until(lambda: scrape().get(("panda_runs_total", (("job", "tick"), ("status", "succeeded"))),
                                                0) >= 2, 15, what="two runs counted")
                daemon.stop()
                conn = connect(db)
                assert lease.live_holder(conn) is None  # a clean stop gives the lease back
                conn.close()
                assert scrape()[("panda_scheduler_up", ())] == 0
        finally:
            server.stop()
    finally:
        daemon.stop()
