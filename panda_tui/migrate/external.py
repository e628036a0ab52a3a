"""`panda-tui exec JOB -- COMMAND`: a run that cron (or anything else) starts, recorded as JOB's.

The command runs here, as a local process under a keeper like any local run, with exec's own stdin and
environment (cron's environment lines reach it), its output passed through raw to exec's stdout and stderr
(so cron's mail still works) and stored, masked, as the run's log. JOB's settings that fit a local command
apply (env, secrets, timeout, kill_grace, workdir, user, alerts, heartbeat, log limits); a JOB that is not
in jobs.toml gets [defaults]. A container job's image is not used: exec runs COMMAND on this machine.
"""

from __future__ import annotations

import dataclasses
import os
import signal
from collections.abc import Callable

from panda_tui.config import Config, ConfigError, Job, job_from_defaults
from panda_tui.config.runas import problem_for
from panda_tui.engine.foreground import SIGNALS, run_in_foreground
from panda_tui.engine.owners import STOP_SIGNAL
from panda_tui.fields import job_name
from panda_tui.runners.base import Passthrough
from panda_tui.store.ledger import Run, RunStatus, Trigger


def job_for(config: Config, name: str, argv: list[str]) -> Job:
    """JOB as exec runs it: its own settings (or [defaults]), with COMMAND, as a local process.
    ConfigError when exec cannot take it on here (a bad name, a user it cannot switch to)."""
    label = os.path.basename(config.path) or config.path
    try:
        job_name(name)
    except ValueError as exc:
        raise ConfigError([f'exec: job name "{name}": {exc}']) from None
    base = config.jobs.get(name) or job_from_defaults(config, name)
    job = dataclasses.replace(base, command=tuple(argv), stdin=None, enabled=True,
                              image=None, user=None if base.image else base.user)
    problem = problem_for(job)
    if problem:
        raise ConfigError([f'{label}: job "{name}": user: {problem}'])
    return job


async def run_external(config: Config, db_path: str, job: Job, *, secrets_file: str | None = None,
                       echo: Callable[[str, bytes], None], note: Callable[[str], None]) -> Run:
    """Run COMMAND once as JOB's run (trigger external). `echo` gets the raw output; `note` panda-tui's own
    lines (a timeout, a kill, a command that cannot start)."""
    passthrough = Passthrough(stdin=0, environ=dict(os.environ), echo=echo)
    return await run_in_foreground(config, db_path, job, trigger=Trigger.EXTERNAL, secrets_file=secrets_file,
                                   passthrough=passthrough, say=lambda text: note(f"panda-tui exec: {text}"),
                                   tee=lambda stream, text: note(text) if stream == "sys" else None)


SKIPPED = 75  # EX_TEMPFAIL (sysexits.h): not run this time, by the job's policy; try again later


def exit_code(run: Run) -> int:
    """The command's exit code; like timeout(1), 124 for a timeout; like a shell, 127 and 126 for a command
    that is missing or not executable, and 128+N for a run stopped by signal N (130 for Ctrl-C); 75
    (EX_TEMPFAIL) when admission skipped it (overlap, paused) and the command did not run."""
    if run.status == RunStatus.SKIPPED:
        return SKIPPED
    if run.status == RunStatus.TIMED_OUT:
        return 124
    stopped_by = _signal_of(run.reason or "") if run.status == RunStatus.KILLED else None
    if stopped_by is not None:
        return 128 + stopped_by
    if run.exit_code is not None:
        return run.exit_code
    reason = (run.reason or "").lower()
    if "not found" in reason:
        return 127
    if "permission denied" in reason:
        return 126
    return 1


def _signal_of(reason: str) -> int | None:
    """The signal that stopped exec's run, from the reason it recorded (a kill on request counts as SIGTERM,
    as if the command had been sent one)."""
    for sig, why in SIGNALS.items():
        if reason.startswith(why):
            return int(signal.SIGTERM if sig == STOP_SIGNAL else sig)
    return None
