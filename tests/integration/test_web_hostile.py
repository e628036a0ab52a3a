"""`panda-tui serve` against what a hostile or careless client sends: ids past 64 bits, odd Last-Event-IDs,
forged X-Forwarded-For, descriptors held open by the thousand, tokens in URLs, odd token files, and idle
followers by the dozen. Real server processes, real sockets."""

from __future__ import annotations

import os
import resource
import socket
import sys
import time

import httpx
import pytest

from tests.conftest import run_cli
from tests.faults.conftest import submit
from tests.integration.helpers import Daemon, wait_until
from tests.integration.web_server import TOKEN, Served
from tests.jobfiles import QUICK_STOP, job, write_jobs

BIG = str(1 << 64)


def raw(port: int, request: bytes, timeout: float = 5) -> bytes:
    """What the server sends back on one connection, as bytes (status lines counted by the caller)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except socket.timeout:
            pass
    return data


def get(path: str, *headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {TOKEN}", "Connection: close",
             *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A daemon with a run that prints one line and then stays quiet, and serve (control allowed) beside it;
    shared by the tests that only read, or are refused."""
    daemon = Daemon(*write_jobs(tmp_path_factory.mktemp("live"), job("quiet", command="echo first; sleep 600", kill_grace="1s"),
                                job("tick", "@every 1s"), QUICK_STOP))
    wait_until(lambda: "lease_acquired" in daemon.output(), 20, what="daemon start")
    submit(daemon.db, "trigger", "quiet")
    server = Served(daemon.cfg, daemon.db, "--allow-control")
    with httpx.Client(base_url=server.url, headers=server.auth, timeout=30) as http:
        run = wait_until(lambda: http.get("/api/jobs/quiet/runs?limit=1").json(), 20, what="the quiet run")[0]
        wait_until(lambda: http.get(f"/api/runs/{run['id']}/log").json()["lines"], 20, what="its first line")
    yield server, run["id"], daemon
    server.stop()
    daemon.stop()


def test_a_run_id_past_64_bits_is_no_run(live):
    server, _, _ = live
    with httpx.Client(base_url=server.url, headers=server.auth, timeout=30) as http:
        for path in (f"/api/runs/{BIG}", f"/api/runs/{BIG}/log", f"/api/runs/{BIG}/log?follow=1",
                     f"/api/runs/{'9' * 5000}"):
            answer = http.get(path)
            assert answer.status_code == 404 and answer.json()["error"].startswith("no run"), (path, answer.text)
        assert http.post(f"/api/runs/{BIG}/kill").status_code == 404


def test_a_huge_or_odd_last_event_id_is_refused_before_the_stream_and_a_good_one_resumes(live):
    server, run_id, _ = live
    for value in ("9" * 5000, BIG, "²", "١٢", "-1", "1 2"):
        answer = raw(server.port, get(f"/api/runs/{run_id}/log?follow=1", f"Last-Event-ID: {value}"))
        assert answer.count(b"HTTP/1.1 ") == 1 and answer.startswith(b"HTTP/1.1 400 "), (value, answer[:300])
        assert b"Last-Event-ID" in answer
    huge = raw(server.port, get(f"/api/runs/{run_id}/log?follow=1", "Last-Event-ID: " + "7" * 100_000))
    assert huge.count(b"HTTP/1.") == 1 and b" 400 " in huge.split(b"\r\n")[0]  # the parser's own refusal
    with httpx.Client(base_url=server.url, headers=server.auth, timeout=30) as http:
        with http.stream("GET", f"/api/runs/{run_id}/log?follow=1", headers={"Last-Event-ID": "0"}) as stream:
            assert stream.status_code == 200
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    assert '"text": "first"' in line
                    break
    assert server.proc.poll() is None


@pytest.mark.parametrize("at", ["1e300", "NaN", "Infinity", "-1e300", "-1", "253402300800", "1" + "0" * 400,
                                '"1969-12-31T23:59:59Z"', '"0001-01-01T00:00:00+00:00"',
                                '"9999-12-31T23:59:59-01:00"', '"1e300"', "true", "[1]"])
