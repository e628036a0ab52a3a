"""`panda-tui import crontab` on large and hostile crontabs: wall time and peak memory of the real command.

Cases: 100,000 entry lines (distinct scripts, and one script with different arguments: more than a jobs.toml
may hold, so refused with exit 2), the 10,000 a jobs.toml may hold (imported, exit 0), 10,000 entries among
90,000 comment lines, and single 1 MiB lines of the shapes that were slow (one word, `${` repeated,
assignments, slashes). Zone Europe/Berlin, so the daylight-saving check runs for every fixed-time line.

    python bench/import_crontab.py [--cases a,b] [--checkout PATH] [--timeout S]   (PATH: another checkout)
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

from common import ROOT, report

MIB = 1 << 20


def entries(count: int, one_script: bool) -> str:
    if one_script:
        return "".join(f"{i % 60} {i % 24} * * * /usr/local/bin/backup.sh --target host{i} --level {i % 7}\n"
                       for i in range(count))
    return "".join(f"{i % 60} {i % 24} * * * /usr/local/bin/script{i}.sh --flag\n" for i in range(count))


CASES = {
    "lines_100k_distinct": (lambda: entries(100_000, False), 2),
    "lines_100k_one_script": (lambda: entries(100_000, True), 2),
    "jobs_10k_distinct": (lambda: entries(10_000, False), 0),
    "jobs_10k_one_script": (lambda: entries(10_000, True), 0),
    "lines_100k_10k_jobs": (lambda: "".join(f"# note {i}\n" for i in range(90_000)) + entries(10_000, True), 0),
    "line_1mib_word": (lambda: "0 3 * * * " + "a" * MIB + "\n", 0),
    "line_1mib_expansion": (lambda: "0 3 * * * " + "${a " * (MIB // 4) + "\n", 0),
    "line_1mib_assignments": (lambda: "0 3 * * * " + "A=1 " * (MIB // 4) + "\n", 0),
    "line_1mib_slashes": (lambda: "0 3 * * * /" + "/" * MIB + "\n", 0),
}


def measure(text: str, checkout: str, timeout: float) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit code) of one import of `text`; killed after `timeout` (exit -9)."""
    with tempfile.NamedTemporaryFile("w", suffix=".cron", delete=False) as fh:
        fh.write(text)
    env = {**os.environ, "PYTHONPATH": checkout}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "panda_tui", "import", "crontab", "--timezone",
                             "Europe/Berlin", fh.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env, cwd=checkout)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)  # reaped here, for its peak memory
        if pid:
            break
        if time.perf_counter() - start > timeout:
            os.kill(proc.pid, 9)
        time.sleep(0.01)
    proc.returncode = 0  # already reaped
    seconds = time.perf_counter() - start
    os.unlink(fh.name)
    return seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--checkout", default=str(ROOT))
    parser.add_argument("--timeout", type=float, default=120, help="seconds before a case is given up")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    figures: dict = {}
    ok = True
    for name in args.cases.split(","):
        make, expected = CASES[name]
        seconds, peak, code = measure(make(), args.checkout, args.timeout)
        figures[f"{name}_s"] = round(seconds, 2)
        figures[f"{name}_peak_mb"] = round(peak, 1)
        figures[f"{name}_exit"] = code
        ok &= code == expected
    times = [v for k, v in figures.items() if k.endswith("_s")]
    peaks = [v for k, v in figures.items() if k.endswith("_peak_mb")]
    report("import_crontab", figures, {
        "every case <= 10 s": max(times) <= 10,
        "peak memory <= 200 MB": max(peaks) <= 200,
        "exit codes as expected": ok})


if __name__ == "__main__":
    main()
