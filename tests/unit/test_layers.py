"""The arrows hold: the domain never imports the UI, and every import points one way (import-linter)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO

DOMAIN = ["panda_tui.config", "panda_tui.schedule", "panda_tui.secrets", "panda_tui.readmodel.health",
          "panda_tui.readmodel.snapshot", "panda_tui.store.db", "panda_tui.store.ledger", "panda_tui.store.logs",
          "panda_tui.store.control", "panda_tui.engine.wiring", "panda_tui.engine.daemon",
          "panda_tui.engine.foreground", "panda_tui.engine.reconcile", "panda_tui.runners.local",
          "panda_tui.runners.docker", "panda_tui.alerts.delivery",
          "panda_tui.alerts.rules", "panda_tui.alerts.answer", "panda_tui.alerts.acking"]


@pytest.mark.parametrize("module", DOMAIN)
def test_domain_module_does_not_import_textual_or_rich(module):
    code = (f"import sys, {module}; bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')];"
            " print(','.join(bad)); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{module} pulled in: {result.stdout.strip()} {result.stderr[-300:]}"


def test_imports_point_one_way():
    """The layers contract in pyproject.toml: cli → tui → readmodel → engine → {runners, alerts} → store → …"""
    program = shutil.which("lint-imports")
    assert program, "import-linter is part of the test extra: pip install -e '.[test]'"
    result = subprocess.run([program, "--config", str(REPO / "pyproject.toml"), "--no-cache"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
    assert "2 kept, 0 broken" in result.stdout
