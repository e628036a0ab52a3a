"""`status` as a person and a monitor read it: its exit code for every state that needs a person (flapping
too), its counts in the console header's words, and lines that fit an 80-column terminal."""

from __future__ import annotations

import json
import time

from panda_tui.config import load_config
from panda_tui.readmodel.snapshot import read_snapshot
from panda_tui.store import acks, connect, lease
from panda_tui.store.db import Database
from panda_tui.store.ledger import RunStatus
from panda_tui.text import iso, when
from tests.conftest import ledger_on, run_cli
from tests.jobfiles import job, write_jobs

LONG = "nightly-warehouse-reconciliation-of-every-regional-ledger"
ERROR = "psql: error: connection to server at \"warehouse-primary.internal\" (10.20.30.40), port 5432 failed: " \
        "FATAL: remaining connection slots are reserved for non-replication superuser connections"


def runs(db: str, name: str, outcomes: str, now: float, reason: str | None = None) -> None:
    """One finished run per letter, oldest first: F failed, S succeeded, M missed."""
    with ledger_on(db) as book:
        for i, what in enumerate(outcomes):
            slot = now - (len(outcomes) - i) * 600
            if what == "M":
                book.insert(name, slot, trigger="schedule", now=slot, status=RunStatus.MISSED,
                            reason="scheduler down from 02:10 to 09:40; catchup = none")
                continue
            run = book.insert(name, slot, trigger="schedule", now=slot)
            book.start(run.id, slot + 1)
            failed = what == "F"
            book.finish(run.id, RunStatus.FAILED if failed else RunStatus.SUCCEEDED, slot + 5,
                        exit_code=1 if failed else 0, reason=(reason or "exit 1") if failed else None)


def scheduler_alive(db: str) -> None:
    """A daemon elsewhere holds the lease (a live heartbeat): no alarm for the scheduler itself."""
    database = Database(db)
    try:
        with database.transaction() as conn:
            now = time.time()
            lease.record(conn, "elsewhere:4242:0:daemon", now, now, 3600.0)
    finally:
        database.close()


def status(cfg: str, db: str, *more: str, env: dict | None = None):
    return run_cli("status", "--config", cfg, "--db", db, *more, env=env or {"COLUMNS": "80"})


def test_a_flapping_job_makes_status_exit_1_as_a_failing_one_does(tmp_path):
    cfg, db = write_jobs(tmp_path, job("sync"), job("steady"))
    now = time.time()
    runs(db, "steady", "SSSSSS", now)
    scheduler_alive(db)
    assert status(cfg, db).returncode == 0  # healthy: the control case
    runs(db, "sync", "FSFSFS", now)
    out = status(cfg, db)
    assert "flapping 3/6 failed" in out.stdout
    assert out.returncode == 1, out.stdout
    assert status(cfg, db, "--json").returncode == 1
    assert "flapping" in run_cli("status", "--help").stdout


def test_an_acked_job_is_counted_acked_and_does_not_make_status_exit_1(tmp_path):
    """Someone is on it: `status` still shows it (`✗ acked`, who), counts it `acked`, not failing, and exits 0
    for it; unacked, it is failing again and `status` exits 1."""
    cfg, db = write_jobs(tmp_path, job("backup"), job("steady"))
    now = time.time()
    runs(db, "backup", "SF", now)
    runs(db, "steady", "SS", now)
    scheduler_alive(db)
    assert status(cfg, db).returncode == 1  # failing: the control case
    database = Database(db)
    with database.transaction() as conn:
        acks.put(conn, acks.Ack("backup", "ann@db1", now, note="on it"))
    database.close()
    out = status(cfg, db)
    assert out.returncode == 0, out.stdout
    assert "0 failing, 0 running, 0 missed/24h, 1 acked" in out.stdout
    assert "backup: acknowledged by ann@db1" in out.stdout
    assert next(line for line in out.stdout.splitlines() if "backup" in line).split()[:3] == ["✗", "acked", "backup"]
    document = json.loads(status(cfg, db, "--json").stdout)
    assert (document["failing"], document["acked"]) == (0, 1)
    assert "acked" in run_cli("status", "--help").stdout


