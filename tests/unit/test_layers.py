"""The domain never imports the UI: each core module, in a fresh interpreter, loads without textual or rich."""

from __future__ import annotations

import subprocess
import sys

import pytest

DOMAIN = ["panda_tui.config", "panda_tui.schedule", "panda_tui.secrets", "panda_tui.health",
          "panda_tui.store.db", "panda_tui.store.runs", "panda_tui.store.logs", "panda_tui.store.control",
          "panda_tui.engine.scheduler", "panda_tui.engine.daemon", "panda_tui.engine.reconcile",
          "panda_tui.runners.local", "panda_tui.runners.docker", "panda_tui.tui.snapshot"]


@pytest.mark.parametrize("module", DOMAIN)
def test_domain_module_does_not_import_textual_or_rich(module):
    code = (f"import sys, {module}; bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')];"
            " print(','.join(bad)); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{module} pulled in: {result.stdout.strip()} {result.stderr[-300:]}"
