"""The unit `panda-tui systemd-unit` prints, checked by systemd's own offline tools: `systemd-analyze verify`
and `systemd-analyze security --offline=true` (with the exposure asserted). Nothing here needs systemd as
PID 1; tests/faults/test_systemd_boot.py boots one."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from panda_tui.cli.service_unit import DEFAULT_CONFIG, DEFAULT_DB, STRICT_EXPOSURE, render
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
    """Print the unit as a user would, into DIR/panda-tui.service; returns its path, settings and stderr."""
    out = run_cli("systemd-unit", *args)
    assert out.returncode == 0, out.stderr
    path = tmp_path / "panda-tui.service"
    path.write_text(out.stdout)
    settings = {}
    for line in out.stdout.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings[key] = value
    return path, settings, out.stderr


def exposure(path: Path) -> float:
    out = subprocess.run([ANALYZE, "security", "--offline=true", str(path)], capture_output=True, text=True)
    found = re.search(r"Overall exposure level for panda-tui\.service: (\d+\.\d)", out.stdout)
    assert found, out.stdout + out.stderr
    return float(found.group(1))


def verify(path: Path) -> None:
    out = subprocess.run([ANALYZE, "verify", str(path)], capture_output=True, text=True)
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
