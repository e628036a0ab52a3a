"""mypy passes on the whole package, with the strict flags on the core (engine, store, runners), as
configured in pyproject.toml. Its cache lives in .mypy_cache of the checkout: a warm run costs ~1 s of
CPU, a cold one ~15-25 s (measured with /usr/bin/time on the 139-162 files)."""

from __future__ import annotations

import tomllib

import pytest

from tests.conftest import REPO

api = pytest.importorskip("mypy.api", reason="mypy is not installed (it is in the test extra)")

CORE = ["panda_tui.engine.*", "panda_tui.store.*", "panda_tui.runners.*"]


def test_the_core_is_configured_strict():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mypy"]
    strict = [o for o in config["overrides"] if sorted(o["module"]) == sorted(CORE)]
    assert strict and strict[0]["disallow_untyped_defs"] and strict[0]["disallow_any_generics"]


@pytest.mark.slow  # 15 s of CPU on a cold cache (a fresh clone's): 30-80 s beside other work
def test_mypy_finds_no_error():
    out, err, status = api.run(["--config-file", str(REPO / "pyproject.toml"),
                                "--cache-dir", str(REPO / ".mypy_cache"), str(REPO / "panda_tui")])
    assert status == 0, out[-4000:] + err[-1000:]
    assert "Success: no issues found" in out
