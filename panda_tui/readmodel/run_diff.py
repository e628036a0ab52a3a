"""What changed since the last good run, read from the store: the facts of a run and of the run it is
compared with, handed to the pure readmodel.diff. One entry point for the CLI, the API, the console and
the alerts: `diff_for_run(conn, run_id)`, and `RunDiff.summary()` for the few lines an alert carries."""

from __future__ import annotations

import sqlite3
import statistics
from collections.abc import Iterator

from panda_tui.readmodel.diff import RunDiff, RunFacts, compare
from panda_tui.readmodel.facts import last_failed_run, last_success_run
from panda_tui.store import ledger, log_queries, specs
from panda_tui.store.ledger import HAS_LOGS, Run, RunStatus
from panda_tui.text import status_word

MEDIAN_OF = 20  # successful runs before the failed one whose durations make the job's median


class NoSuchRun(LookupError):
    """A run id that names no run (of this job): the CLI exits 2, the API answers 404."""


def facts(conn: sqlite3.Connection, run: Run) -> RunFacts:
    """One run as the diff sees it: how it ended, what it ran with, where."""
    return RunFacts(run_id=run.id, status=str(run.status), exit_code=run.exit_code, duration_s=run.duration_s,
                    spec=specs.get(conn, run.spec_id), image_id=run.image_id, where=run.node or run.docker_host)


def default_run(conn: sqlite3.Connection, job: str) -> Run | None:
    """The run `diff JOB` speaks of: the job's last failed run, else its newest finished one."""
    return last_failed_run(conn, job) or ledger.latest(conn, job, ledger.FINAL)


def median_duration(conn: sqlite3.Connection, job: str, before_id: int) -> float | None:
    rows = conn.execute("SELECT duration_s FROM runs WHERE job=? AND status='succeeded' AND id<?"
                        " AND duration_s IS NOT NULL ORDER BY id DESC LIMIT ?", (job, before_id, MEDIAN_OF))
    durations = [r[0] for r in rows]
    return statistics.median(durations) if durations else None


def diff_runs(conn: sqlite3.Connection, run: Run, good: Run | None) -> RunDiff:
    """`run` against `good` (None: nothing to compare with; the run's own facts are told)."""
    return compare(facts(conn, run), facts(conn, good) if good is not None else None,
                   median_duration(conn, run.job, run.id), _texts(conn, run.id),
                   _texts(conn, good.id) if good is not None else ())


def diff_for_run(conn: sqlite3.Connection, run_id: int, against: int | None = None) -> RunDiff | None:
    """The run against `against`, or by default the job's last successful run before it. None when no
    such run exists; a diff whose `good` is None when there is no good run to compare with."""
    run = ledger.get(conn, run_id)
    if run is None:
        return None
    good = ledger.get(conn, against) if against is not None else last_success_run(conn, run.job, run.id)
    if against is not None and (good is None or good.job != run.job):
        raise NoSuchRun(f'no run {against} of "{run.job}" to compare with')
    return diff_runs(conn, run, good)


def _texts(conn: sqlite3.Connection, run_id: int) -> Iterator[str]:
    """What the command wrote (panda-tui's own notes, stream "sys", are not the job's lines)."""
    return (line.text for line in log_queries.each_line(conn, run_id) if line.stream != "sys")


def describe(diff: RunDiff) -> list[str]:
    """The diff as plain lines, for `panda-tui diff` and anything else that prints it whole."""
    failed = diff.failed
    head = f"run {failed.run_id} ({status_word(failed.status)})"
    if diff.good is None:
        lines = [f"{head}: no successful run to compare with; how it ended:"]
    else:
        lines = [f"{head} against run {diff.good.run_id} ({RunStatus.SUCCEEDED}, the last good one)"
                 if diff.good.status == RunStatus.SUCCEEDED else f"{head} against run {diff.good.run_id} "
                 f"({status_word(diff.good.status)})"]
        if not diff.config_known:
            lines.append("config: not recorded for one of the two runs (a slot that never started, or a run "
                         "from before this version)")
    lines += [f"  {change.line()}" for change in diff.changes]
    if diff.good is not None and not diff.changes and diff.config_known:
        lines.append("  nothing differs in config, image, host, exit code or duration")
    if diff.new_lines:
        lines.append("new in the log:" if diff.good is not None else "its log (first lines):")
        lines += [f"  {text}" for text in diff.new_lines]
        if diff.more_new_lines:
            lines.append(f"  … and {diff.more_new_lines} more")
    elif diff.good is not None:
        lines.append("it never started: it has no log" if failed.status not in HAS_LOGS
                     else "no line in the log is new")
    return lines


def summary_for_run(conn: sqlite3.Connection, run_id: int, limit: int = 5) -> list[str]:
    """The few lines an alert carries about a failed run: what changed since the last good run (or, with
    none to compare with, how it ended). Empty for a run that does not exist."""
    diff = diff_for_run(conn, run_id)
    if diff is None:
        return []
    lines = diff.summary(limit)
    if diff.good is None:
        lines = ["no successful run to compare with", *lines][:limit]
    return lines
