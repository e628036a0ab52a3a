"""Alerts and pings: decided from the ledger, queued in the outbox, delivered to a real local HTTP server."""

from __future__ import annotations

import json
import textwrap
import time

import pytest

import httpx

from panda_tui.alerts.alerter import Alerter
from panda_tui.alerts.delivery import Deliverer
from panda_tui.config import load_config
from panda_tui.store import outbox
from panda_tui.store.db import Database
from panda_tui.store.ledger import Ledger, RunStatus
from tests.clocks import FakeClock
from tests.conftest import run_cli
from tests.integration.helpers import Bench, Daemon, wait_until
from tests.integration.http_server import Recorder
from tests.jobfiles import write_jobs

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
    """A ledger and its alerter on a fake clock. The test writes each run's changes, so each event is exact."""

    def __init__(self, tmp_path, text: str):
        cfg, db = write_jobs(tmp_path, text)
        self.clock = FakeClock(T0)
        self.config = load_config(cfg)
        self.db = Database(db)
        self.conn = self.db.conn
        self.book = Ledger(self.db)
        self.alerter = Alerter(lambda: self.config, self.clock)
        self.book.subscribe_in_transaction(self.alerter.on_change)

    def run(self, status: str, duration: float = 10.0, started: bool = True) -> int:
        now = self.clock.now()
        rid = self.book.insert("j", now, trigger="schedule", now=now).id
        if started:
            self.book.start(rid, now)
        self.clock.advance(duration)
        self.book.finish(rid, RunStatus(status), self.clock.now(), exit_code=0 if status == "succeeded" else 3,
                         reason=None if status == "succeeded" else f"{status} for a test")
        return rid

    def deliverer(self) -> Deliverer:
        return Deliverer(self.db, lambda: self.config, self.clock, httpx.AsyncClient(), lambda *a, **k: None)

    def events(self, target: str = "ops") -> list[str]:
        return [item["event"] for item in reversed(outbox.listing(self.conn, 1000)) if item["target"] == target]


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


async def deliver_all(deliverer: Deliverer) -> None:
    deliverer.tick()
    await deliverer.settle()


async def test_json_delivery_with_secret_header_and_pings(tmp_path, server):
    w = World(tmp_path, config_text(server.url, on='["failed"]'))
    rid = w.run("failed")
    deliverer = w.deliverer()
    await deliver_all(deliverer)
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
    assert b"tok-abcdef123" not in open(w.db.path, "rb").read()


async def test_slack_format_retry_then_success(tmp_path, server):
    w = World(tmp_path, config_text(server.url, fmt="slack", on='["failed"]').replace("heartbeat", "#heartbeat"))
    server.fail_times = 1
    w.run("failed")
    deliverer = w.deliverer()
    await deliver_all(deliverer)
    (item,) = outbox.listing(w.conn)
    assert item["delivered_at"] is None and item["last_status"] == 500 and item["attempts"] == 1
    assert item["next_attempt_at"] == pytest.approx(w.clock.now() + 5)
    w.clock.advance(5)
    await deliver_all(deliverer)
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
    deliverer = w.deliverer()
    started = time.monotonic()
    deliverer.tick()
    assert time.monotonic() - started < 0.5  # tick only spawns (a held-up tick would take the 1 s timeout)
    await deliverer.settle()
    await deliverer.close()
    (item,) = outbox.listing(w.conn)
    assert item["last_error"] == "no answer within 1s" and item["delivered_at"] is None


async def test_the_outbox_survives_a_restart(tmp_path, server):
    w = World(tmp_path, config_text("http://127.0.0.1:9", on='["failed"]').replace("heartbeat", "#heartbeat"))
    w.run("failed")
    deliverer = w.deliverer()
    await deliver_all(deliverer)  # connection refused: recorded, kept
    await deliverer.close()
    (item,) = outbox.listing(w.conn)
    assert item["delivered_at"] is None and "ConnectError" in item["last_error"]
    w.db.close()
    again = World(tmp_path, config_text(server.url, on='["failed"]').replace("heartbeat", "#heartbeat"))
    again.clock.set(w.clock.now() + 6)  # past the retry delay of 5 s
    deliverer = again.deliverer()
    await deliver_all(deliverer)
    await deliverer.close()
    assert [r["path"] for r in server.requests] == ["/hook"]
    assert outbox.listing(again.conn)[0]["delivered_at"] is not None


