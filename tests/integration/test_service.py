"""Running it for real: init, the systemd unit and its signals, permissions, the Kubernetes export."""

from __future__ import annotations

import configparser
import grp
import os
import shlex
import signal
import stat
import subprocess

import pytest
import yaml

from panda_tui.config import build_config
from panda_tui.export_k8s import cronjobs
from tests.conftest import run_cli
from tests.faults.conftest import events
from tests.integration.helpers import wait_until
from tests.jobfiles import job, write_jobs


def test_init_writes_a_valid_commented_file_and_never_overwrites(tmp_path):
    path = tmp_path / "jobs.toml"
    assert run_cli("init", str(path)).returncode == 0
    text = path.read_text()
    assert text.count("#") > 5 and "image =" in text and 'command = ["df"' in text
    ok = run_cli("validate", "--config", str(path))
    assert ok.returncode == 0 and ok.stdout.startswith("ok: 2 jobs")
    again = run_cli("init", str(path))
    assert again.returncode == 1 and "already exists" in again.stderr and path.read_text() == text


def unit(tmp_path) -> configparser.ConfigParser:
    out = run_cli("systemd-unit", "--config", str(tmp_path / "jobs.toml"), "--db", str(tmp_path / "p.db")).stdout
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read_string(out)
    return parser


def test_the_unit_and_the_daemon_under_its_settings(tmp_path):
    write_jobs(tmp_path, job("tick", "@every 1s"))
    service = unit(tmp_path)["Service"]
    assert service["Restart"] == "on-failure" and service["EnvironmentFile"].endswith("secrets.env")
    assert service["StandardOutput"] == "journal" and service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    argv = shlex.split(service["ExecStart"])
    assert argv[1:] == ["daemon", "--config", str(tmp_path / "jobs.toml"), "--db", str(tmp_path / "p.db")]
    umask = int(service["UMask"], 8)
    log = open(tmp_path / "journal.log", "w")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, preexec_fn=lambda: os.umask(umask),
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    read = lambda: (tmp_path / "journal.log").read_text()  # noqa: E731
    try:
        wait_until(lambda: "lease_acquired" in read(), 20)
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "reloaded" in read(), 10, what="reload on SIGHUP")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = [line for line in read().splitlines() if line.strip()]
    assert all(line.startswith("{") for line in lines)  # JSON lines for the journal
    assert [e["event"] for e in events(read())][-1] == "stopped"
    assert stat.S_IMODE(os.stat(tmp_path / "p.db").st_mode) == 0o600


def test_group_can_read_the_database(tmp_path):
    group = next((g for g in ("adm", "daemon", "users", "nogroup") if _has_group(g)), None)
    if group is None:
        pytest.skip("no spare group on this machine")
    write_jobs(tmp_path, job("a"))
    db = tmp_path / "p.db"
    proc = subprocess.Popen(["python3", "-m", "panda_tui", "daemon", "--group", group, "--config",
                             str(tmp_path / "jobs.toml"), "--db", str(db)], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert f"readable by group {group}" in line
    finally:
        proc.terminate()
        proc.wait(30)
    info = os.stat(db)
    assert stat.S_IMODE(info.st_mode) == 0o640 and info.st_gid == grp.getgrnam(group).gr_gid
    bad = run_cli("daemon", "--group", "no-such-group-here", "--config", str(tmp_path / "jobs.toml"),
                  "--db", str(db))
    assert bad.returncode == 1 and "no such group" in bad.stderr


def _has_group(name: str) -> bool:
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def test_a_database_you_cannot_write_opens_the_console_read_only(tmp_path):
    from panda_tui.cli.console_cmd import decide_mode
    from panda_tui.config import load_config
    from panda_tui.store import connect
    folder = tmp_path / "ro"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        db = folder / "p.db"
        connect(str(db)).close()
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        write_jobs(tmp_path, job("a"))
        mode, reason, embedded = decide_mode(load_config(str(tmp_path / "jobs.toml")), str(db), read_only=False)
        assert (mode, embedded) == ("read-only", None) and reason == f"you can read {db} but not write it"
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_kubernetes_export_field_by_field():
    config = build_config({"jobs": {
        "backup": {"schedule": "30 2 * * *", "timezone": "Europe/Berlin", "image": "reg/backup:2",
                   "command": ["backup", "--all"], "concurrency": "replace", "timeout": "1h30m",
                   "starting_deadline": "5m", "retries": 3, "env": {"LEVEL": "info"}, "secrets": ["DB_URL"],
                   "mem_limit": "512m", "cpus": 0.5},
        "queued": {"schedule": "@hourly", "image": "x", "concurrency": "queue"},
        "local": {"schedule": "@daily", "command": "true"},
        "fast": {"schedule": "@every 30s", "image": "x"},
    }}, "jobs.toml")
    text, warnings = cronjobs(config, paused={"backup"})
    docs = list(yaml.safe_load_all(text))
    assert [d["metadata"]["name"] for d in docs] == ["backup", "queued"]
    spec = docs[0]["spec"]
    assert (docs[0]["apiVersion"], docs[0]["kind"]) == ("batch/v1", "CronJob")
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"]) == ("30 2 * * *", "Europe/Berlin", "Replace")
    assert (spec["startingDeadlineSeconds"], spec["suspend"]) == (300, True)
    job = spec["jobTemplate"]["spec"]
    assert (job["backoffLimit"], job["activeDeadlineSeconds"]) == (3, 5400)
    container = job["template"]["spec"]["containers"][0]
    assert job["template"]["spec"]["restartPolicy"] == "Never"
    assert (container["image"], container["command"]) == ("reg/backup:2", ["backup", "--all"])
    assert container["env"] == [{"name": "LEVEL", "value": "info"},
                                {"name": "DB_URL", "valueFrom": {"secretKeyRef": {"name": "panda-tui-secrets",
                                                                                  "key": "DB_URL"}}}]
    assert container["resources"] == {"limits": {"memory": "512m", "cpu": "0.5"}}
    assert docs[1]["spec"]["concurrencyPolicy"] == "Forbid" and docs[1]["spec"]["schedule"] == "0 * * * *"
    assert warnings == [
        'job "queued": concurrency = "queue" has no CronJob equivalent; exported as Forbid',
        'job "local": a local command (no image) cannot run as a CronJob; skipped',
        'job "fast": schedule \'@every 30s\' has no CronJob equivalent (seconds or @every); skipped']


def test_export_through_the_cli_never_prints_secret_values(tmp_path, monkeypatch):
    monkeypatch.setenv("DB_URL", "postgres://user:hunter2@db/x")
    write_jobs(tmp_path, job("b", image="x", secrets=["DB_URL"]))
    out = run_cli("export", "kubernetes", "--config", str(tmp_path / "jobs.toml"), "--db", str(tmp_path / "p.db"))
    assert out.returncode == 0 and "hunter2" not in out.stdout and "secretKeyRef" in out.stdout
    assert yaml.safe_load(out.stdout.split("---\n", 1)[1])["kind"] == "CronJob"