def test_a_run_whose_job_left_jobs_toml_is_listed_by_status_until_it_ends(tmp_path):
    cfg, db = write_jobs(tmp_path, job("backup"))
    now = time.time()
    runs(db, "backup", "S", now)
    runs(db, "gone", "S", now)  # its history, while it stays listed
    with ledger_on(db) as book:
        going = book.insert("gone", now - 30, trigger="schedule", now=now - 30)
        book.start(going.id, now - 29)
    scheduler_alive(db)
    lines = status(cfg, db).stdout.splitlines()
    assert next(line for line in lines if " gone " in line).split()[:4] == ["▶", "running", "gone", "removed"]
    assert "0 failing, 1 running, 0 missed/24h" in lines
    assert f"gone: removed from jobs.toml; run {going.id} still going (listed until it ends;" in lines
    with ledger_on(db) as book:
        book.finish(going.id, RunStatus.SUCCEEDED, now, exit_code=0)
    assert " gone " not in status(cfg, db).stdout  # ended: the job leaves the list


def test_a_flapping_job_leaves_every_name_whole_at_80_columns(tmp_path):
    """The row says `flapping`; how often it failed is on its detail line, not in a STATE that widens
    until every name is cut (`slow-rep…`)."""
    names = ["slow-report-builder", "flaky-export-nightly", "cache-warm"]
    cfg, db = write_jobs(tmp_path, *(job(name) for name in names))
    now = time.time()
    runs(db, "flaky-export-nightly", "SFSFSFSFSS", now)
    runs(db, "slow-report-builder", "SS", now)
    runs(db, "cache-warm", "SS", now)
    scheduler_alive(db)
    lines = status(cfg, db).stdout.splitlines()
    rows = [line for line in lines if line[:1] in "≈✓"]
    assert len(rows) == 3 and all(any(f" {name} " in row for name in names) for row in rows), "\n".join(lines)
    assert any(line.startswith("flaky-export-nightly: flapping 4/10 failed; run ") for line in lines), "\n".join(lines)


def test_status_counts_missed_runs_as_the_console_header_does(tmp_path):
    cfg, db = write_jobs(tmp_path, job("report"), job("backup"))
    now = time.time()
    runs(db, "report", "SMSMM", now)
    runs(db, "backup", "SSF", now)
    scheduler_alive(db)
    out = status(cfg, db)
    conn = connect(db, readonly=True)
    header = read_snapshot(conn, load_config(cfg), time.time())
    assert header.missed_24h == 3
    assert "1 failing, 0 running, 3 missed/24h, 1 job missed" in out.stdout.splitlines()
    assert json.loads(status(cfg, db, "--json").stdout)["missed_24h"] == 3


def test_status_fits_80_columns_with_a_long_name_a_long_error_and_an_ack(tmp_path):
    cfg, db = write_jobs(tmp_path, job(LONG), job("backup"))
    now = time.time()
    runs(db, LONG, "SSF", now, reason=ERROR)
    runs(db, "backup", "SS", now)
    scheduler_alive(db)
    database = Database(db)
    with database.transaction() as conn:
        acks.put(conn, acks.Ack(LONG, "ann@db1", now, note="on it: the replica is being rebuilt, back by 04:00"))
    database.close()
    lines = status(cfg, db).stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    row = next(line for line in lines if line.startswith("✗"))
    assert " acked " in row and "nightly-" in row and "…" in row
    said = " ".join(line.strip() for line in lines)
    assert "reserved for non-replication superuser connections" in said  # wrapped, not cut
    assert "back by 04:00" in said


