"""Secrets never reach the store, the screen, alerts or the decision log: in every form, across line cuts,
after a restart with changed secrets, and through every reload."""

from __future__ import annotations

import base64
import json
import signal
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.conftest import run_cli
from tests.integration.helpers import Bench, Daemon, ledger, wait_until
from tests.jobfiles import job, write_jobs

SECRET = 'Zq9 "tok"\\en/+=PASS-7731'  # quotes, a backslash, a slash, plus, equals and a space
OTHER = "second-value-4471-xyz"
CUT = 64 * 1024  # runners.lines.MAX_LINE

# Each form printed by the job itself (the test never writes an encoded secret anywhere): plain; JSON-escaped
# by sed; base64 at the three alignments by the base64 tool; and a line longer than the cut with the secret
# straddling it, in the middle of the line and as an env dump would print it.
SHELL_FORMS = r"""
printf 'plain %s\n' "$TOKEN"
printf '{"pw": "%s"}\n' "$(printf '%s' "$TOKEN" | sed 's/\\/\\\\/g; s/"/\\"/g')"
printf '%s' "$TOKEN" | base64 | tr -d '\n'; echo
printf 'x%s' "$TOKEN" | base64 | tr -d '\n'; echo
printf 'xy%s' "$TOKEN" | base64 | tr -d '\n'; echo
head -c {pad} /dev/zero | tr '\000' a; printf '%s' "$TOKEN"; head -c 300 /dev/zero | tr '\000' b; echo
echo done
"""
LOCAL_EXTRA = r"""
python3 -c 'import os, urllib.parse as u; t = os.environ["TOKEN"]; print(u.quote(t, safe="")); print(u.quote_plus(t))'
"""


def secrets_file(directory: Path, **values: str) -> str:
    path = directory / "secrets.env"
    path.write_text("".join(f"{k}={json.dumps(v)}\n" for k, v in values.items()))
    path.chmod(0o600)
    return str(path)


