"""Alerts and pings: decided from the ledger, queued in the outbox, delivered to a real local HTTP server."""

from __future__ import annotations

import asyncio
import json
import textwrap
import time

import pytest

from panda_tui.alerts import outbox
from panda_tui.alerts.delivery import Deliverer
from panda_tui.config import load_config
from panda_tui.engine.clock import FakeClock
from panda_tui.engine.scheduler import Scheduler
from panda_tui.store import runs
from tests.conftest import run_cli
from tests.integration.helpers import Bench, Daemon, wait_until
from tests.integration.http_server import Recorder

T0 = 1_800_000_000.0


@pytest.fixture(autouse=True)
def alert_token(monkeypatch):
    monkeypatch.setenv("ALERT_TOKEN", "tok-abcdef123")


@pytest.fixture
def server():
    recorder = Recorder()
    yield recorder
    recorder.close()


def config_text(url: str, fmt: str = "json", on: str = '["failed", "timed_out", "missed", "lost", "recovered", '
                '"started", "succeeded", "slow", "fast", "killed"]', job_extra: str = "") -> str:
    return textwrap.dedent(f"""
        [alerts.ops]
        url = "{url}/hook"
        format = "{fmt}"
        headers = {{ Authorization = "Bearer ${{secret:ALERT_TOKEN}}" }}
        on = {on}
        timeout = "1s"

        [jobs.j]
        schedule = "@daily"
        command = "true"
        alerts = ["ops"]
        heartbeat = "{url}/ping/abc"
        fast_before = "5s"
        {job_extra}
        """)


class World:
    """A scheduler on a fake clock whose ledger rows the test writes, so each event is exact."""

    def __init__(self, tmp_path, text: str):
        (tmp_path / "jobs.toml").write_text(text)
        self.clock = FakeClock(T0)
        self.sched = Scheduler(load_config(str(tmp_path / "jobs.toml")), str(tmp_path / "p.db"),
                               clock=self.clock, watch_config=False)
        self.conn = self.sched.conn

    def run(self, status: str, duration: float = 10.0, started: bool = True) -> int:
        now = self.clock.now()
        rid = runs.insert(self.conn, "j", now, trigger="schedule", now=now)
        if started:
            runs.mark_running(self.conn, rid, now)
            self.sched.alerter.on_run(rid, started=True)
        self.clock.advance(duration)
        runs.finish(self.conn, rid, status, self.clock.now(), exit_code=0 if status == "succeeded" else 3,
                    reason=None if status == "succeeded" else f"{status} for a test")
        self.sched.alerter.on_run(rid)
        return rid

    def events(self, target: str = "ops") -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT event FROM outbox WHERE target=? ORDER BY id", (target,))]


def test_events_recovery_fast_and_pings_are_decided_from_the_ledger(tmp_path, server):
    w = World(tmp_path, config_text(server.url))
    w.run("failed")
    w.run("succeeded", duration=2.0)  # recovered, and suspiciously fast
    w.run("timed_out")
    w.clock.advance(3600)
    w.run("lost", started=False)
    w.run("missed", started=False)
    assert w.events() == ["started", "failed", "started", "succeeded", "recovered", "fast", "started",
                          "timed_out", "lost"]  # missed came within repeat_after of lost: same streak
    pings = [json.loads(r[0])["url"] for r in w.conn.execute("SELECT payload FROM outbox WHERE target='ping'")]
    assert pings[:4] == [f"{server.url}/ping/abc/start", f"{server.url}/ping/abc/fail",
                         f"{server.url}/ping/abc/start", f"{server.url}/ping/abc"]


def test_a_failure_streak_repeats_at_most_every_repeat_after(tmp_path, server):
    w = World(tmp_path, config_text(server.url, on='["failed", "recovered"]', job_extra='repeat_after = "1h"'))
    for _ in range(3):
        w.run("failed", duration=60)
    assert w.events() == ["failed"]
    w.clock.advance(3600)
    w.run("failed")
    assert w.events() == ["failed", "failed"]
    w.run("succeeded")
    w.run("failed")
    assert w.events() == ["failed", "failed", "recovered", "failed"]


