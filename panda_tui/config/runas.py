"""Whether this process can run each local job as its `user`: only a scheduler running as root can switch
users. Checked where something would run jobs (validate, daemon, an embedded console, run, exec, reload),
never by read-only commands, which may well run as someone else than the scheduler."""

from __future__ import annotations

import os
import pwd

from panda_tui.config.load import ConfigError
from panda_tui.config.model import Config, Job


def user_problems(config: Config, euid: int | None = None) -> list[str]:
    """One line per local job whose `user` this process cannot run it as."""
    euid = os.geteuid() if euid is None else euid
    label = os.path.basename(config.path) or config.path
    return [f'{label}: job "{job.name}": user: {problem}'
            for job in config.jobs.values() if (problem := problem_for(job, euid))]


def problem_for(job: Job, euid: int | None = None) -> str | None:
    if job.image or not job.user:
        return None
    euid = os.geteuid() if euid is None else euid
    try:
        target = pwd.getpwnam(job.user)
    except KeyError:
        return f"no user {job.user!r} on this machine"
    if euid == 0 or target.pw_uid == euid:
        return None
    try:
        me = pwd.getpwuid(euid).pw_name
    except KeyError:
        me = f"uid {euid}"
    return (f"runs as {job.user!r} only under a scheduler running as root, and this one runs as {me!r}: "
            "remove `user` (the job then runs as the scheduler's user), or run the scheduler as root")


def require_runnable(config: Config) -> None:
    """Raise ConfigError (one line per job) when a local job's user cannot be taken on here."""
    problems = user_problems(config)
    if problems:
        raise ConfigError(problems)
