"""What idle log followers cost `panda-tui serve`: 50 Server-Sent-Event streams of a run that prints nothing,
while a job beside it runs every second (so the store keeps changing), for 20 s; serve's CPU share.

    python bench/serve_followers.py [--followers 50] [--seconds 20] [--checkout PATH]   (PATH: to compare)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

from common import ROOT, cpu_seconds, report

TOKEN = "bench-token-0123456789abcdef"
JOBS = ('[jobs.quiet]\nschedule = "@yearly"\ncommand = "sleep 600"\n\n'
        '[jobs.tick]\nschedule = "@every 1s"\ncommand = "echo tick"\n')


def wait_for(cond, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def ask(port: int, method: str, path: str) -> dict:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return json.loads(data.split(b"\r\n\r\n", 1)[1] or b"null")


def follow(port: int, run_id: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"GET /api/runs/{run_id}/log?follow=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                 "\r\n".encode())
    assert b"200 OK" in sock.recv(4096)
    return sock


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--followers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--checkout", default=str(ROOT))
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": args.checkout, "PYTHONUNBUFFERED": "1", "PANDA_WEB_TOKEN": TOKEN}
    with tempfile.TemporaryDirectory() as tmp:
        cfg, db = f"{tmp}/jobs.toml", f"{tmp}/panda.db"
        with open(cfg, "w") as fh:
            fh.write(JOBS)
        panda = [sys.executable, "-m", "panda_tui"]
        daemon = subprocess.Popen([*panda, "daemon", "--config", cfg, "--db", db], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env=env, cwd=args.checkout)
        wait_for(lambda: os.path.exists(db), 20, "the daemon's store")
        serve = subprocess.Popen([*panda, "serve", "--config", cfg, "--db", db, "--port", "0", "--allow-control"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                                 cwd=args.checkout)
        try:
            port = int(re.search(r"127\.0\.0\.1:(\d+)/", serve.stdout.readline()).group(1))
            wait_for(lambda: ask(port, "POST", "/api/jobs/quiet/trigger").get("ok"), 30, "the trigger")
            run_id = wait_for(lambda: ask(port, "GET", "/api/jobs/quiet/runs?limit=1"), 20, "the run")[0]["id"]
            streams = [follow(port, run_id) for _ in range(args.followers)]
            time.sleep(2)  # the streams settle
            before, start = cpu_seconds(serve.pid), time.monotonic()
            time.sleep(args.seconds)
            share = (cpu_seconds(serve.pid) - before) / (time.monotonic() - start)
            for sock in streams:
                sock.close()
        finally:
            serve.terminate()
            daemon.terminate()
            serve.wait(30)
            daemon.wait(30)
    report("serve_followers", {"followers": args.followers, "seconds": args.seconds,
                               "serve_cpu_percent": round(100 * share, 1)},
           {"serve <= 5 % of a core": share <= 0.05})


if __name__ == "__main__":
    main()