def test_a_trigger_at_no_calendar_holds_is_refused_at_the_edge_and_the_scheduler_lives(live, at):
    server, _, daemon = live
    answer = httpx.post(f"{server.url}/api/jobs/quiet/trigger", content='{"at": %s}' % at, timeout=30,
                        headers={**server.auth, "Content-Type": "application/json"})
    assert answer.status_code == 400, (at, answer.text)
    assert answer.json()["error"].startswith("at: ") and "\n" not in answer.json()["error"]
    assert daemon.proc.poll() is None


def test_the_cli_refuses_a_trigger_time_before_1970_or_past_9999(tmp_path):
    cfg, db = write_jobs(tmp_path, job("j"))
    assert run_cli("run", "j", "--config", cfg, "--db", db).returncode == 0  # the store exists
    for at in ("1969-12-31T23:59:59Z", "0001-01-01T00:00:00", "9999-12-31T23:59:59-01:00", "1e300", "nan"):
        out = run_cli("trigger", "j", "--at", at, "--config", cfg, "--db", db)
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, (at, out.stderr)
        assert out.stderr.startswith("error: --")


def test_forwarded_headers_count_only_from_a_configured_proxy(tmp_path):
    cfg, db = write_jobs(tmp_path, job("j"))
    refused = run_cli("serve", "--config", cfg, "--db", db, "--trusted-proxy", "not-an-address")
    assert refused.returncode == 2 and "--trusted-proxy not-an-address: expected an IP address" in refused.stderr
    server = Served(cfg, db, "--trusted-proxy", "10.9.9.9")  # a proxy, but not the one this client is
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for n in range(10):  # each claims another address: all are counted against 127.0.0.1
                forged = {"Authorization": "Bearer wrong-guess-0123456789", "X-Forwarded-For": f"203.0.113.{n}"}
                assert http.get("/api/jobs", headers=forged).status_code == 401
            locked = http.get("/api/jobs", headers={**server.auth, "X-Forwarded-For": "203.0.113.77"})
            assert locked.status_code == 429 and "127.0.0.1" in locked.json()["error"]
        server.stop()
        assert '"client": "203.0.113' not in server.output()
    finally:
        server.stop()


def test_a_token_in_a_url_never_reaches_the_logs_even_in_a_bad_request(tmp_path):
    cfg, db = write_jobs(tmp_path, job("j"))
    server = Served(cfg, db)
    secret = "SeCrEtToKeN0123456789"
    try:
        # each closes its connection: the answer is read to its end, not to the 5 s read timeout
        for request in (f"GET /?token={secret}\x01 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                        f"GET /?token={secret} HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n",
                        f"GET /?token={secret} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nBad Header\r\n\r\n",
                        f"GET /?token={secret} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: x\r\n\r\n",
                        f"GET /%3Ftoken%3D{secret} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                        f"GET /api/jobs?token={secret} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                        f"GET /?token={secret} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"):
            assert raw(server.port, request.encode()).startswith(b"HTTP/1.")
    finally:
        server.stop()
    output = server.output()
    assert secret not in output and "Traceback" not in output, output
    assert output.count('"event": "http"') >= 5  # the requests were logged, masked


def test_a_token_file_that_is_a_fifo_or_huge_is_refused_at_once(tmp_path):
    cfg, db = write_jobs(tmp_path, job("j"))
    run_cli("run", "j", "--config", cfg, "--db", db)
    fifo, huge = tmp_path / "fifo", tmp_path / "huge"
    os.mkfifo(fifo, 0o600)
    with open(huge, "wb") as fh:
        fh.truncate(256 << 20)  # sparse: 256 MiB that costs no disk
    huge.chmod(0o600)
    for path, said in ((fifo, "named pipe (FIFO), expected a regular file"), (huge, "256.0 MiB, more than")):
        out = run_cli("serve", "--config", cfg, "--db", db, "--port", "0", "--token-file", str(path), timeout=30)
        assert out.returncode == 2 and said in out.stderr, out.stderr


