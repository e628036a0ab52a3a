"""Commands that only read the store: executions, status, logs. The jobs they know are the ones the
scheduler runs (as it stored them) when one holds the database, else the local jobs.toml."""

from __future__ import annotations

import functools
import json
import sys
import textwrap
import time
from collections.abc import Collection, Sequence
from typing import Any

import click

from panda_tui.cli.common import common, fail, known_job, resolve_db, running_jobs, safe, say, terminal_width
from panda_tui.readmodel.health import (REMOVED, HealthState, JobHealth, acked_count, failing_count,
                                        flapping_count, missed_count, missed_words, missing_image_words,
                                        next_word, running_count,
                                        row_words)
from panda_tui.readmodel.missed import missed_line
from panda_tui.readmodel.unwatched import unwatched_lines
from panda_tui.readmodel.acks import ack_line, acks_json, current_acks
from panda_tui.readmodel.status import describe_holder, read_status, run_json, status_json
from panda_tui.store import StoreError, connect, lease, ledger, log_queries, logs, pieces
from panda_tui.store.ledger import HAS_LOGS, RunStatus
from panda_tui.text import coarse_ago, iso, late, said_once, short_duration, short_spans, status_word, when

CANNOT_READ = 2


def _conn(db_path: str | None):
    return connect(resolve_db(db_path), readonly=True)