async def deliver_all(sched: Scheduler, deliverer: Deliverer) -> None:
    deliverer.tick()
    await asyncio.gather(*list(deliverer._tasks))


async def test_json_delivery_with_secret_header_and_pings(tmp_path, server):
    w = World(tmp_path, config_text(server.url, on='["failed"]'))
    rid = w.run("failed")
    deliverer = Deliverer(w.sched)
    await deliver_all(w.sched, deliverer)
    await deliverer.close()
    hook = [r for r in server.requests if r["path"] == "/hook"]
    assert len(hook) == 1
    assert hook[0]["headers"]["Authorization"] == "Bearer tok-abcdef123"
    body = hook[0]["json"]
    assert {k: body[k] for k in ("event", "job", "run_id", "status", "exit_code", "reason")} == {
        "event": "failed", "job": "j", "run_id": rid, "status": "failed", "exit_code": 3, "reason": "failed for a test"}
    assert body["scheduled_at"].endswith("Z") and body["duration_s"] == 10.0 and "log_tail" in body
    pings = [(r["path"], r["query"]) for r in server.requests if r["path"].startswith("/ping")]
    assert pings == [("/ping/abc/start", {"rid": [str(rid)]}), ("/ping/abc/fail", {"rid": [str(rid)]})]
    assert all(r["delivered_at"] for r in outbox.listing(w.conn))
    assert b"tok-abcdef123" not in open(tmp_path / "p.db", "rb").read()


async def test_slack_format_retry_then_success(tmp_path, server):
    w = World(tmp_path, config_text(server.url, fmt="slack", on='["failed"]').replace("heartbeat", "#heartbeat"))
    server.fail_times = 1
    w.run("failed")
    deliverer = Deliverer(w.sched)
    await deliver_all(w.sched, deliverer)
    (item,) = outbox.listing(w.conn)
    assert item["delivered_at"] is None and item["last_status"] == 500 and item["attempts"] == 1
    assert item["next_attempt_at"] == pytest.approx(w.clock.now() + 5)
    w.clock.advance(5)
    await deliver_all(w.sched, deliverer)
    await deliverer.close()
    (item,) = outbox.listing(w.conn)
    assert item["delivered_at"] is not None and item["attempts"] == 2
    texts = [r["json"]["text"] for r in server.requests]
    assert texts[0] == texts[1]
    assert texts[0].startswith("✗ j: failed · run 1 · exit 3 · took 10.0s · slot ") and "failed for a test" in texts[0]
    attempts = w.conn.execute("SELECT status FROM alert_attempts ORDER BY id").fetchall()
    assert attempts == [(500,), (200,)]


async def test_a_hanging_endpoint_times_out_without_slowing_anything(tmp_path, server):
    w = World(tmp_path, config_text(server.url, on='["failed"]').replace("heartbeat", "#heartbeat"))
    server.mode = "hang"
    w.run("failed")
    deliverer = Deliverer(w.sched)
    started = time.monotonic()
    deliverer.tick()
    assert time.monotonic() - started < 0.5  # tick only spawns (a held-up tick would take the 1 s timeout)
    await asyncio.gather(*list(deliverer._tasks))
    await deliverer.close()
    (item,) = outbox.listing(w.conn)
    assert item["last_error"] == "no answer within 1s" and item["delivered_at"] is None


async def test_the_outbox_survives_a_restart(tmp_path, server):
    w = World(tmp_path, config_text("http://127.0.0.1:9", on='["failed"]').replace("heartbeat", "#heartbeat"))
    w.run("failed")
    deliverer = Deliverer(w.sched)
    await deliver_all(w.sched, deliverer)  # connection refused: recorded, kept
    await deliverer.close()
    (item,) = outbox.listing(w.conn)
    assert item["delivered_at"] is None and "ConnectError" in item["last_error"]
    w.conn.close()
    (tmp_path / "jobs.toml").write_text(config_text(server.url, on='["failed"]').replace("heartbeat", "#heartbeat"))
    again = Scheduler(load_config(str(tmp_path / "jobs.toml")), str(tmp_path / "p.db"), clock=w.clock,
                      watch_config=False)
    w.clock.advance(6)
    deliverer = Deliverer(again)
    await deliver_all(again, deliverer)
    await deliverer.close()
    assert [r["path"] for r in server.requests] == ["/hook"]
    assert outbox.listing(again.conn)[0]["delivered_at"] is not None


