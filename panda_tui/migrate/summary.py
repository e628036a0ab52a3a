"""What an import says about all its jobs at once: the zones they fire in and whose jobs they are. The same
words head the jobs.toml (as comments) and close the import on stderr, so neither can say one zone while
the jobs carry another, nor leave unsaid that the jobs run as someone the scheduler may not be."""

from __future__ import annotations

from collections import Counter

REFUSES = "refuses a jobs.toml with them"
FIX = "or edit each job's user, workdir and env"


def zones(used: list[str], zone: str, source: str) -> tuple[str, str]:
    """(a header line, the summary's words) for the zones the jobs fire in; `zone` is cron's own."""
    counts = Counter(used)
    if set(counts) <= {zone}:
        return (f"Jobs fire in {zone}, the zone Debian's cron uses on this machine ({source}).",
                f"firing in {zone} ({source})")
    if len(counts) == 1:
        only = next(iter(counts))
        return (f"Jobs fire in {only}, from CRON_TZ (as cronie reads it; Debian's cron ignores it and would fire "
                f"them in {zone}, {source}).", f"firing in {only} (CRON_TZ)")
    each = ", ".join(f"{name} ({n} job{'s' if n != 1 else ''}, {source if name == zone else 'CRON_TZ'})"
                     for name, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    return f"Jobs fire in each job's own timezone: {each}.", f"firing in each job's own timezone: {each}"


def owners(users: list[str | None]) -> list[str]:
    """Whose jobs these are, and what a scheduler running as someone else does with them."""
    counts = Counter(users)
    lines = []
    if None in counts:
        lines.append(f"{_jobs(counts[None])} no `user`: whose crontab this is is unknown (your uid has no "
                     "account here): import again with --user NAME, the crontab's owner; else they run as "
                     "whichever account runs the scheduler")
    named = sorted((u for u in counts if u), key=lambda u: (-counts[u], u))
    if not named:
        return lines
    how = "with HOME, LOGNAME, USER and SHELL as cron set them"
    if len(named) > 1:
        each = ", ".join(f"{u}: {counts[u]}" for u in named)
        lines += [f"these are system jobs: each runs as its line's user ({each}), {how}",
                  f"a scheduler not running as root {REFUSES}: run it as root (`systemd-unit --user root`), {FIX}"]
    elif named == ["root"]:
        lines += [f"these are root's jobs: they run as root (user = 'root'), {how}",
                  f"a scheduler not running as root (such as the service's `panda`) {REFUSES}: run it as root "
                  f"(`systemd-unit --user root`), {FIX}"]
    else:
        user = named[0]
        lines += [f"these are {user}'s jobs: they run as {user} (user = '{user}'), {how}",
                  f"a scheduler running as neither {user} nor root (such as the service's `panda`) {REFUSES}: "
                  f"run it as {user} (`systemd-unit --user {user}`), {FIX}"]
    return lines


def _jobs(n: int) -> str:
    return f"{n} job has" if n == 1 else f"{n} jobs have"