def test_alerts_json_gives_times_in_iso_8601_as_status_and_executions_do(tmp_path):
    from panda_tui.store import outbox
    cfg, db = write_jobs(tmp_path, job("backup"))
    runs(db, "backup", "F", 1_796_000_000.0)
    database = Database(db)
    with database.transaction() as conn:
        outbox.enqueue(conn, "failed", "ops", {"job": "backup"}, 1_796_000_000.0, "backup", 1)
    database.close()
    alert = json.loads(run_cli("alerts", "--json", "--config", cfg, "--db", db).stdout)[0]
    ran = json.loads(run_cli("executions", "backup", "--json", "--config", cfg, "--db", db).stdout)[0]
    assert ran["scheduled_at"] == "2026-11-30T00:43:20Z"
    assert alert["created_at"] == alert["next_attempt_at"] == "2026-11-30T00:53:20Z"
    assert alert["delivered_at"] is None and alert["given_up_at"] is None


def test_at_80_columns_every_name_is_whole_while_a_long_state_gives_way(tmp_path):
    """New-user test: one job `running · timed out 3/3` widened STATE until every name was cut (`nightly…`)."""
    names = ["slow-report-builder", "flaky-export-nightly", "nightly-backup"]
    cfg, db = write_jobs(tmp_path, *(job(name) for name in names))
    now = time.time()
    for name in names:
        runs(db, name, "SS", now)
    with ledger_on(db) as book:
        for i in range(3):
            run = book.insert("slow-report-builder", now - 300 + i * 60, trigger="schedule", now=now - 300 + i * 60)
            book.start(run.id, now - 299 + i * 60)
            book.finish(run.id, RunStatus.TIMED_OUT, now - 290 + i * 60, reason="timed out after 5s")
        book.start(book.insert("slow-report-builder", now - 5, trigger="schedule", now=now - 5).id, now - 4)
    scheduler_alive(db)
    lines = status(cfg, db).stdout.splitlines()
    rows = [line for line in lines if any(f" {name} " in line for name in names)]
    assert len(rows) == 3 and max(len(line) for line in lines) <= 80, "\n".join(lines)
    assert any(" running… " in row for row in rows), "\n".join(lines)  # the state gave way


def test_executions_and_validate_fit_80_columns(tmp_path):
    """New-user test: both printed lines past 80 columns. A long reason wraps in its own column; a job's
    next runs go to the line under it."""
    cfg, db = write_jobs(tmp_path, job("nightly-backup", "30 2 * * *", timezone="Europe/Berlin"),
                         job("slow-report", "*/2 * * * *"))
    now = time.time()
    runs(db, "slow-report", "SF", now, reason="timed out after 5s; stopping (SIGTERM, then SIGKILL after 2s)")
    with ledger_on(db) as book:
        book.insert("slow-report", now - 60, trigger="schedule", now=now - 30, status=RunStatus.MISSED,
                    reason=f"scheduler down from {iso(now - 7200)} to {iso(now - 60)}; catchup = none")
    listed = run_cli("executions", "slow-report", "--config", cfg, "--db", db, env={"COLUMNS": "80"})
    checked = run_cli("validate", "--config", cfg, env={"COLUMNS": "80"})
    for out in (listed, checked):
        assert out.returncode == 0 and max(map(len, out.stdout.splitlines())) <= 80, out.stdout
    said = " ".join(line.strip() for line in listed.stdout.splitlines())
    assert "stopping (SIGTERM, then SIGKILL after 2s)" in said and "scheduler down " in said, listed.stdout
    lines = checked.stdout.splitlines()
    assert lines[1] == "  nightly-backup: At 02:30 every day (Europe/Berlin)" and lines[2].startswith("      next 20")
    # new-user test: the times were in the job's zone (`…T02:30:00+01:00`); README: every time printed is UTC
    times = lines[2].split("next ", 1)[1].split(", ")
    assert all(t.endswith(("T01:30:00Z", "T00:30:00Z")) for t in times), times