async def test_slow_fires_once_while_a_run_exceeds_it(tmp_path, server):
    from tests.fakes import FakeRunners
    (tmp_path / "jobs.toml").write_text(config_text(server.url, on='["slow"]', job_extra='slow_after = "30s"'))
    clock = FakeClock(T0)
    sched = Scheduler(load_config(str(tmp_path / "jobs.toml")), str(tmp_path / "p.db"), clock=clock,
                      runners=FakeRunners(), watch_config=False)
    sched.dispatch(sched.config.jobs["j"], T0, "manual")
    await asyncio.sleep(0.01)
    clock.advance(20)
    sched.alerter.check_slow()
    clock.advance(20)
    sched.alerter.check_slow()
    sched.alerter.check_slow()
    assert [r[0] for r in sched.conn.execute("SELECT event FROM outbox WHERE target='ops'")] == ["slow"]


async def test_secrets_in_log_lines_stay_masked_in_the_payload(tmp_path, server, monkeypatch):
    monkeypatch.setenv("DB_PASSWORD", "hunter2-very-secret")
    text = config_text(server.url, on='["failed"]').replace("heartbeat", "#heartbeat").replace(
        'command = "true"', 'command = "echo pw=$DB_PASSWORD; exit 1"\nsecrets = ["DB_PASSWORD"]')
    b = Bench(tmp_path, text)
    await b.run("j")
    payload = json.loads(b.sched.conn.execute("SELECT payload FROM outbox").fetchone()[0])
    assert payload["log_tail"][0] == "pw=***"
    await b.close()


def test_daemon_delivers_and_pings_for_real(tmp_path, server):
    (tmp_path / "jobs.toml").write_text(textwrap.dedent(f"""
        [scheduler]
        heartbeat = "{server.url}/scheduler"
        heartbeat_every = "1s"
        [alerts.ops]
        url = "{server.url}/hook"
        format = "slack"
        [jobs.bad]
        schedule = "@every 2s"
        command = "echo broken >&2; exit 5"
        alerts = ["ops"]
        """))
    d = Daemon(str(tmp_path / "jobs.toml"), str(tmp_path / "p.db"))
    try:
        wait_until(lambda: any(r["path"] == "/hook" for r in server.requests), 20, what="an alert")
        wait_until(lambda: sum(r["path"] == "/scheduler" for r in server.requests) >= 2, 10, what="heartbeats")
    finally:
        assert d.stop() == 0
    hook = next(r for r in server.requests if r["path"] == "/hook")
    assert hook["json"]["text"].startswith("✗ bad: failed · run ")
    listed = run_cli("alerts", "--db", str(tmp_path / "p.db"), "--config", str(tmp_path / "jobs.toml"))
    assert "delivered (HTTP 200" in listed.stdout


def test_alerts_test_command(tmp_path, server):
    cfg = tmp_path / "jobs.toml"
    cfg.write_text(config_text(server.url, fmt="slack").replace("${secret:ALERT_TOKEN}", "x"))
    ok = run_cli("alerts", "test", "ops", "--config", str(cfg), "--db", str(tmp_path / "p.db"))
    assert ok.returncode == 0 and ok.stdout.startswith("ops: HTTP 200 in ")
    assert server.requests[-1]["json"]["text"].startswith("🔔 panda-tui: test")
    server.mode = "fail"
    bad = run_cli("alerts", "test", "ops", "--config", str(cfg), "--db", str(tmp_path / "p.db"))
    assert bad.returncode == 1 and "HTTP 500" in bad.stderr
    missing = run_cli("alerts", "test", "nope", "--config", str(cfg))
    assert missing.returncode == 2 and 'no alert target "nope"' in missing.stderr