def _descriptors_for(count: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < count:
        pytest.skip(f"this process may open at most {hard} descriptors; the test needs {count}")
    if soft != resource.RLIM_INFINITY and soft < count:
        resource.setrlimit(resource.RLIMIT_NOFILE, (count, hard))


@pytest.mark.parametrize("limits", ["soft 1024", "soft and hard 1024"])
def test_1100_half_open_connections_do_not_starve_the_token_holder(tmp_path, limits):
    _descriptors_for(1400)
    hard = 1024 if limits == "soft and hard 1024" else resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    cfg, db = write_jobs(tmp_path, job("j"))
    launcher = f"import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_NOFILE, (1024, {hard}))"
    server = Served(cfg, db, python=[sys.executable, "-c", launcher + "; sys.argv[0] = 'panda-tui'; "
                                     "runpy.run_module('panda_tui', run_name='__main__')"])
    hogs: list[socket.socket] = []
    try:
        for n in range(1100):  # half of them start a request and never finish its headers
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", server.port))
            hogs.append(sock)
            if n % 2:
                time.sleep(0.001)
        for n, sock in enumerate(hogs):
            if n % 2:
                try:
                    sock.send(b"GET /api/jobs HTTP/1.1\r\nHost: x\r\n")
                except OSError:
                    pass
        started = time.monotonic()
        with httpx.Client(base_url=server.url, headers=server.auth, timeout=60) as http:
            answer = http.get("/api/jobs")
        assert answer.status_code == 200, answer.text
        assert time.monotonic() - started < 60
        assert server.proc.poll() is None
    finally:
        for sock in hogs:
            sock.close()
        server.stop()


def test_fifty_idle_followers_cost_serve_next_to_nothing(live):
    """A loose bound (CPU seconds, not wall time, so it holds beside another suite): 50 followers polling one
    by one took 47 % of a core; woken by one watcher of the store they take well under 5 %."""
    server, run_id, _ = live
    streams = []
    try:
        for _ in range(50):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(get(f"/api/runs/{run_id}/log?follow=1").replace(b"Connection: close", b"X-Idle: 1"))
            assert b"200 OK" in sock.recv(4096)
            streams.append(sock)
        time.sleep(1)
        before, start = _cpu(server.proc.pid), time.monotonic()
        wait_until(lambda: time.monotonic() - start > 10, 30, what="ten seconds")  # tick changes the store meanwhile
        share = (_cpu(server.proc.pid) - before) / (time.monotonic() - start)
        assert share < 0.15, f"serve used {share:.0%} of a core with 50 idle followers"
    finally:
        for sock in streams:
            sock.close()


def _cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_trusted_proxy_names_its_clients_and_their_https(tmp_path):
    cfg, db = write_jobs(tmp_path, job("j"))
    server = Served(cfg, db, "--trusted-proxy", "127.0.0.1")
    try:
        entered = httpx.get(f"{server.url}/?token={TOKEN}", timeout=30, follow_redirects=False,
                            headers={"X-Forwarded-For": "198.51.100.7, 192.0.2.9", "X-Forwarded-Proto": "https"})
        assert entered.status_code == 303 and "Secure" in entered.headers["set-cookie"]
        server.stop()
        assert '"client": "192.0.2.9"' in server.output()  # the last address the trusted proxy saw
    finally:
        server.stop()
    plain = Served(cfg, db)
    try:  # no proxy configured: X-Forwarded-Proto says nothing either
        entered = httpx.get(f"{plain.url}/?token={TOKEN}", timeout=30, follow_redirects=False,
                            headers={"X-Forwarded-Proto": "https"})
        assert "Secure" not in entered.headers["set-cookie"]
    finally:
        plain.stop()
