"""The JSON API against a real `panda-tui serve` and a real daemon that carries out what it is asked."""

from __future__ import annotations

import json
import time
from datetime import datetime

import httpx
import pytest

from tests.conftest import run_cli
from tests.integration.helpers import Daemon, ledger, wait_until
from tests.integration.web_server import Served
from tests.jobfiles import QUICK_STOP, job, write_jobs

JOBS = (job("greet", command="echo one; sleep 1; echo two >&2; echo three"),
        job("sleeper", command="echo sleeping; sleep 60", kill_grace="1s"),
        job("quiet", schedule="@hourly"), job("broken", schedule="@yearly", command="echo no >&2; exit 3"))


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(*write_jobs(tmp_path, *JOBS, QUICK_STOP))
    wait_until(lambda: "lease_acquired" in d.output(), 20, what="daemon start")
    yield d
    d.stop()


@pytest.fixture
def control(daemon):
    server = Served(daemon.cfg, daemon.db, "--allow-control")
    yield server
    server.stop()


@pytest.fixture
def read_only(daemon):
    server = Served(daemon.cfg, daemon.db)
    yield server
    server.stop()


def events(text: str) -> list[tuple[str, dict]]:
    """Server-Sent Events as (event, data)."""
    out = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in fields:
            out.append((fields.get("event", "message"), json.loads(fields["data"])))
    return out


def test_trigger_is_carried_out_and_its_log_follows_as_server_sent_events(control):
    with httpx.Client(base_url=control.url, headers=control.auth, timeout=30) as http:
        answer = http.post("/api/jobs/greet/trigger")
        assert answer.status_code == 200, answer.text
        assert answer.json()["ok"] and answer.json()["outcome"]
        run = wait_until(lambda: http.get("/api/jobs/greet/runs?limit=1").json(), 10, what="the run")[0]
        assert run["trigger"] == "manual"
        with http.stream("GET", f"/api/runs/{run['id']}/log?follow=1") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            body = "".join(stream.iter_text())
        got = events(body)
        assert [(e, d["text"], d["stream"]) for e, d in got if e == "line"] == [
            ("line", "one", "out"), ("line", "two", "err"), ("line", "three", "out")]
        end = got[-1]
        assert end[0] == "end" and end[1]["run"]["status"] == "succeeded" and end[1]["run"]["id"] == run["id"]
        # a reconnecting client resumes after the last line it saw
        again = http.get(f"/api/runs/{run['id']}/log?follow=1", headers={"Last-Event-ID": "2"})
        assert [d["text"] for e, d in events(again.text) if e == "line"] == ["three"]
        page = http.get(f"/api/runs/{run['id']}/log?limit=2").json()
        assert [x["text"] for x in page["lines"]] == ["one", "two"] and page["more"] and page["next_after"] == 2
        stamped = datetime.fromisoformat(page["lines"][0]["ts"].replace("Z", "+00:00"))  # ISO, as every time
        assert abs(stamped.timestamp() - time.time()) < 3600 and page["lines"][0]["ts"].endswith("Z")
    assert ledger(control.db, "greet")[-1].status == "succeeded"


def test_pause_resume_and_kill_through_control_requests(control):
    with httpx.Client(base_url=control.url, headers=control.auth, timeout=30) as http:
        assert http.post("/api/jobs/quiet/pause").status_code == 200
        quiet = next(j for j in http.get("/api/jobs").json()["jobs"] if j["job"] == "quiet")
        assert quiet["paused"] and quiet["state"] == "paused"
        assert http.post("/api/jobs/quiet/resume", json={"catchup": False}).status_code == 200
        assert not next(j for j in http.get("/api/jobs").json()["jobs"] if j["job"] == "quiet")["paused"]

        assert http.post("/api/jobs/sleeper/trigger").status_code == 200
        running = wait_until(lambda: next(j for j in http.get("/api/jobs").json()["jobs"]
                                          if j["job"] == "sleeper")["running"], 10, what="sleeper running")
        killed = http.post(f"/api/runs/{running[0]}/kill")
        assert killed.status_code == 200, killed.text
        wait_until(lambda: http.get(f"/api/runs/{running[0]}").json()["status"] == "killed", 15, what="killed")
        again = http.post(f"/api/runs/{running[0]}/kill")
        assert again.status_code == 409 and "not running" in again.json()["error"]


