"""The arrows hold: the domain never imports the UI, and every import points one way (import-linter).

import-linter runs from this interpreter (its API, not a `lint-imports` found on PATH), so a missing
import-linter fails the test instead of skipping it; and a copy of the package with one forbidden import per
contract proves that every contract can break."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO

DOMAIN = ["panda_tui.config", "panda_tui.schedule", "panda_tui.secrets", "panda_tui.readmodel.health",
          "panda_tui.readmodel.snapshot", "panda_tui.store.db", "panda_tui.store.ledger", "panda_tui.store.logs",
          "panda_tui.store.control", "panda_tui.engine.wiring", "panda_tui.engine.daemon",
          "panda_tui.engine.foreground", "panda_tui.engine.reconcile", "panda_tui.runners.local",
          "panda_tui.runners.docker", "panda_tui.alerts.delivery",
          "panda_tui.alerts.rules", "panda_tui.alerts.answer", "panda_tui.store.acking"]

# one module per contract, each with an import that contract forbids (file in the package copy -> its text)
UPWARD = {
    "store/upward.py": "import panda_tui.tui.app\n",  # the layers: the store sits below the console
    "web/upward.py": "import panda_tui.tui.app\n",  # the web server runs the console as a subprocess
    "readmodel/upward.py": "import panda_tui.engine.events\n",  # the read side reads, the engine writes
    "config/upward.py": "import rich\n",  # the domain knows no terminal library
    "runners/upward.py": "import panda_tui.engine.events\n",  # runners never call back into the engine
    "alerts/circle_a.py": "import panda_tui.alerts.circle_b\n",  # no circles between siblings
    "alerts/circle_b.py": "import panda_tui.alerts.circle_a\n",
}


def contract_count() -> int:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    return len(config["tool"]["importlinter"]["contracts"])


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter on the package under `root`, with this interpreter; its summary line is in stdout."""
    try:
        import importlinter  # noqa: F401
    except ImportError:
        pytest.fail("import-linter is part of the test extra: pip install -e '.[test]'")
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run([sys.executable, "-c", code, "--config", str(root / "pyproject.toml"), "--no-cache"],
                          cwd=root, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
                          capture_output=True, text=True)


@pytest.mark.parametrize("module", DOMAIN)
def test_domain_module_does_not_import_textual_or_rich(module):
    code = (f"import sys, {module}; bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')];"
            " print(','.join(bad)); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{module} pulled in: {result.stdout.strip()} {result.stderr[-300:]}"


def test_every_contract_is_kept():
    """cli → tui → readmodel → engine → {runners, alerts} → store → …; the read side never imports the write
    side; the domain imports no terminal library; no circles."""
    count = contract_count()
    assert count >= 6
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
    assert f"{count} kept, 0 broken" in result.stdout


def test_a_forbidden_import_breaks_its_contract(tmp_path):
    """A copy of the package with one forbidden import per contract: every contract reports it broken."""
    shutil.copytree(REPO / "panda_tui", tmp_path / "panda_tui",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    for name, text in UPWARD.items():
        (tmp_path / "panda_tui" / name).write_text(text)
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout[-3000:]
    assert f"0 kept, {contract_count()} broken" in result.stdout, result.stdout[-3000:] + result.stderr[-1000:]
