"""The unit `panda-tui systemd-unit` prints, checked by systemd's own offline tools: `systemd-analyze verify`
and `systemd-analyze security --offline=true` (with the exposure asserted). Nothing here needs systemd as
PID 1; tests/faults/test_systemd_boot.py boots one."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from panda_tui.cli.service_unit import (DEFAULT_CONFIG, DEFAULT_DB, SERVE_EXPOSURE, SERVE_TOKEN_FILE, STRICT_EXPOSURE,
                                        render, render_serve, token_file_warnings, warnings)
from tests.conftest import REPO, run_cli

ANALYZE = shutil.which("systemd-analyze") or ("/usr/bin/systemd-analyze"
                                              if Path("/usr/bin/systemd-analyze").exists() else None)
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed "
                                   "(apt-get install systemd; .ci/run does)")
REQUIRED = {  # the list, as the strict unit must carry it
    "Type": "notify", "WatchdogSec": "30", "NotifyAccess": "main", "StateDirectory": "panda-tui",
    "ConfigurationDirectory": "panda-tui", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
    "ReadWritePaths": "/var/lib/panda-tui", "ProtectHome": "read-only", "PrivateTmp": "yes",
    "PrivateDevices": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes", "ProtectControlGroups": "yes", "ProtectClock": "yes", "ProtectHostname": "yes",
    "RestrictSUIDSGID": "yes", "LockPersonality": "yes", "RestrictRealtime": "yes", "RestrictNamespaces": "yes",
    "SystemCallArchitectures": "native", "SystemCallFilter": "@system-service", "KillMode": "process",
}

# systemd.exec(5): each of these implies NoNewPrivileges=yes for a service without CAP_SYS_ADMIN (User=)
IMPLY_NO_NEW_PRIVILEGES = {
    "PrivateDevices", "ProtectHostname", "ProtectClock", "ProtectKernelTunables", "ProtectKernelModules",
    "ProtectKernelLogs", "RestrictAddressFamilies", "RestrictNamespaces", "LockPersonality",
    "MemoryDenyWriteExecute", "RestrictRealtime", "RestrictSUIDSGID", "SystemCallFilter",
    "SystemCallArchitectures", "SystemCallLog"}


def printed(tmp_path: Path, *args: str) -> tuple[Path, dict[str, str], str]:
    """Print the unit as a user would, into DIR/panda-tui.service (or panda-tui-serve.service with --serve);
    returns its path, settings and stderr."""
    out = run_cli("systemd-unit", *args)
    assert out.returncode == 0, out.stderr
    path = tmp_path / ("panda-tui-serve.service" if "--serve" in args else "panda-tui.service")
    path.write_text(out.stdout)
    settings = {}
    for line in out.stdout.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings[key] = value
    return path, settings, out.stderr


def exposure(path: Path) -> float:
    out = subprocess.run([ANALYZE, "security", "--offline=true", str(path)], capture_output=True, text=True)
    found = re.search(rf"Overall exposure level for {re.escape(path.name)}: (\d+\.\d)", out.stdout)
    assert found, out.stdout + out.stderr
    return float(found.group(1))


def verify(*paths: Path) -> None:
    out = subprocess.run([ANALYZE, "verify", *map(str, paths)], capture_output=True, text=True)
    complaints = [line for line in (out.stdout + out.stderr).splitlines() if "panda-tui" in line]
    assert out.returncode == 0 and not complaints, out.stdout + out.stderr


@needs_analyze
@pytest.mark.parametrize("user", ["panda", "root"])
def test_the_strict_unit_verifies_and_its_exposure_is_at_most_5(tmp_path, user):
    path, settings, _ = printed(tmp_path, "--user", user)
    verify(path)
    score = exposure(path)
    assert score <= 5.0
    # the figure the unit's comment quotes is the one systemd gives
    assert f"{score:.1f}" == STRICT_EXPOSURE["root" if user == "root" else "user"], score
    assert {key: settings.get(key) for key in REQUIRED} == REQUIRED
    assert settings["ExecStart"].split()[1:] == ["daemon", "--config", DEFAULT_CONFIG, "--db", DEFAULT_DB]
    if user == "root":  # root keeps its capabilities, or it could not read other users' files
        assert "CapabilityBoundingSet" not in settings and "SupplementaryGroups" not in settings
    else:
        assert settings["CapabilityBoundingSet"] == "" and settings["AmbientCapabilities"] == ""
        assert "SupplementaryGroups=docker" in path.read_text()  # set, or commented out without a docker group


@needs_analyze
def test_hardening_levels_relax_in_order_and_all_verify(tmp_path):
    scores = {}
    for level in ("strict", "basic", "none"):
        folder = tmp_path / level
        folder.mkdir()
        path, settings, _ = printed(folder, "--user", "panda", "--hardening", level)
        verify(path)
        scores[level] = exposure(path)
        assert settings["Type"] == "notify" and settings["WatchdogSec"] == "30"
        assert f"Hardening: {level}" in path.read_text()
    assert scores["strict"] < scores["basic"] < scores["none"], scores
    # basic keeps sudo working: none of its settings implies NoNewPrivileges=yes for a user that is not root
    basic = printed(tmp_path, "--user", "panda", "--hardening", "basic")[1]
    assert not IMPLY_NO_NEW_PRIVILEGES & set(basic) and "NoNewPrivileges" not in basic
    assert "ProtectSystem" not in printed(tmp_path, "--hardening", "none")[1]


def test_a_database_elsewhere_is_opened_for_writing_and_a_missing_folder_is_warned_about(tmp_path):
    db = tmp_path / "srv" / "panda.db"
    _, settings, stderr = printed(tmp_path, "--user", "panda", "--db", str(db), "--config", str(tmp_path / "j.toml"))
    assert settings["ReadWritePaths"] == str(db.parent)
    assert settings["ExecStart"].split()[1:] == ["daemon", "--config", str(tmp_path / "j.toml"), "--db", str(db)]
    assert f"{db.parent} does not exist: create it" in stderr
    db.parent.mkdir()
    assert "does not exist" not in printed(tmp_path, "--user", "panda", "--db", str(db))[2]


def test_deploy_holds_the_unit_as_printed():
    expected = render("panda", "panda", DEFAULT_CONFIG, DEFAULT_DB, exe="/usr/local/bin/panda-tui", docker_group=True)
    assert (REPO / "deploy" / "panda-tui.service").read_text() == expected, (
        "deploy/panda-tui.service is stale: regenerate it with render('panda', 'panda', DEFAULT_CONFIG, "
        "DEFAULT_DB, exe='/usr/local/bin/panda-tui', docker_group=True)")


SERVE_REQUIRED = {  # the daemon's strict sandbox, but for what serve does not need: no docker group, no jobs
    **{key: value for key, value in REQUIRED.items()
       if key not in ("Type", "WatchdogSec", "NotifyAccess", "StateDirectory", "ConfigurationDirectory", "KillMode",
                      "ReadWritePaths")},
    "Type": "exec", "KillMode": "mixed", "ReadWritePaths": "-/var/lib/panda-tui", "CapabilityBoundingSet": "",
    "AmbientCapabilities": "", "UMask": "0077", "Restart": "on-failure", "After": "network.target panda-tui.service",
    "Wants": "panda-tui.service", "SyslogIdentifier": "panda-tui-serve",
}


@needs_analyze
@pytest.mark.parametrize("user", ["panda", "root"])
@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_the_serve_unit_verifies_is_strict_and_read_only_with_its_token_in_a_file(tmp_path, user, host):
    path, settings, _ = printed(tmp_path, "--serve", "--user", user, "--host", host)
    verify(path)
    score = exposure(path)
    assert score <= 2.0
    local = host == "127.0.0.1"
    assert f"{score:.1f}" == SERVE_EXPOSURE["root" if user == "root" else "user", "loopback" if local else "any"]
    assert f"exposure {score:.1f} of 10" in path.read_text()  # the figure the unit's comment quotes
    assert {key: settings.get(key) for key in SERVE_REQUIRED} == SERVE_REQUIRED
    assert settings["ExecStart"].split()[1:] == ["serve", "--config", DEFAULT_CONFIG, "--db", DEFAULT_DB, "--host",
                                                  host, "--port", "8080", "--token-file", SERVE_TOKEN_FILE]
    assert (settings.get("IPAddressDeny"), settings.get("IPAddressAllow")) == (("any", "localhost") if local
                                                                              else (None, None))
    assert "SupplementaryGroups" not in settings and "EnvironmentFile" not in settings  # no docker, no secrets
    text = path.read_text()
    assert f"sudo install -m 600 -o {user} -g {user} /dev/null {SERVE_TOKEN_FILE}" in text
    assert "# Read-only:" in text


@needs_analyze
def test_the_serve_unit_may_allow_control_and_verifies_beside_the_daemons(tmp_path):
    daemon, _, _ = printed(tmp_path, "--user", "panda")
    serve, settings, _ = printed(tmp_path, "--serve", "--user", "panda", "--allow-control", "--port", "9090")
    verify(daemon, serve)  # together, as they are installed
    assert settings["ExecStart"].split()[-4:] == ["9090", "--token-file", SERVE_TOKEN_FILE, "--allow-control"]
    assert "# Control allowed:" in serve.read_text() and "http://127.0.0.1:9090/?token=" in serve.read_text()


def test_serve_options_need_serve_and_the_serve_unit_has_one_hardening(tmp_path):
    for args in (["--port", "9000"], ["--host", "::1"], ["--allow-control"]):
        out = run_cli("systemd-unit", *args)
        assert out.returncode == 2 and out.stdout == "" and "add --serve" in out.stderr, out
    out = run_cli("systemd-unit", "--serve", "--hardening", "basic")
    assert out.returncode == 2 and "always strict" in out.stderr, out


def test_a_token_file_the_serve_unit_could_not_use_is_warned_about(tmp_path):
    import getpass
    me = getpass.getuser()
    token = tmp_path / "web-token"
    assert "does not exist yet" in token_file_warnings(me, str(token))[0]
    token.write_text("a-token-of-enough-length-1234\n")
    token.chmod(0o644)
    assert "readable by others (mode 644)" in token_file_warnings(me, str(token))[0]
    token.chmod(0o600)
    assert token_file_warnings(me, str(token)) == []
    other = "nobody" if me != "nobody" else "root"
    assert f"sudo chown {other} {token}" in token_file_warnings(other, str(token))[0]
    _, _, stderr = printed(tmp_path, "--serve", "--user", "panda")  # the real path, as on a machine without it
    if not os.path.exists(SERVE_TOKEN_FILE):
        assert f"{SERVE_TOKEN_FILE} does not exist yet" in stderr


def test_deploy_holds_the_serve_unit_as_printed():
    expected = render_serve("panda", "panda", DEFAULT_CONFIG, DEFAULT_DB, exe="/usr/local/bin/panda-tui")
    assert (REPO / "deploy" / "panda-tui-serve.service").read_text() == expected, (
        "deploy/panda-tui-serve.service is stale: regenerate it with render_serve('panda', 'panda', DEFAULT_CONFIG, "
        "DEFAULT_DB, exe='/usr/local/bin/panda-tui')")


ODD = 'data 100% $HOME "q" \\b'  # a blank, a specifier, a variable, quotes and a backslash


@needs_analyze
def test_paths_with_blanks_percent_dollar_and_quotes_are_quoted_and_escaped_as_systemd_syntax_says(tmp_path):
    folder = tmp_path / ODD
    folder.mkdir()
    db, config = folder / "panda.db", folder / "jobs 100%.toml"
    path, settings, _ = printed(tmp_path, "--user", "panda", "--db", str(db), "--config", str(config))
    verify(path)
    quoted = lambda p: '"' + str(p).replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'  # noqa: E731
    assert settings["ExecStart"].split(" ", 1)[1] == (f"daemon --config {quoted(config).replace('$', '$$')} "
                                                      f"--db {quoted(db).replace('$', '$$')}")
    assert settings["ReadWritePaths"] == quoted(folder)  # one entry, whole ("$" is no variable there)
    serve, serve_settings, _ = printed(tmp_path, "--serve", "--user", "panda", "--db", str(db))
    verify(serve)
    assert serve_settings["ReadWritePaths"] == quoted(f"-{folder}")


def test_a_value_with_a_line_break_is_refused_not_written():
    for args in (["--db", "/srv/a\nExecStartPre=/bin/evil/panda.db"], ["--config", "/etc/x\r.toml"],
                 ["--serve", "--host", "127.0.0.1\nUser=root"], ["--user", "panda\nUser=root"]):
        out = run_cli("systemd-unit", *args)
        assert (out.returncode, out.stdout) == (2, ""), out
        assert "line break, which no systemd unit setting can carry" in out.stderr and "Traceback" not in out.stderr


def test_a_program_or_paths_that_private_tmp_hides_are_warned_about():
    venv = ["/tmp/venv/bin/panda-tui", "/tmp/venv", "/usr/bin/python3.11", "/opt/src"]
    said = warnings("panda", DEFAULT_DB, private_tmp=True, installation=venv)
    assert len(said) == 1 and said[0].startswith("/tmp/venv/bin/panda-tui is under /tmp, which the unit's "
                                                  "PrivateTmp=yes hides from the service")
    assert warnings("panda", DEFAULT_DB, private_tmp=False, installation=venv) == []  # basic, none: /tmp is shared
    out = run_cli("systemd-unit", "--user", "root", "--db", "/tmp/x/panda.db")
    assert "--db /tmp/x/panda.db is under /tmp, which the unit's PrivateTmp=yes replaces" in out.stderr
    relaxed = run_cli("systemd-unit", "--user", "root", "--db", "/tmp/x/panda.db", "--hardening", "basic")
    assert "PrivateTmp" not in relaxed.stderr
