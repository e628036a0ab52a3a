"""`panda-tui serve`: nothing without the token, on any route; the token is never written anywhere."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import select
import signal
import subprocess
import sys

import aiohttp
import httpx
import pytest

from tests.conftest import run_cli
from tests.integration.helpers import wait_until
from tests.integration.web_server import TOKEN, Served
from tests.jobfiles import job, write_jobs
from tests.procs import spawn

ROUTES = ["/", "/?fontsize=20", "/ws", "/static/js/textual.js", "/static/css/xterm.css", "/assets/device-pixels.js",
          "/api/jobs", "/api/jobs/nightly-report/runs", "/api/runs/1", "/api/runs/1/log", "/api/runs/1/log?follow=1",
          "/metrics", "/no/such/route"]


@pytest.fixture
def served(tmp_path):
    cfg, db = write_jobs(tmp_path, job("nightly-report"))
    server = Served(cfg, db, "--allow-control", "--max-consoles", "1", "--trusted-proxy", "127.0.0.1")
    yield server
    server.stop()


def test_every_route_answers_401_and_nothing_else_without_the_token(served):
    tries = 0
    with httpx.Client(base_url=served.url, follow_redirects=False) as http:
        for path in ROUTES:
            for headers in ({}, {"Authorization": "Bearer not-the-token-at-all"}, {"Authorization": TOKEN},
                            {"Cookie": "panda_session=forged"}):
                tries += 1  # each from another address, as if through a proxy: the failure limit stays out
                answer = http.get(path, headers={**headers, "X-Forwarded-For": f"198.51.100.{tries}"})
                assert answer.status_code == 401, (path, headers, answer.status_code)
                assert "nightly-report" not in answer.text and "xterm" not in answer.text
                assert answer.headers["www-authenticate"].startswith("Bearer")
                assert "access-control-allow-origin" not in answer.headers
            if path.startswith(("/api/", "/metrics")):
                assert "error" in http.get(path).json()
        for path in ("/api/jobs/nightly-report/trigger", "/api/runs/1/kill"):
            assert http.post(path).status_code == 401
        assert http.get("/?token=wrong-token-guess-123").status_code == 401
        assert http.get("/api/jobs?token=" + TOKEN).status_code == 401  # a token in a URL counts on / only


def test_the_websocket_refuses_without_the_token_and_from_a_foreign_page(served):
    async def attempt(headers: dict) -> int:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(served.url.replace("http", "ws") + "/ws", headers=headers):
                    return 101
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status

    async def cookie() -> str:
        async with httpx.AsyncClient(base_url=served.url) as http:
            return (await http.get(f"/?token={TOKEN}")).cookies["panda_session"]

    value = asyncio.run(cookie())
    assert asyncio.run(attempt({})) == 401
    assert asyncio.run(attempt({"Cookie": f"panda_session={value}", "Origin": "http://evil.example"})) == 403
    assert asyncio.run(attempt({"Cookie": f"panda_session={value}", "Origin": "http://localhost:1"})) == 403
    assert served.consoles() == []  # no console was started for any of them


def test_token_in_the_url_becomes_an_http_only_strict_cookie_and_a_clean_url(served):
    with httpx.Client(base_url=served.url, follow_redirects=False) as http:
        entry = http.get(f"/?token={TOKEN}&fontsize=20")
        assert entry.status_code == 303 and entry.headers["location"] == "/?fontsize=20"
        set_cookie = entry.headers["set-cookie"]
        assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie and "Path=/" in set_cookie
        value = entry.cookies["panda_session"]
        assert TOKEN not in value and len(value) >= 32
        page = http.get("/?fontsize=20")  # the client kept the cookie
        assert page.status_code == 200 and "/static/js/textual.js" in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
        assert http.get("/static/js/textual.js").status_code == 200
        assert "devicePixelContentBoxSize" in http.get("/assets/device-pixels.js").text  # the page's own script
        assert http.get("/api/jobs").json()["jobs"][0]["job"] == "nightly-report"  # reads ride on the cookie


def test_a_state_changing_request_on_the_cookie_must_come_from_this_origin(served):
    with httpx.Client(base_url=served.url) as http:
        http.get(f"/?token={TOKEN}")
        trigger = "/api/jobs/nightly-report/trigger"
        assert http.post(trigger, headers={"Origin": "http://evil.example"}).status_code == 403
        assert http.post(trigger).status_code == 403  # no Origin, no Sec-Fetch-Site: not provably ours
        assert "cross-site" in http.post(trigger).json()["error"]
        # from our own page it goes through to the scheduler (none runs here: 503 says so)
        ours = http.post(trigger, headers={"Origin": served.url})
        assert ours.status_code == 503 and "no scheduler" in ours.json()["error"]
        assert http.post(trigger, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 503
    with httpx.Client(base_url=served.url) as http:  # the bearer header needs no origin
        assert http.post(trigger, headers=served.auth).status_code == 503


def test_failed_attempts_are_limited_and_then_refused_unseen(served):
    with httpx.Client(base_url=served.url) as http:
        for _ in range(10):
            assert http.get("/api/jobs", headers={"Authorization": "Bearer wrong-guess-0000000000"}).status_code == 401
        blocked = http.get("/api/jobs", headers=served.auth)  # even the right token is not looked at now
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
        assert "too many failed attempts" in blocked.json()["error"]
        # another client (behind a local reverse proxy) is not blocked by this one's failures
        other = http.get("/api/jobs", headers={**served.auth, "X-Forwarded-For": "203.0.113.7"})
        assert other.status_code == 200


def test_no_cors_for_any_origin(served):
    with httpx.Client(base_url=served.url) as http:
        preflight = http.request("OPTIONS", "/api/jobs", headers={
            "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
        read = http.get("/api/jobs", headers={**served.auth, "Origin": "http://evil.example"})
    assert read.status_code == 200
    for answer in (preflight, read):
        assert not [h for h in answer.headers if h.lower().startswith("access-control-")]


def test_a_generated_token_is_shown_once_on_the_terminal_as_a_ready_url_and_never_logged(tmp_path):
    cfg, db = write_jobs(tmp_path, job("nightly-report"))
    server = Served(cfg, db, token=None, terminal=True)
    try:
        printed = [line for line in server.lines if "?token=" in line]
        assert len(printed) == 1
        url = printed[0].split(": ", 1)[1].strip()
        assert url.startswith(server.url + "/?token=")
        token = url.split("?token=", 1)[1]
        assert len(token) >= 32
        with httpx.Client(base_url=server.url, follow_redirects=True) as http:
            assert http.get(f"/?token={token}").status_code == 200
            assert http.get("/?token=not-it-but-long-enough").status_code == 401
            assert http.get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        wait_until(lambda: server.output().count('"path": "/metrics"') == 1, 10, what="access log")
    finally:
        server.stop()
    assert server.output().count(token) == 1  # the one URL; no access-log line carries the query
    assert token.encode() not in b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())


def test_token_sources_refuse_what_would_be_unsafe(tmp_path):
    cfg, db = write_jobs(tmp_path, job("nightly-report"))
    Served(cfg, db).stop()  # creates the store
    loose = tmp_path / "token"
    loose.write_text("a-token-of-enough-length-1234\n")
    os.chmod(loose, 0o644)
    result = run_cli("serve", "--config", cfg, "--db", db, "--token-file", str(loose), timeout=30)
    assert result.returncode == 2 and "chmod 600" in result.stderr, result.stderr
    short = run_cli("serve", "--config", cfg, "--db", db, env={"PANDA_WEB_TOKEN": "short"}, timeout=30)
    assert short.returncode == 2 and "at least 16" in short.stderr, short.stderr
    os.chmod(loose, 0o600)
    server = Served(cfg, db, "--token-file", str(loose), token=None)
    try:
        assert f"token in {loose} (not shown here)" in server.output() and "?token=a-" not in server.output()
        with httpx.Client(base_url=server.url) as http:
            ok = http.get("/api/jobs", headers={"Authorization": "Bearer a-token-of-enough-length-1234"})
            assert ok.status_code == 200
    finally:
        server.stop()


def test_without_a_terminal_a_new_token_is_never_printed(tmp_path):
    """Under systemd, nohup or a pipe the output is a log: no token is made up to land there."""
    cfg, db = write_jobs(tmp_path, job("nightly-report"))
    Served(cfg, db).stop()  # creates the store
    env = {k: v for k, v in os.environ.items() if k != "PANDA_WEB_TOKEN"}
    refused = subprocess.run([sys.executable, "-m", "panda_tui", "serve", "--config", cfg, "--db", db, "--port", "0"],
                             capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=30)
    assert refused.returncode == 2 and refused.stdout == "", refused
    assert refused.stderr.count("\n") == 1 and "--token-file FILE" in refused.stderr, refused.stderr
    assert "?token=" not in refused.stderr


def test_with_stdout_into_a_log_a_new_token_goes_to_the_terminal_on_stderr(tmp_path):
    cfg, db = write_jobs(tmp_path, job("nightly-report"))
    Served(cfg, db).stop()
    log = tmp_path / "serve.log"
    main, side = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "PANDA_WEB_TOKEN"}
    with open(log, "w") as out:
        proc = spawn([sys.executable, "-m", "panda_tui", "serve", "--config", cfg, "--db", db, "--port",
                                 "0"], stdin=subprocess.DEVNULL, stdout=out, stderr=side, env=env)
    os.close(side)
    screen = b""
    try:
        while b"?token=" not in screen or not screen.endswith(b"\n"):
            ready, _, _ = select.select([main], [], [], 30)
            assert ready and proc.poll() is None, (screen, log.read_text())
            screen += os.read(main, 4096)
        token = screen.split(b"?token=")[1].split()[0].decode()
        url = wait_until(lambda: re.search(r"on (http://127\.0\.0\.1:\d+/)", log.read_text()), 10, what="log").group(1)
        assert httpx.get(url + "api/jobs", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        os.close(main)
    assert token not in log.read_text() and "?token=" not in log.read_text()