async def test_slow_fires_once_while_a_run_exceeds_it(tmp_path, server):
    w = World(tmp_path, config_text(server.url, on='["slow"]', job_extra='slow_after = "30s"'))
    rid = w.book.insert("j", T0, trigger="manual", now=T0).id
    w.book.start(rid, T0)
    w.clock.advance(20)
    w.alerter.check_slow(w.db)
    assert w.events() == []
    w.clock.advance(20)
    w.alerter.check_slow(w.db)
    w.alerter.check_slow(w.db)
    assert w.events() == ["slow"]


async def test_secrets_in_log_lines_stay_masked_in_the_payload(tmp_path, server, monkeypatch):
    monkeypatch.setenv("DB_PASSWORD", "hunter2-very-secret")
    text = config_text(server.url, on='["failed"]').replace("heartbeat", "#heartbeat").replace(
        'command = "true"', 'command = "echo pw=$DB_PASSWORD; exit 1"\nsecrets = ["DB_PASSWORD"]')
    b = Bench(tmp_path, text)
    await b.run("j")
    (item,) = outbox.due(b.sched.conn, time.time() + 1)
    assert item.payload["log_tail"][0] == "pw=***"
    await b.close()


def test_daemon_delivers_and_pings_for_real(tmp_path, server):
    cfg, db = write_jobs(tmp_path, f"""
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
        """)
    d = Daemon(cfg, db)
    try:
        # a start held up past a slot on a loaded machine first alerts that slot missed: wait for a failure
        failed = lambda: [r for r in server.requests if r["path"] == "/hook"  # noqa: E731
                          and r["json"]["text"].startswith("✗ bad: failed · run ")]
        wait_until(failed, 60, what="a failure alert")
        wait_until(lambda: sum(r["path"] == "/scheduler" for r in server.requests) >= 2, 30, what="heartbeats")
    finally:
        assert d.stop() == 0
    listed = run_cli("alerts", "--db", db, "--config", cfg)
    assert "delivered (HTTP 200" in listed.stdout


def test_alerts_test_command(tmp_path, server):
    cfg, _ = write_jobs(tmp_path, config_text(server.url, fmt="slack").replace("${secret:ALERT_TOKEN}", "x"))
    ok = run_cli("alerts", "test", "ops", "--config", cfg, "--db", str(tmp_path / "p.db"))
    assert ok.returncode == 0 and ok.stdout.startswith("ops: HTTP 200 in ")
    assert server.requests[-1]["json"]["text"].startswith("🔔 panda-tui: test")
    server.mode = "fail"
    bad = run_cli("alerts", "test", "ops", "--config", str(cfg), "--db", str(tmp_path / "p.db"))
    assert bad.returncode == 1 and "HTTP 500" in bad.stderr
    missing = run_cli("alerts", "test", "nope", "--config", str(cfg))
    assert missing.returncode == 2 and 'no alert target "nope"' in missing.stderr



def test_a_huge_line_reaches_an_alert_cut_with_its_size(tmp_path, server):
    """A failed run whose output was one 20 MB line (stored in 64 KiB pieces, as the runner stores it): the
    alert's log tail and its error lines read a bounded prefix of each piece, not the pieces whole."""
    from panda_tui.alerts.answer import complete
    from panda_tui.runners.lines import MAX_LINE
    w = World(tmp_path, config_text(server.url, on='["failed"]'))
    rid = w.book.insert("j", T0, trigger="manual", now=T0).id
    w.book.start(rid, T0)
    pieces = 20_000_000 // MAX_LINE
    with w.db.transaction() as conn:
        conn.executemany("INSERT INTO logs(run_id, seq, ts, stream, text) VALUES (?,?,?,?,?)",
                         [(rid, n, T0, "err", "E" * MAX_LINE) for n in range(1, pieces + 1)])
    w.book.finish(rid, RunStatus.FAILED, T0 + 10, exit_code=1, reason="failed for a test")
    (item,) = [i for i in outbox.due(w.conn, T0 + 1e6) if i.event == "failed" and i.target == "ops"]
    tail = item.payload["log_tail"]
    assert len(tail) == 20 and all(len(line) < 2100 for line in tail)
    assert tail[-1] == "E" * 2000 + f" … {MAX_LINE - 2000} bytes more"
    done = complete(w.db.path, item.payload)
    assert done["error_lines"] and all(len(line) <= 200 for line in done["error_lines"])
