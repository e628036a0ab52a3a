from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def write_toml(tmp_path):
    """Write a jobs.toml from a dedented string; returns its path."""

    def write(text: str, name: str = "jobs.toml") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return str(path)

    return write


@pytest.fixture
def db_path(tmp_path) -> str:
    return str(tmp_path / "panda.db")


def run_cli(*args: str, env: dict | None = None, timeout: float = 60, cwd: str | None = None,
            input: str | None = None) -> subprocess.CompletedProcess:
    """Run the real panda-tui command in a subprocess."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "panda_tui", *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=cwd, input=input)


@pytest.fixture
def cli():
    return run_cli
