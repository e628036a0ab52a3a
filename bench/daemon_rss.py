"""The daemon's resident memory with the sample jobs.toml: VmRSS once it has settled (read from /proc), with
the sample's container job and without it, and which packages it imported (`python -X importtime`).

    python bench/daemon_rss.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from common import ROOT, env, report, rss_mb

WATCH = ("textual", "rich", "docker", "requests", "urllib3", "httpx", "httpcore", "sqlite_utils", "click",
         "prometheus_client", "cronsim", "zoneinfo")


def without_containers(toml: str) -> str:
    """The sample without its [jobs.nightly-backup] table (the one container job)."""
    return re.sub(r"\n\[jobs\.nightly-backup\].*?(?=\n\[|\Z)", "\n", toml, flags=re.S)


def measure(toml: str, seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cfg, db, trace = f"{tmp}/jobs.toml", f"{tmp}/panda.db", f"{tmp}/imports.txt"
        open(cfg, "w").write(toml)
        with open(trace, "w") as err:
            proc = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "panda_tui", "daemon",
                                     "--config", cfg, "--db", db], stdout=subprocess.DEVNULL, stderr=err,
                                    env=env())
            samples = []
            try:
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
            "imports": sorted(p for p in WATCH if p in imported)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    sample = (ROOT / "jobs.toml").read_text()
    with_docker = measure(sample, args.seconds)
    local_only = measure(without_containers(sample), args.seconds)
    figures = {"seconds": args.seconds,
               "sample_rss_mb": with_docker["rss_mb"], "sample_peak_mb": with_docker["peak_mb"],
               "sample_imports": " ".join(with_docker["imports"]),
               "local_only_rss_mb": local_only["rss_mb"], "local_only_peak_mb": local_only["peak_mb"],
               "local_only_imports": " ".join(local_only["imports"])}
    report("daemon_rss", figures, {
        "sample <= 35 MB": figures["sample_rss_mb"] <= 35,
        "no console in the daemon": not {"textual", "rich"} & set(with_docker["imports"]),
        "no docker SDK without containers": "docker" not in local_only["imports"]})


if __name__ == "__main__":
    main()
