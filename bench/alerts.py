"""Alerts: what an alert costs where it is decided (inside the ledger's write) and sent.

- decide: the alerter's work for one failed run inside the ledger's write (noise rules, the cheap answer),
  with a log of --lines lines, median of --runs;
- complete: the rest of the answer, read off the loop when it is sent (error lines, what changed);
- apprise: loading Apprise and checking one URL (paid by `validate` and a config with an Apprise target only);
- mail: one alert mailed to a local SMTP server (aiosmtpd on 127.0.0.1) through Apprise, median of 5."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from common import report


def decide(lines: int, runs: int) -> dict:
    from panda_tui.alerts.alerter import Alerter
    from panda_tui.config import load_config
    from panda_tui.store.db import Database
    from panda_tui.store.ledger import Ledger, RunStatus
    folder = Path(tempfile.mkdtemp())
    (folder / "jobs.toml").write_text(textwrap.dedent("""
        [alerts.ops]
        url = "http://127.0.0.1:9/hook"
        [jobs.j]
        schedule = "@daily"
        command = "true"
        alerts = ["ops"]
        repeat_after = "0s"
        """))
    config = load_config(str(folder / "jobs.toml"))
    db = Database(str(folder / "p.db"))
    book = Ledger(db)
    alerter = Alerter(lambda: config, type("C", (), {"now": staticmethod(time.time)})())
    took: list[float] = []

    def timed(change, conn):
        started = time.perf_counter()
        alerter.on_change(change, conn)
        took.append(time.perf_counter() - started)

    book.subscribe_in_transaction(timed)
    for _ in range(runs):
        now = time.time()
        rid = book.insert("j", now, trigger="manual", now=now).id
        book.start(rid, now)
        with db.transaction() as conn:
            conn.executemany("INSERT INTO logs(run_id, seq, ts, stream, text) VALUES (?,?,?,?,?)",
                             [(rid, i + 1, now, "out", f"line {i} all fine") for i in range(lines)])
        took.clear()
        book.finish(rid, RunStatus.FAILED, time.time(), exit_code=1)
    from panda_tui.alerts import answer
    from panda_tui.store import outbox
    payload = outbox.due(db.conn, time.time() + 1)[-1].payload
    started = time.perf_counter()
    answer.complete(db.path, payload)
    return {"decide_failed_run_ms": round(statistics.median(took) * 1000, 2), "log_lines": lines,
            "complete_answer_ms": round((time.perf_counter() - started) * 1000, 1)}


def apprise_check() -> dict:
    code = ("import time; t=time.perf_counter(); from panda_tui.config.channel_check import check_url;"
            "assert check_url('ntfy://127.0.0.1/topic') is None; print(time.perf_counter()-t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return {"apprise_load_and_check_s": round(float(out), 3)}


def mail() -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from panda_tui.alerts import channels
    from tests.integration.smtp_server import Mailbox
    box = Mailbox()
    took = []
    try:
        for i in range(5):
            started = time.perf_counter()
            assert channels.send(box.url(), f"run {i}", "ERROR: disk full", True, 10) is None
            took.append(time.perf_counter() - started)
    finally:
        box.close()
    return {"mail_send_ms": round(statistics.median(took) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    figures = {**decide(args.lines, args.runs), **apprise_check(), **mail()}
    report("alerts", figures, {"decide <= 50 ms": figures["decide_failed_run_ms"] <= 50})


if __name__ == "__main__":
    main()