def encoded(value: str) -> set[str]:
    """What must not be found: the value's own forms, long enough to be unmistakable."""
    raw = value.encode()
    found = {value, json.dumps(value)[1:-1], quote(value, safe=""), quote_plus(value)}
    for before in range(3):
        rest = raw[(3 - before) % 3:]
        found.add(base64.b64encode(rest[:len(rest) // 3 * 3]).decode())
    return {f for f in found if len(f) >= 12}


def assert_nowhere(db: str, value: str) -> None:
    """Not in any stored row, nor in the raw bytes of the database and its WAL."""
    for suffix in ("", "-wal"):
        path = Path(db + suffix)
        if path.exists():
            data = path.read_bytes()
            for form in encoded(value):
                assert form.encode() not in data, (suffix, form)


@pytest.mark.parametrize("kind", ["local", pytest.param("docker", marks=pytest.mark.docker)])
async def test_every_form_is_masked_even_across_a_cut(tmp_path, kind, request):
    pad = CUT - 6  # the secret starts six bytes before the cut and runs past it
    command = SHELL_FORMS.replace("{pad}", str(pad)) + (LOCAL_EXTRA if kind == "local" else "")
    extra = {}
    if kind == "docker":
        extra = {"image": request.getfixturevalue("busybox_image"), "network_mode": "none", "pull": "never"}
    b = Bench(tmp_path, job("c", command=command, secrets=["TOKEN"], **extra),
              secrets_file(tmp_path, TOKEN=SECRET))
    try:
        run = await b.run("c")
    finally:
        await b.close()
    assert run.status == "succeeded", run.reason
    lines = b.lines(run.id, "out")
    assert lines[-1 if kind == "docker" else -3] == "done"
    assert lines[0] == "plain ***" and lines[1] == '{"pw": "***"}'
    assert all("***" in line for line in lines[2:5])  # base64, at each alignment
    assert sum(line.count("***") for line in lines[5:7]) == 1  # the straddling secret, in its two pieces
    joined = "".join(lines)
    assert all(form not in joined for form in encoded(SECRET))
    if kind == "local":
        assert lines[-2:] == ["***", "***"]  # URL-encoded, %20 and + forms
    assert_nowhere(b.db, SECRET)


@pytest.mark.parametrize("kind", ["local", pytest.param("docker", marks=pytest.mark.docker)])
def test_a_run_adopted_after_a_restart_is_masked_with_the_values_it_started_with(tmp_path, kind, request):
    """The secret is rotated while the scheduler is down; the run still holds the old one and prints it
    after the restart. Masking follows the run's own environment (the process's, or the container's as
    the engine reports it), not today's secrets file."""
    go = tmp_path / "go"
    wait = f"while [ ! -e {go} ]; do sleep 0.05; done" if kind == "local" else "sleep 4"
    extra = {}
    if kind == "docker":
        extra = {"image": request.getfixturevalue("busybox_image"), "network_mode": "none", "pull": "never"}
    cfg, db = write_jobs(tmp_path, job("l", "@yearly", f"echo up; {wait}; printf 'late %s\\n' \"$TOKEN\"",
                                       secrets=["TOKEN"], **extra),
                         '[defaults]\nsecrets_file = "secrets.env"\n')
    secrets_file(tmp_path, TOKEN=SECRET)
    first = Daemon(cfg, db)
    try:
        wait_until(lambda: "lease_acquired" in first.output(), 20)
        assert run_cli("trigger", "l", "--config", cfg, "--db", db).returncode == 0
        wait_until(lambda: ledger(db, "l") and ledger(db, "l")[0].runner_ref, 20, what="run started")
    finally:
        first.kill9()
    secrets_file(tmp_path, TOKEN=OTHER)  # rotated while nobody watched
    go.touch()
    second = Daemon(cfg, db)
    try:
        wait_until(lambda: ledger(db, "l")[0].status == "succeeded", 30, what="the run settled")
    finally:
        assert second.stop() == 0
    out = run_cli("logs", "l", "--config", cfg, "--db", db).stdout
    assert "  late ***" in out.splitlines() and SECRET not in out
    assert_nowhere(db, SECRET)


def test_daemon_secrets_file_survives_every_reload(tmp_path):
    sfile = secrets_file(tmp_path, TOKEN=SECRET)
    cfg, db = write_jobs(tmp_path, job("a", command="printf 'a %s\\n' \"$TOKEN\"", secrets=["TOKEN"]))
    daemon = Daemon(cfg, db, args=["--secrets-file", sfile])
    try:
        wait_until(lambda: "lease_acquired" in daemon.output(), 20)
        for attempt in range(2):
            Path(cfg).write_text(Path(cfg).read_text() + f"\n[jobs.extra{attempt}]\nschedule = \"@daily\"\n"
                                                          "command = \"true\"\n")
            daemon.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: daemon.output().count('"reloaded"') > attempt, 10, what="reload")
            assert run_cli("trigger", "a", "--config", cfg, "--db", db).returncode == 0
            wait_until(lambda: len([r for r in ledger(db, "a") if not r.active]) == attempt + 1, 20)
    finally:
        assert daemon.stop() == 0
    assert [r.status for r in ledger(db, "a")] == ["succeeded", "succeeded"]
    out = run_cli("logs", "a", "--config", cfg, "--db", db).stdout
    assert out.splitlines()[0] == "  a ***"


def test_an_http_error_quoting_a_secret_header_never_carries_its_value(tmp_path, monkeypatch):
    """h11 refuses a header value with a line break and quotes it in its error: the error is masked
    wherever it goes (the outbox, `alerts`, `alerts test`, the decision log)."""
    from tests.integration.http_server import Recorder
    server = Recorder()
    monkeypatch.setenv("ALERT_TOKEN", "tok-8812-secret\rX")
    cfg, db = write_jobs(tmp_path, f'''
        [alerts.ops]
        url = "{server.url}/hook"
        headers = {{ Authorization = "Bearer ${{secret:ALERT_TOKEN}}" }}
        on = ["failed"]
        ''', job("bad", "@every 2s", "exit 3", alerts=["ops"]))
    try:
        tested = run_cli("alerts", "test", "ops", "--config", cfg, "--db", db)
        assert tested.returncode == 1 and "Illegal header value" in tested.stderr
        assert "tok-8812-secret" not in tested.stderr + tested.stdout
        daemon = Daemon(cfg, db)
        try:
            wait_until(lambda: '"alert"' in daemon.output(), 30, what="a delivery attempt")
        finally:
            daemon.stop()
        listed = run_cli("alerts", "--config", cfg, "--db", db)
        assert "Illegal header value" in listed.stdout and "tok-8812-secret" not in listed.stdout
        assert "tok-8812-secret" not in daemon.output()
        assert_nowhere(db, "tok-8812-secret")
    finally:
        server.close()