def test_missed_runs_are_named_by_status_and_an_ack_quiets_them(tmp_path):
    """New-user test: a 10 s job missed 2 slots while the scheduler was down; `status` exited 1 for a day
    naming nothing, and `ack` refused (`nothing to acknowledge`). Now a line says which runs and why, and an
    ack covers them: `! acked`, not counted missed, exit 0."""
    from panda_tui.store.acking import acknowledge
    cfg, db = write_jobs(tmp_path, job("hello"))
    now = time.time()
    down = f"scheduler down from {iso(now - 130)} to {iso(now - 100)}; catchup = none"
    with ledger_on(db) as book:
        for slot in (now - 125, now - 115):
            book.insert("hello", slot, trigger="schedule", now=now - 100, status=RunStatus.MISSED, reason=down)
    runs(db, "hello", "S", now + 590)  # its newest run, after the gap, succeeded
    scheduler_alive(db)
    out = status(cfg, db)
    assert out.returncode == 1, out.stdout
    said = " ".join(line.strip() for line in out.stdout.splitlines())  # its line wraps at 80 columns
    assert "hello: 2 runs missed " in said and " (scheduler down); panda-tui ack hello to quiet it" in said, said
    database = Database(db)
    with database.transaction() as conn:
        assert "2 missed runs" in acknowledge(conn, "hello", {"by": "ann@db1"}, time.time())
    database.close()
    out = status(cfg, db)
    assert out.returncode == 0, out.stdout
    row = next(line for line in out.stdout.splitlines() if " hello " in line)
    assert row.split()[:3] == ["!", "acked", "hello"]
    assert row.endswith(" 0 (+2 acked)"), row  # MISSED/24H as the summary counts it, the acked ones shown
    assert "0 failing, 0 running, 0 missed/24h, 1 acked" in out.stdout
    assert not any(line.startswith("hello: 2 runs missed") for line in out.stdout.splitlines())
    assert "hello: acknowledged by ann@db1" in out.stdout
    document = json.loads(status(cfg, db, "--json").stdout)
    assert (document["missed_24h"], document["acked"], document["trouble"]) == (0, 1, False)
    conn = connect(db, readonly=True)
    assert read_snapshot(conn, load_config(cfg), time.time()).missed_24h == 0  # the console's header, alike


def test_executions_wraps_a_reason_between_words_never_inside_a_time(tmp_path):
    """New-user test: at 80 columns REASON read `scheduler down 07` / `:33:00–07:33:15;`."""
    from panda_tui.text import span
    cfg, db = write_jobs(tmp_path, job("hello"))
    now = time.time()
    start = now - now % 60 - 120  # both ends in one minute: the stretch is said to the second
    stretch = span(start, start + 15, now)
    runs(db, "hello", "SF", now, reason="timed out after 5s; stopping (SIGTERM, then SIGKILL after 2s)")
    with ledger_on(db) as book:
        book.insert("hello", start + 5, trigger="schedule", now=start + 15, status=RunStatus.MISSED,
                    reason=f"scheduler down from {iso(start)} to {iso(start + 15)}; catchup = none")
    listed = run_cli("executions", "hello", "--config", cfg, "--db", db, env={"COLUMNS": "80"})
    assert listed.returncode == 0 and any(f"{stretch};" in line for line in listed.stdout.splitlines()), listed.stdout


def test_a_run_nobody_follows_gets_a_line_saying_since_when_and_what_to_do(tmp_path):
    """New-user test: `status` said `unwatched` on the row and nothing more. The scheduler died (kill -9: its
    lease row stays, its heartbeat stops) with run going; `kill` asks a scheduler, so with none it refuses:
    the line says to start one first."""
    cfg, db = write_jobs(tmp_path, job("backup"))
    now = time.time()
    with ledger_on(db) as book:
        run = book.insert("backup", now - 900, trigger="schedule", now=now - 900)
        book.start(run.id, now - 900)
        with book.transaction() as conn:
            lease.record(conn, "gone:999999:0:daemon", now - 900, now - 600, 10.0)
    out = status(cfg, db, env={"COLUMNS": "300"})
    (line,) = [line for line in out.stdout.splitlines() if line.startswith("backup: ")]
    assert line == (f"backup: run {run.id} running (unwatched) since {when(now - 600, time.time())} (10m ago): no "
                    "scheduler follows it; start `panda-tui daemon` (or a console, S) to follow it, then "
                    f"`panda-tui kill {run.id}` stops it (kill needs a scheduler)")
    refused = run_cli("kill", str(run.id), "--config", cfg, "--db", db)
    assert (refused.returncode, "no scheduler is running" in refused.stderr) == (1, True), refused.stderr


