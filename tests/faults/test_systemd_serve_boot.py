"""The serve unit under a real systemd as PID 1, beside the daemon's (the container of test_systemd_boot):
with the token from its file it serves the API, metrics and a console from inside its sandbox, read-only,
and the token never reaches the journal."""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

import pytest

from panda_tui.cli.service_unit import SERVE_TOKEN_FILE
from tests.conftest import run_cli
from tests.faults.test_systemd_boot import SOURCE, Container, etc_for, hidden_by_private_tmp, missing
from tests.integration.helpers import wait_until

pytestmark = pytest.mark.slow
SERVICE_UID = 999  # panda, in the container's /etc/passwd

# Run inside the container (its network namespace): what a client on the machine gets from the service.
PROBE = r"""
import asyncio, json, sys, time, urllib.error, urllib.request
import aiohttp

TOKEN, BASE = sys.argv[1], "http://127.0.0.1:8080"

def ask(path, token=None, method="GET"):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(BASE + path, method=method, headers=headers), timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()

async def console():
    seen = b""
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as session:
        async with session.ws_connect(BASE + "/ws?width=100&height=30") as ws:
            async for message in ws:
                if message.type == aiohttp.WSMsgType.BINARY:
                    seen += message.data
                    if b"confined" in seen and b"read-only" in seen:
                        return True
    return False

def newest():
    runs = json.loads(ask("/api/jobs/tick/runs?limit=1", TOKEN)[1])
    return runs[0]["id"] if runs else 0

def later_than(floor, seconds=30):
    deadline = time.monotonic() + seconds
    while (seen := newest()) <= floor and time.monotonic() < deadline:
        time.sleep(0.1)
    return seen

first = later_than(0)  # the daemon may not have run tick yet
# tick runs every second: the daemon's writes are seen, not a frozen copy
print(json.dumps({"fresh": later_than(first) > first, "jobs": ask("/api/jobs", TOKEN), "anonymous": ask("/api/jobs")[0],
                  "trigger": ask("/api/jobs/tick/trigger", TOKEN, "POST")[0], "metrics": ask("/metrics", TOKEN)[0],
                  "console": asyncio.run(asyncio.wait_for(console(), 60))}))
"""


def test_the_serve_unit_under_a_real_systemd_serves_read_only_with_its_token_file(tmp_path):
    if reason := missing():
        pytest.skip(reason)
    etc = etc_for(tmp_path, None)
    unit = run_cli("systemd-unit", "--serve", "--user", "panda")
    assert unit.returncode == 0, unit.stderr
    (etc / "systemd/system/panda-tui-serve.service").write_text(unit.stdout)
    (etc / "systemd/system/multi-user.target.wants/panda-tui-serve.service").symlink_to("../panda-tui-serve.service")
    (etc / "systemd/system/panda-tui-serve.service.d").mkdir()
    (etc / "systemd/system/panda-tui-serve.service.d/test.conf").write_text(
        f"[Service]\nEnvironment=PYTHONPATH={SOURCE}\n{hidden_by_private_tmp()}")
    token = secrets.token_urlsafe(32)
    token_file = etc / Path(SERVE_TOKEN_FILE).relative_to("/etc")
    token_file.write_text(token + "\n")  # as the unit's first lines make it: 600, the service user's
    token_file.chmod(0o600)
    os.chown(token_file, SERVICE_UID, SERVICE_UID)

    container = Container(etc, tmp_path / "nspawn.log")
    try:
        wait_until(lambda: container.show().get("ActiveState") == "active", 60, what="panda-tui active")
        wait_until(lambda: "not shown here" in container.journal("panda-tui-serve"), 60, what="serve listening")
        probe = container.run(sys.executable, "-c", PROBE, token, timeout=120)
        assert probe.returncode == 0, probe.stderr + container.journal("panda-tui-serve")
        seen = json.loads(probe.stdout)
        status, body = seen["jobs"]
        assert status == 200 and {"tick", "long", "confined"} <= {j["job"] for j in json.loads(body)["jobs"]}
        assert seen["fresh"] and seen["anonymous"] == 401 and seen["metrics"] == 200
        assert seen["trigger"] == 403  # read-only: no --allow-control in the unit
        assert seen["console"], container.journal("panda-tui-serve")  # a console process ran in the sandbox

        journal = container.journal("panda-tui-serve")
        assert f"token in {SERVE_TOKEN_FILE} (not shown here)" in journal
        assert token not in journal and token not in container.journal()
        assert container.run("systemctl", "stop", "panda-tui-serve").returncode == 0
        state = container.show("panda-tui-serve")
        assert (state["ActiveState"], state["Result"]) == ("inactive", "success"), state
    finally:
        container.close()
