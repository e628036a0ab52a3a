"""The daemon's resident memory with the sample jobs.toml: VmRSS once it has settled (read from /proc), and
which packages it imported (`python -X importtime`). Four cases: the sample as it is (its container job runs
at 02:30, so the engine is only checked), the sample after its container job ran once (the Docker SDK is
then loaded for good), the sample without its container job, and the sample under `python -S` (without this
machine's site hooks, which every Python process here pays for: see the floors).

    python bench/daemon_rss.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import re
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time

from common import IMAGE, ROOT, ensure_image, env, report, rss_mb

WATCH = ("textual", "rich", "docker", "requests", "urllib3", "httpx", "httpcore", "sqlite_utils", "numpy",
         "click", "prometheus_client", "cronsim", "zoneinfo")


def without_containers(toml: str) -> str:
    """The sample without its [jobs.nightly-backup] table (the one container job)."""
    return re.sub(r"\n\[jobs\.nightly-backup\].*?(?=\n\[|\Z)", "\n", toml, flags=re.S)


def measure(toml: str, seconds: float, trigger: str | None = None, no_site: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cfg, db, trace = f"{tmp}/jobs.toml", f"{tmp}/panda.db", f"{tmp}/imports.txt"
        open(cfg, "w").write(toml)
        environ = env()
        python = [sys.executable]
        if no_site:  # the site-packages on the path by hand, so no .pth file runs
            python.append("-S")
            environ["PYTHONPATH"] += ":" + sysconfig.get_paths()["purelib"]
        with open(trace, "w") as err:
            proc = subprocess.Popen([*python, "-X", "importtime", "-m", "panda_tui", "daemon", "--config", cfg,
                                     "--db", db], stdout=subprocess.DEVNULL, stderr=err, env=environ)
            samples = []
            try:
                if trigger:
                    time.sleep(2)
                    subprocess.run([sys.executable, "-m", "panda_tui", "trigger", trigger, "--config", cfg,
                                    "--db", db], capture_output=True, env=env(), timeout=60)
                for _ in range(int(seconds)):
                    time.sleep(1)
                    samples.append(rss_mb(proc.pid))
                peak = rss_mb(proc.pid, "VmHWM")
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
        imported = set()
        for line in open(trace):
            if line.startswith("import time:") and "|" in line:
                imported.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return {"rss_mb": statistics.median(samples[-10:]), "peak_mb": peak,
            "imports": " ".join(sorted(p for p in WATCH if p in imported))}


def floor(*flags: str) -> float:
    out = subprocess.run([sys.executable, *flags, "-c", "print(open('/proc/self/status').read())"],
                         capture_output=True, text=True, check=True).stdout
    return int(next(line for line in out.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--cases", default="sample,sample_after_container,local_only,sample_python_S")
    args = parser.parse_args()
    sample = (ROOT / "jobs.toml").read_text()
    ran = sample.replace('image = "busybox:latest"', f'image = "{IMAGE}"')
    cases = {"sample": lambda: measure(sample, args.seconds),
             "sample_after_container": lambda: ensure_image() or measure(ran, args.seconds, trigger="nightly-backup"),
             "local_only": lambda: measure(without_containers(sample), args.seconds),
             "sample_python_S": lambda: measure(sample, args.seconds, no_site=True)}
    figures: dict = {"seconds": args.seconds, "python_floor_mb": floor(), "python_S_floor_mb": floor("-S")}
    for name in args.cases.split(","):
        case = cases[name]()
        figures.update({f"{name}_rss_mb": case["rss_mb"], f"{name}_peak_mb": case["peak_mb"],
                        f"{name}_imports": case["imports"]})
    imports = set(figures["sample_imports"].split())
    report("daemon_rss", figures, {
        "sample <= 35 MB": figures["sample_rss_mb"] <= 35,
        "no console in the daemon": not {"textual", "rich"} & imports,
        "no docker SDK until a container runs": "docker" not in imports})


if __name__ == "__main__":
    main()
