"""The time zone Debian's cron schedules in, found the way that cron finds it.

Debian's cron (3.0pl1, bookworm) handles every job in one zone: its own, from glibc's localtime(). Under
systemd, cron.service gets no TZ unless /etc/default/cron (its EnvironmentFile) sets one, so glibc reads
/etc/localtime, and without it uses UTC. cron(8) says /etc/timezone is used; that is only the SysV init
script, which assigns TZ from it without exporting it, so it does not reach the daemon either. We read:
1. TZ in /etc/default/cron;  2. /etc/localtime, a link into the zoneinfo tree (or a copy of one of its
files, matched by content, /etc/timezone's name first);  3. UTC. Neither CRON_TZ nor TZ in a crontab
changes this zone for Debian's cron.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ZONEINFO = "/usr/share/zoneinfo"


@dataclass(frozen=True)
class SystemZone:
    name: str
    source: str  # how it was found, for the output's header


class ZoneUnknown(Exception):
    """The zone cannot be named; the message says what was found and how to pass --timezone."""


def cron_zone(root: str = "/", zoneinfo: str = ZONEINFO) -> SystemZone:
    default = _tz_in(os.path.join(root, "etc/default/cron"))
    if default is not None:
        return SystemZone(_checked(default, "TZ in /etc/default/cron"), "TZ in /etc/default/cron")
    localtime = os.path.join(root, "etc/localtime")
    if not os.path.lexists(localtime):
        return SystemZone("UTC", "no /etc/localtime, so UTC")
    target = os.path.realpath(localtime)
    marker = "/zoneinfo/"
    if os.path.islink(localtime) and marker in target:
        linked = target.split(marker, 1)[1].removeprefix("posix/")
        return SystemZone(_checked(linked, f"/etc/localtime → {target}"), f"/etc/localtime → {linked}")
    name = _same_content(localtime, os.path.join(root, "etc/timezone"), zoneinfo)
    if name is None:
        raise ZoneUnknown("/etc/localtime matches no zone in the zoneinfo tree: pass --timezone NAME")
    return SystemZone(name, f"/etc/localtime (a copy of {name})")


def _tz_in(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    value = None
    for line in lines:
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export "):].strip()
        if line.startswith("TZ="):
            value = line[3:].strip().strip("'\"").lstrip(":")
    return value or None


def _checked(name: str, where: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ZoneUnknown(f"{where}: {name!r} is not a zone name this system knows: pass --timezone NAME") from None
    return name


def _same_content(localtime: str, timezone_file: str, zoneinfo: str) -> str | None:
    try:
        with open(localtime, "rb") as fh:
            wanted = fh.read()
    except OSError:
        return None
    candidates: list[str] = []
    try:
        with open(timezone_file, encoding="utf-8") as fh:
            candidates.append(fh.read().strip())
    except OSError:
        pass
    for folder, dirs, files in os.walk(zoneinfo):
        dirs[:] = sorted(d for d in dirs if d not in ("posix", "right"))
        candidates += sorted(os.path.relpath(os.path.join(folder, f), zoneinfo) for f in files)
    for name in candidates:
        path = os.path.join(zoneinfo, name)
        try:
            if name and os.path.getsize(path) == len(wanted):
                with open(path, "rb") as fh:
                    if fh.read() == wanted:
                        return _checked(name, "/etc/localtime")
        except (OSError, ZoneUnknown):
            continue
    return None
