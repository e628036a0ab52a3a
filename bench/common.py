"""Shared by the benchmarks: figures, percentiles, the machine, and the final JSON line."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
IMAGE = "panda-test-busybox:latest"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return f"{os.cpu_count()} cores, {mem:.0f} GiB, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def report(name: str, figures: dict, targets: dict[str, bool]) -> None:
    """Print the figures as a table, then one line of JSON (for comparing versions)."""
    print(f"\n{name} — {machine()}")
    for key, value in figures.items():
        print(f"  {key:34} {value:.4g}" if isinstance(value, float) else f"  {key:34} {value}")
    for what, ok in targets.items():
        print(f"  target {what:27} {'met' if ok else 'MISSED'}")
    print(json.dumps({"bench": name, "machine": machine(), **figures,
                      "targets": {k: bool(v) for k, v in targets.items()}}))


def ensure_image() -> None:
    """The busybox test image, built locally FROM scratch (never pulled)."""
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode == 0:
        return
    with tempfile.TemporaryDirectory() as ctx:
        shutil.copy(shutil.which("busybox") or "/bin/busybox", f"{ctx}/busybox")
        Path(ctx, "Dockerfile").write_text(
            'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n')
        subprocess.run(["docker", "build", "-q", "-t", IMAGE, ctx], check=True, capture_output=True)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory now (VmRSS) or at its peak (VmHWM), in MB."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb(pid: int) -> float:
    return rss_mb(pid, "VmHWM")


def env() -> dict:
    """The environment for a panda-tui process: this checkout's code, whatever is installed."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}


def daemon(cfg: str, db: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "panda_tui", "daemon", "--config", cfg, "--db", db],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env())


def big_ledger(db: str, cfg: str, total_runs: int, jobs: int = 100):
    """A jobs.toml of `jobs` jobs every 5 minutes and `total_runs` runs of them, interleaved, oldest first: 1 in
    20 failed, 1 in 200 missed, durations 0.05 s to 2 h. Returns the store's connection inside an open
    transaction, for the caller's own rows and COMMIT."""
    import time

    from panda_tui.store import connect
    with open(cfg, "w") as fh:
        for j in range(jobs):
            fh.write(f'[jobs.job-{j:03d}]\nschedule = "*/5 * * * *"\ncommand = "true"\n')
    conn = connect(db)
    per_job = total_runs // jobs
    now = time.time()
    conn.execute("BEGIN")
    conn.execute(f"""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {per_job * jobs - 1})
        INSERT INTO runs(job, scheduled_at, attempt, trigger, status, queued_at, started_at, finished_at,
                         duration_s, exit_code, reason, runner)
        SELECT printf('job-%03d', i % {jobs}), {now} - ({per_job} - i / {jobs}) * 300.0, 1, 'schedule',
               CASE WHEN i % 200 = 7 THEN 'missed' WHEN i % 20 = 3 THEN 'failed' ELSE 'succeeded' END,
               {now} - ({per_job} - i / {jobs}) * 300.0,
               CASE WHEN i % 200 = 7 THEN NULL ELSE {now} - ({per_job} - i / {jobs}) * 300.0 + 0.002 END,
               {now} - ({per_job} - i / {jobs}) * 300.0 + 5,
               CASE WHEN i % 200 = 7 THEN NULL ELSE 0.05 * (1 + (i * 7919) % 144000) END,
               CASE WHEN i % 20 = 3 THEN 1 ELSE 0 END, CASE WHEN i % 20 = 3 THEN 'exit 1' END, 'local'
        FROM n""")
    return conn