def test_ack_and_unack_through_the_api_show_in_api_jobs(control):
    with httpx.Client(base_url=control.url, headers=control.auth, timeout=30) as http:
        refused = http.post("/api/jobs/quiet/ack")
        assert refused.status_code == 409 and "is neither failing nor flapping" in refused.json()["error"]
        assert http.post("/api/jobs/broken/trigger").status_code == 200
        wait_until(lambda: ledger(control.db, "broken") and ledger(control.db, "broken")[-1].status == "failed", 15,
                   what="broken failed")
        bad = http.post("/api/jobs/broken/ack", json={"for": "soon"})
        assert bad.status_code == 400 and bad.json()["error"].startswith("for: expected a duration")
        acked = http.post("/api/jobs/broken/ack", json={"by": "ana", "for": "2h", "note": "on it"})
        assert acked.status_code == 200, acked.text
        ack = http.get("/api/jobs").json()["acks"]["broken"]
        assert (ack["by"], ack["note"]) == ("ana", "on it") and ack["until"].endswith("Z")
        assert http.post("/api/jobs/broken/unack").status_code == 200
        assert http.get("/api/jobs").json()["acks"] == {}


def test_a_job_only_exec_runs_is_acked_through_the_api_and_its_trigger_says_why_not(control):
    ran = run_cli("exec", "nu-long", "--config", control.cfg, "--db", control.db, "--", "sh", "-c", "exit 3")
    assert ran.returncode == 3, ran.stderr
    with httpx.Client(base_url=control.url, headers=control.auth, timeout=30) as http:
        acked = http.post("/api/jobs/nu-long/ack", json={"by": "ana"})
        assert acked.status_code == 200, acked.text
        assert http.get("/api/jobs").json()["acks"]["nu-long"]["by"] == "ana"
        assert http.post("/api/jobs/nu-long/unack").status_code == 200
        refused = http.post("/api/jobs/nu-long/trigger")
        assert refused.status_code == 409 and "run only by panda-tui exec" in refused.json()["error"]
        assert http.post("/api/jobs/nosuch/ack").status_code == 404


def test_a_read_only_server_answers_403_to_every_post_and_acts_on_nothing(read_only):
    with httpx.Client(base_url=read_only.url, headers=read_only.auth) as http:
        for path in ("/api/jobs/greet/trigger", "/api/jobs/greet/pause", "/api/jobs/greet/resume", "/api/runs/1/kill",
                     "/api/jobs/greet/ack"):
            answer = http.post(path)
            assert answer.status_code == 403, path
            assert "--allow-control" in answer.json()["error"]
    assert ledger(read_only.db, "greet") == []
    status = run_cli("status", "--json", "--config", read_only.cfg, "--db", read_only.db)
    assert not any(j["paused"] for j in json.loads(status.stdout)["jobs"])


def test_api_jobs_is_what_status_json_prints(control):
    with httpx.Client(base_url=control.url, headers=control.auth) as http:
        http.post("/api/jobs/greet/trigger")
        wait_until(lambda: ledger(control.db, "greet") and ledger(control.db, "greet")[-1].status == "succeeded",
                   15, what="greet done")
        api = http.get("/api/jobs").json()
    cli = json.loads(run_cli("status", "--json", "--config", control.cfg, "--db", control.db).stdout)
    assert api.keys() == cli.keys() and api["scheduler"] == cli["scheduler"]
    assert [(j["job"], j["state"], j["last_run_id"], j["last_status"]) for j in api["jobs"]] == \
           [(j["job"], j["state"], j["last_run_id"], j["last_status"]) for j in cli["jobs"]]


def test_errors_are_json_with_a_message(control):
    with httpx.Client(base_url=control.url, headers=control.auth) as http:
        cases = {
            "/api/runs/999999": 404, "/api/runs/999999/log": 404, "/api/jobs/nope/runs": 404,
            "/api/jobs/greet/runs?limit=0": 400, "/api/jobs/greet/runs?limit=ten": 400,
            "/api/runs/1/log?after=-1": 400, "/api/nothing/here": 404,
        }
        for path, status in cases.items():
            answer = http.get(path)
            assert answer.status_code == status, (path, answer.text)
            assert answer.headers["content-type"].startswith("application/json")
            assert answer.json()["error"], path
        wrong = [http.post("/api/jobs/nope/trigger"), http.post("/api/jobs/greet/trigger", content=b"{not json"),
                 http.post("/api/jobs/greet/trigger", json={"at": "yesterday"}), http.put("/api/jobs")]
        assert [a.status_code for a in wrong] == [404, 400, 400, 405]
        assert all(a.json()["error"] for a in wrong)
