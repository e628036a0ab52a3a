"""Search over the whole run of a 1,000,000-line log, as the console's log pane does it: `/` reads the run
a stretch at a time (log_queries.match_chunks) and, at the first match, loads the window around it
(log_window.load): that is the time to the first match shown (or, with none, to "no match"); the count is
complete when the whole run is read (whole_run_count). `n` loads the window around the next match. Queries: rare, common, every line (capped), none, smart-case with a capital, and in
the error lines only. Prints each query's time, p50/p95 over all, and the peak RSS of this process.

search_p95_s is the worse of the two p95s, `/` (each search's answer: its first match, or "no match") and
`n`, so the searches that must read the whole run (no match, the only match at the end: whole_run_answer)
count in full and are not diluted by the many quick `n` presses. read_floor_s is the time to read the run's
text once in SQL (`count(text)`, one connection), measured in turns with the searches: what any scan of the
rows costs, without an index.

    python bench/search.py [--lines 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time

from common import pct, peak_rss_mb, report, rss_mb

WHOLE_RUN = ("order 987654 ", "needle-not-there")  # the answer needs the whole run read
QUERIES = [  # (pattern, errors only)
    ("order 987654 ", False),   # one line, near the end
    ("timeout", False),         # ~0.5 %: any case
    ("ERROR", False),           # a capital: matches case, ~1 %
    ("worker-3 ", False),       # 1 line in 16
    ("processed", False),       # nearly every line: the first MAX_FOUND
    ("needle-not-there", False),
    ("db", True),               # in the error lines only
]


def make_lines(n: int, seed: int = 7):
    rnd = random.Random(seed)
    for i in range(1, n + 1):
        level = "ERROR" if i % 97 == 0 else ("WARN" if i % 31 == 0 else "INFO")
        what = "timeout talking to db" if i % 199 == 0 else f"processed order {i} in {rnd.randint(1, 900)} ms"
        yield (f"2026-12-02T10:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}.{i % 1000:03d}Z {level} "
               f"worker-{i % 16} {what} status={'ok' if level == 'INFO' else 'degraded'}")


def build(db: str, lines: int) -> int:
    from panda_tui.store import connect
    conn = connect(db)
    conn.execute("BEGIN")
    run_id = conn.execute("INSERT INTO runs(job, scheduled_at, trigger, status, runner) "
                          "VALUES ('big', 0, 'manual', 'succeeded', 'local')").lastrowid
    now = time.time()
    rows = ((run_id, i, now, "out", text) for i, text in enumerate(make_lines(lines), 1))
    conn.executemany("INSERT INTO logs(run_id, seq, ts, stream, text) VALUES (?,?,?,?,?)", rows)
    conn.execute("UPDATE runs SET log_lines=?, out_lines=? WHERE id=?", (lines, lines, run_id))
    conn.execute("COMMIT")
    conn.close()
    return run_id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--presses", type=int, default=10, help="n presses after each search")
    args = parser.parse_args()
    from panda_tui.store import connect, log_queries
    from panda_tui.tui.log_window import Place, load
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "p.db")
        started = time.perf_counter()
        run_id = build(db, args.lines)
        built_s = time.perf_counter() - started
        conn = connect(db, readonly=True)
        rss_before = rss_mb(os.getpid())
        searches: list[float] = []
        wholes: list[float] = []  # until the count is complete (the whole run read)
        presses: list[float] = []
        whole_answers: list[float] = []  # `/` of the queries in WHOLE_RUN
        floors: list[float] = []
        per_query: dict[str, float] = {}
        found: dict[str, int] = {}
        for pattern, errors_only in QUERIES:
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                conn.execute("SELECT count(text) FROM logs WHERE run_id=?", (run_id,)).fetchone()
                floors.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                seqs, shown = [], None  # `/`: as LogSearch, the run a stretch at a time
                for chunk in log_queries.match_chunks(conn, run_id, pattern, errors_only):
                    if chunk and not seqs:
                        load(conn, run_id, Place("at", chunk[0]), errors_only)  # the pane moves to the first
                        shown = time.perf_counter() - t0
                    seqs += chunk
                whole = time.perf_counter() - t0
                times.append(whole if shown is None else shown)
                wholes.append(whole)
                for k in range(1, min(args.presses, len(seqs))):  # `n`
                    t0 = time.perf_counter()
                    load(conn, run_id, Place("at", seqs[k]), errors_only)
                    presses.append(time.perf_counter() - t0)
            searches += times
            if pattern in WHOLE_RUN:
                whole_answers += times
            label = pattern + (" (errors only)" if errors_only else "")
            per_query[label] = pct(times, 50)
            found[label] = len(seqs)
        conn.close()
    n_p95 = pct(presses, 95) if presses else 0.0
    figures = {"lines": args.lines, "load_avg": os.getloadavg()[0], "store_built_s": built_s,
               "search_p50_s": pct(searches, 50), "search_p95_s": max(pct(searches, 95), n_p95),
               "slash_p95_s": pct(searches, 95), "n_p95_s": n_p95,
               "whole_run_answer_p50_s": pct(whole_answers, 50), "whole_run_answer_p95_s": pct(whole_answers, 95),
               "read_floor_p50_s": pct(floors, 50), "read_floor_p95_s": pct(floors, 95),
               "slowest_query_s": max(per_query.values()), "whole_run_count_p50_s": pct(wholes, 50),
               "whole_run_count_p95_s": pct(wholes, 95),
               "rss_before_mb": rss_before, "peak_rss_mb": peak_rss_mb(os.getpid()),
               "rss_anon_after_mb": rss_mb(os.getpid(), "RssAnon")}  # the peak counts the mapped file's pages
    for label, seconds in per_query.items():
        figures[f"q {label!r} ({found[label]} found)"] = seconds
    report("search", figures, {"search p95 <= 0.5 s": figures["search_p95_s"] <= 0.5,
                               "anonymous RSS <= 100 MB": figures["rss_anon_after_mb"] <= 100})


if __name__ == "__main__":
    main()