@click.command()
@click.argument("job")
@click.option("--limit", "-n", default=20, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON array of runs.")
@common
def executions(config_path: str, db_path: str | None, job: str, limit: int, as_json: bool) -> None:
    """JOB's runs, newest first."""
    conn = _conn(db_path)
    known_job(running_jobs(config_path, conn), conn, job)
    rows = ledger.history(conn, job, limit)
    if as_json:
        click.echo(json.dumps([run_json(r) for r in rows], indent=1))
        return
    if not rows:
        click.echo(f"no runs of {safe(job)} yet")
        return
    nodes = any(r.node for r in rows)  # swarm jobs: the node that ran each run
    now = time.time()
    table = [("ID", "SCHEDULED", "LATE", "DURATION", "STATUS", "EXIT", "TRY", "TRIGGER") + (("NODE",) if nodes else ())
             + ("REASON",)]
    for r in rows:
        table.append((str(r.id), when(r.scheduled_at, now), late(r.lateness),
                      short_duration(r.duration_s) if r.duration_s is not None else "", status_word(r.status),
                      "" if r.exit_code is None else str(r.exit_code), str(r.attempt), r.trigger)
                     + ((safe(r.node or ""),) if nodes else ()) + (safe(short_spans(r.reason or "", now, r.scheduled_at)),))
    _print_table(table, right={0, 2, 3, 5, 6}, width=terminal_width(), wrap=True)


@click.command()
@click.option("--json", "as_json", is_flag=True)
@common
def status(config_path: str, db_path: str | None, as_json: bool) -> None:
    """Every job's health. Exit 0 when healthy; 1 when something needs a person: no scheduler runs, a job is
    failing, missed or flapping, or a run went missing in 24 h (a job someone acked does not count: its row
    reads acked); 2 when the store or the jobs cannot be
    read. Lines fit the terminal's width (80 columns when it has none): job names come whole, the other
    columns give way first (a long state is cut with …, the lines below say it whole)."""
    now = time.time()
    try:
        conn = _conn(db_path)
        source = running_jobs(config_path, conn)
        if source.config is None:
            fail("; ".join(source.refused) or "no jobs to show", CANNOT_READ)
        current = read_status(conn, source.config, now)
        acked = current_acks(conn, now)
    except StoreError as exc:
        fail(str(exc), CANNOT_READ)
    if as_json:
        document = status_json(current, now, source.refused)
        document["acks"] = acks_json(conn, now, current.jobs)
        click.echo(json.dumps(document, indent=1))
        sys.exit(1 if current.trouble else 0)
    width = terminal_width()
    tell = functools.partial(say, width=width)
    if current.lease:
        who = describe_holder(current.lease, now)
        tell(f"scheduler: {safe(who['host'])}, pid {who['pid']}, since {who['since']} "
            f"(heartbeat {who['heartbeat_s_ago']:.0f}s ago)")
    else:
        seen = lease.last_seen(conn)
        seen_as = "daemon last seen" if current.daemon_gone else "last seen"
        tell("scheduler: NOT RUNNING" + (f" ({seen_as} {coarse_ago(now - seen)} ago)" if seen else "")
            + ": no job runs on time until one starts")
    for line in source.refused:
        tell(f"jobs.toml refused: {safe(line)}")
    stale = "" if current.lease else " (stale: no scheduler is checking it)"
    for host, info in current.docker_hosts.items():
        tell(f"docker {safe(host)}: {'up' if info.get('up') else 'DOWN: ' + safe(info.get('error'))}{stale}")
    budget_words = budget_line(current.store_budget, now)
    if budget_words:
        tell(budget_words)
    table = [("", "STATE", "JOB", "NEXT", "LAST", "LAST OK", "FAIL", "MISSED/24H")]
    for h in current.jobs:
        nxt = next_word(h, now, scheduled=current.lease is not None)
        last = status_word(h.last.status) if h.last else "never ran"
        ok = "never" if h.last_success_at is None else f"{coarse_ago(now - h.last_success_at)} ago"
        rate = "-" if h.failure_rate is None else f"{h.failure_rate:.0%}"
        table.append((h.glyph, row_words(h), safe(h.name), nxt, last, ok, rate, missed_words(h)))
    _print_table(table, right={6, 7}, width=width, give=(1, 5, 4, 3, 2))  # the names give way last
    tell(summary(current.jobs))
    for h in current.jobs:
        if h.last_failure is not None and (h.failing or h.state in (HealthState.FLAPPING, HealthState.RETRYING)):
            f = h.last_failure
            ago = f", {coarse_ago(now - f.at)} ago" if f.at else ""
            flaps = f"{h.words}; " if h.state is HealthState.FLAPPING else ""  # the row says only `flapping`
            tell(f"{safe(h.name)}: {flaps}run {f.run_id} {status_word(f.status)}{ago}: {safe(log_queries.readable(f.line))}")
    for h in current.jobs:
        if line := missed_line(conn, h, now):
            tell(safe(line))
        for line in unwatched_lines(conn, h, now):
            tell(safe(line))
        if h.removed:
            runs = ", ".join(map(str, h.running))
            tell(f"{safe(h.name)}: {REMOVED}; run {runs} still going (listed until it ends; "
                 f"`panda-tui kill {h.running[0]}` stops it)")
        if h.image_missing:
            tell(f"{safe(h.name)}: {safe(missing_image_words(h.image_missing))}")
    for h in current.jobs:  # an ack that ended says nothing: the row reads the job's own state again
        if h.acked and h.name in acked:
            tell(safe(ack_line(h.name, acked[h.name], missed=h.missed_acked)))
    sys.exit(1 if current.trouble else 0)


def summary(jobs: list[JobHealth]) -> str:
    """`2 failing, 1 running, 3 missed/24h, 1 flapping`: the console header's counts, in its words and order
    (the same count of missed runs, over the same 24 h), then the other words that need a look."""
    out = [f"{failing_count(jobs)} failing", f"{running_count(jobs)} running",
           f"{missed_count(jobs)} missed/24h"]
    if flapping := flapping_count(jobs):
        out.append(f"{flapping} flapping")
    if acked := acked_count(jobs):
        out.append(f"{acked} acked")
    for word in (HealthState.RETRYING, HealthState.MISSED):
        n = sum(1 for h in jobs if h.state is word)
        if n:
            out.append(f"{n} {'job' if n == 1 else 'jobs'} {word}" if word is HealthState.MISSED else f"{n} {word}")
    return ", ".join(out)


def budget_line(fact: dict[str, Any] | None, now: float) -> str | None:
    """The store's size limit, when it is hit now or was in the last day."""
    if not fact:
        return None
    size = f"{(fact.get('used') or 0) / 1024 / 1024:.1f} of {(fact.get('limit') or 0) / 1024 / 1024:.1f} MiB"
    if fact.get("full"):
        return (f"store: AT ITS SIZE LIMIT ({size}) since {coarse_ago(now - (fact.get('since') or now))} ago: "
                "runs' further output is dropped ([store] max_size, keep_free)")
    until = fact.get("until") or 0
    if now - until < 86400:
        return f"store: was at its size limit until {coarse_ago(now - until)} ago (logs were dropped)"
    return None


WRAP_MIN = 16  # a last column that wraps keeps at least this width, even past the terminal's edge


def _print_table(rows: Sequence[Sequence[str]], right: Collection[int] = frozenset(), width: int | None = None,
                 give: Sequence[int] = (), wrap: bool = False) -> None:
    """Columns as wide as their longest cell, so a long duration or name never shifts the others. `width`:
    the columns in `give` (in that order) give way, down to 8, cut with `…`, until the rows fit it; `wrap`:
    the last column (a reason) wraps in its own column instead, its further lines under its first."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    over = 0 if width is None else sum(widths) + 2 * (len(widths) - 1) - width
    for column in give:
        if over <= 0:
            break
        cut = min(over, max(0, widths[column] - 8))
        widths[column] -= cut
        over -= cut
    if wrap and over > 0:
        longest = max((len(word) for row in rows for word in row[-1].split()), default=0)  # wraps between words
        widths[-1] = max(WRAP_MIN, longest, widths[-1] - over)
    indent = sum(widths[:-1]) + 2 * (len(widths) - 1)
    for row in rows:
        cells = [_cut(cell, w) for cell, w in zip(row[:-1] if wrap else row, widths)]
        cells = [cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(cells, widths))]
        last = textwrap.wrap(row[-1], widths[-1], break_on_hyphens=False, break_long_words=False) if wrap else []
        click.echo("  ".join(cells + last[:1]).rstrip())
        for more in last[1:]:
            click.echo(" " * indent + more)


def _cut(cell: str, width: int) -> str:
    return cell if len(cell) <= width else cell[:width - 1].rstrip() + "…"


@click.command(name="logs")
@click.argument("job")
@click.option("--latest", "which", flag_value="latest", default=True, help="The newest run (default).")
@click.option("--run", "run_id", type=int, default=None, help="A run by id.")
@click.option("--follow", "-f", is_flag=True,
              help="Keep printing until the run ends, then exit with its outcome, as `panda-tui run` does: 0 when "
                   "it succeeded, the job's exit code when it failed or was killed (143 after SIGTERM), 124 "
                   "when it timed out, 75 when it was skipped, 1 otherwise.")
@common
def logs_cmd(config_path: str, db_path: str | None, job: str, which: str, run_id: int | None, follow: bool) -> None:
    """Print a run's log lines in order (stderr lines marked with "!", panda-tui's own with "#")."""
    conn = _conn(db_path)
    run = ledger.get(conn, run_id) if run_id is not None else ledger.latest(conn, job, HAS_LOGS)
    if run_id is not None and run is not None and run.job != job:
        fail(f'run {run_id} is a run of "{run.job}", not of "{job}"', 2)
    if run is None:
        if run_id is None:
            known_job(running_jobs(config_path, conn), conn, job)
        if run_id is not None:
            fail(f"no run {run_id}", 2)
        fail(f"{job} has no runs with logs yet", 1)
    click.echo(log_header(run), err=True)
    seq, printed = 0, False
    joiner = pieces.Joiner()  # a long line's pieces printed as that one line, piece by piece
    cut = False
    while True:
        batch = logs.read(conn, run.id, seq, 5000, max_chars=logs.PAGE_CHARS)  # 5,000 lines, or 8 MB of them
        for line in batch:
            goes_on, open_line = joiner.goes_on(line), joiner.going_on
            mark = "" if goes_on else {"err": "! ", "sys": "# "}.get(line.stream, "  ")
            click.echo(("" if goes_on or not cut else "\n") + mark + safe(line.text), nl=not open_line)
            cut = open_line  # a full piece: the next row may go on its line
        if batch:
            seq, printed = batch[-1].seq, True
            continue
        if not follow:
            break
        now = ledger.get(conn, run.id)
        if now is None:  # pruned while followed: what was printed is all there is
            break
        run = now
        if not run.active:
            break
        time.sleep(0.1)
    if cut:
        click.echo("")
    if not printed:  # not an empty stdout with the reason only on stderr: one line saying why
        click.echo(no_output(run))
    if run.logs_pruned:
        click.echo(f"# logs of run {run.id} were pruned by retention", err=True)
    if follow:
        code = outcome_code(run)
        word, reason = said_once(status_word(run.status), run.reason)
        click.echo(f"# run {run.id}: {safe(word)}" + (f" ({safe(reason)})" if reason else "")
                   + f"; panda-tui exits {code}", err=True)
        sys.exit(code)


def log_header(run: ledger.Run) -> str:
    """`# run 12 of backup · failed · started 2026-12-02T03:00:00Z`, in the one time format every command
    writes (ISO 8601, UTC); a run that never started says when it was due and why it did not run."""
    head = f"# run {run.id} of {safe(run.job)} · {status_word(run.status)}"
    if run.started_at is not None:
        return f"{head} · started {iso(run.started_at)}"
    return f"{head} · due {iso(run.due_at)} · never started" + (f": {safe(run.reason)}" if run.reason else "")


def no_output(run: ledger.Run) -> str:
    """Why a run has no line to print: `(no output: missed, scheduler down from … to …; catchup = none)`."""
    head = "(no output yet" if run.active else "(no output"
    if run.logs_pruned:
        return f"{head}: its logs were pruned by retention)"
    if run.started_at is None or run.active or run.status == RunStatus.LOST:
        word, reason = said_once(status_word(run.status), run.reason)
        return f"{head}: {safe(word)}" + (f", {safe(reason)})" if reason else ")")
    return f"{head}: the run wrote nothing)"


def outcome_code(run: ledger.Run) -> int:
    """A run's outcome as an exit code, as `panda-tui run` gives it: 0, the job's own code (a kill's too:
    143 after SIGTERM), 124 for a timeout, 75 (EX_TEMPFAIL) when admission skipped it, 1 for anything else."""
    if run.status == RunStatus.SUCCEEDED:
        return 0
    if run.status == RunStatus.SKIPPED:
        return 75
    if run.status == RunStatus.TIMED_OUT:
        return 124
    return run.exit_code if run.exit_code else 1
