"""The 3 AM drill of issue 21: a store where a daemon ran the demo jobs plus `etl`, whose last run failed
with its error at line 3,000 of 10,000 (Python logging, all on stderr), a slot was missed, and the daemon
died 4 minutes ago. Then open the console on it at 80x24 and answer: which jobs are broken, each one's error
line, when each last succeeded, is the scheduler alive, why was a slot missed.

    python scripts/drill.py /tmp/drill      # prints the command that opens the console
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from panda_tui.store import lease, logs  # noqa: E402
from panda_tui.store.db import Database  # noqa: E402
from panda_tui.store.ledger import Ledger, RunStatus  # noqa: E402
from panda_tui.tui.demo import JOBS_TOML, fill  # noqa: E402

ETL = {"schedule": "0 * * * *", "command": "python etl.py"}


def toml(jobs: dict) -> str:
    out = []
    for name, job in jobs.items():
        out.append(f"[jobs.{name}]")
        out += [f"{key} = {json.dumps(value)}" for key, value in job.items()]
        out.append("")
    return "\n".join(out)


def etl_runs(db_path: str, now: float) -> None:
    db = Database(db_path)
    writer = logs.LogWriter(db_path, lock=db.lock)
    try:
        book = Ledger(db)
        for hour in range(6, 0, -1):
            slot = now - hour * 3600
            run = book.insert("etl", slot, trigger="schedule", now=slot)
            book.start(run.id, slot + 0.01)
            sink = logs.RunLog(writer, run.id)
            failing = hour == 1
            for n in range(1, 10_001 if failing else 201):
                level, text = "INFO", f"loaded batch {n} (512 rows)"
                if failing and n == 3000:
                    level, text = "ERROR", "upsert failed: duplicate key value violates unique constraint \"orders_pkey\""
                sink.line("err", f"2026-12-02 03:{n % 60:02d}:00,000 {level} etl.load: {text}", slot + n * 0.01)
            sink.close()
            book.finish(run.id, RunStatus.FAILED if failing else RunStatus.SUCCEEDED, slot + 120,
                        exit_code=1 if failing else 0, reason="exit 1" if failing else None)
    finally:
        writer.close()
        db.close()


def main(folder: str) -> None:
    where = Path(folder)
    where.mkdir(parents=True, exist_ok=True)
    db = where / "panda.db"
    for old in where.glob("panda.db*"):
        old.unlink()
    now = time.time()
    jobs = dict(JOBS_TOML["jobs"], etl=ETL)
    (where / "jobs.toml").write_text(toml(jobs))
    fill(str(db), now)
    etl_runs(str(db), now)
    database = Database(str(db))
    try:
        with database.transaction() as conn:  # the daemon died 4 minutes ago
            lease.record(conn, "server1:4242:0:daemon", now - 86400, now - 240, 10.0)
    finally:
        database.close()
    print(f"cd {where} && panda-tui --config jobs.toml --db panda.db")


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", default="/tmp/panda-drill", help="where to build it (default: %(default)s)")
    main(parser.parse_args().folder)
