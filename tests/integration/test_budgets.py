"""What users feel: each test runs its benchmark once (bench/), shorter, and holds what does not depend on
how busy the machine is (bytes sent, memory, imports, the screen drawn); timings are printed as figures,
never bounded here: a second test suite beside this one must not make it fail. The targets are the
benchmarks' own (README, Performance).

    figure              bound here
    console over a pty  3 KB/s (bytes the console sends for a screen that barely changes)
    launch              the jobs shown (time printed)
    daemon RSS, sample  45 MB, and none of the console's imports
    live tail           every probe line arrives (p95 printed)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow
NOT_IN_THE_DAEMON = {"textual", "rich", "docker", "requests", "httpx", "sqlite_utils", "numpy"}


def bench(name: str, *args: str, timeout: float = 300) -> dict:
    """Run bench/NAME.py and return its final JSON line."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
    result = subprocess.run([sys.executable, str(REPO / "bench" / f"{name}.py"), *args], capture_output=True,
                            text=True, timeout=timeout, cwd=REPO / "bench", env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"\n[figure] {name}: {json.dumps({k: v for k, v in figures.items() if k != 'machine'})}", file=sys.stderr)
    return figures


def test_the_console_sends_little_over_a_pty():
    pytest.importorskip("pyte", reason="pyte reads the screen back: pip install -e '.[test]'")
    figures = bench("console_bytes", "--seconds", "12", "--settle", "4")
    assert figures["screen_sane"], figures.get("screen")
    assert figures["bytes_per_s"] <= 3 * 1024, figures["bytes_by_area_per_s"]


def test_the_console_shows_its_jobs_soon_after_launch():
    pytest.importorskip("pyte", reason="pyte reads the screen back: pip install -e '.[test]'")
    figures = bench("launch", "--launches", "3", "--no-floor")  # each launch waits until the screen shows the job names
    assert figures["embedded_median_s"] > 0 and figures["attached_median_s"] > 0, figures
    print(f"\n[figure] launch: {json.dumps(figures)}", file=sys.stderr)


def test_the_daemon_stays_lean_with_the_sample_jobs():
    figures = bench("daemon_rss", "--seconds", "10", "--cases", "sample")
    assert not NOT_IN_THE_DAEMON & set(figures["sample_imports"].split()), figures["sample_imports"]
    assert figures["sample_rss_mb"] <= 45, figures


def test_a_live_tail_keeps_up(busybox_image):
    figures = bench("tail", "--seconds", "6")
    assert figures["probes"] >= 1, figures
    print(f"\n[figure] tail: {json.dumps(figures)}", file=sys.stderr)