def test_one_ack_is_described_in_the_same_words_by_status_the_answer_and_the_unack_question(tmp_path):
    """New-user test: `status` said `until it recovers` of a missed-runs ack at first and `for its 2 missed
    runs` once the job succeeded; the console's unack question said `until its next success`."""
    from panda_tui.store.acking import acknowledge
    from panda_tui.tui.screens.acting import unack_question
    cfg, db = write_jobs(tmp_path, job("hello"))
    now = time.time()
    with ledger_on(db) as book:
        for slot in (now - 125, now - 115):
            book.insert("hello", slot, trigger="schedule", now=now - 100, status=RunStatus.MISSED, reason="scheduler down")
    scheduler_alive(db)
    database = Database(db)
    with database.transaction() as conn:
        answer = acknowledge(conn, "hello", {"by": "ann@db1"}, now - 90)
        held = acks.get(conn, "hello")
    database.close()
    words = "until its next success, and its 2 missed runs"
    assert answer == f'acknowledged "hello" by ann@db1 {words}'
    assert held is not None and f"({words})?" in unack_question(held, 2)

    def said() -> str:
        return " ".join(line.strip() for line in status(cfg, db).stdout.splitlines())
    assert f"hello: acknowledged by ann@db1 at {iso(now - 90)} {words}" in said()
    runs(db, "hello", "S", now + 590)  # a success: the plain ack ends, still covering the two, and says nothing
    assert "acknowledged" not in said() and "0 missed/24h" in said()


def test_an_ack_that_ended_says_nothing_and_the_rows_read_their_own_state(tmp_path):
    """New-user test: a plain ack of `added` (1 missed run) ended at its next success, yet `status` read
    `! acked added` with its ack line, `--json` `"state": "missed"` with `acks` leaving it out while `acked`
    counted it; an ended ack of `flaky` was listed beside its `✗ failing` row, and a missed line for new misses
    came right after an ack line saying they were covered. Once an ack ends: the job's own state, no ack line."""
    cfg, db = write_jobs(tmp_path, job("added"), job("flaky"))
    now = time.time()
    runs(db, "added", "M", now - 1200)  # its missed run, at now - 1800
    runs(db, "flaky", "F", now - 1200)  # failing since now - 1800
    with ledger_on(db) as book:
        for name in ("added", "flaky"):
            acks.put(book.conn, acks.Ack(name, "ann@db1", now - 1250))
    runs(db, "added", "S", now)  # each one's next success ends its plain ack
    runs(db, "flaky", "SF", now)
    scheduler_alive(db)
    out = status(cfg, db)
    rows = {line.split()[2]: line.split()[:2] for line in out.stdout.splitlines()[2:4]}
    assert rows == {"added": ["✓", "ok"], "flaky": ["✗", "failing"]}, out.stdout
    assert "acknowledged" not in out.stdout and "1 failing, 0 running, 0 missed/24h" in out.stdout, out.stdout
    document = json.loads(status(cfg, db, "--json").stdout)
    assert (document["acked"], document["acks"], document["missed_24h"]) == (0, {}, 0)
    assert [(j["job"], j["state"], j["words"]) for j in document["jobs"]] == [("flaky", "failing", "failing"),
                                                                              ("added", "ok", "ok")]
    runs(db, "added", "M", now + 300)  # a new miss after the ack ended: named, and no ack line says covered
    out = status(cfg, db)
    said = " ".join(line.strip() for line in out.stdout.splitlines())
    assert "added: 1 run missed" in said and "acknowledged" not in said and out.returncode == 1, out.stdout
