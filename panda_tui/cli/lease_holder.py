"""Who holds the scheduler, in the words a person needs to hand it over: `panda-tui daemon` refused because a
console (or another daemon) holds the lease says which one, and what to do about it."""

from __future__ import annotations

import os
import pwd
import socket

from panda_tui.store.lease import Holder, shown_owner
from panda_tui.text import iso

PTS_MAJORS = range(136, 144)  # Linux's Unix98 pty slaves: /dev/pts/N


def tty_of(pid: int) -> str | None:
    """The controlling terminal of a process on this host (`pts/3`, `tty1`), from /proc; None without one."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
        tty_nr = int(data[data.rfind(b")") + 2:].split()[4])
    except (OSError, ValueError, IndexError):
        return None
    major, minor = (tty_nr >> 8) & 0xFFF, (tty_nr & 0xFF) | ((tty_nr >> 12) & 0xFFF00)
    if major in PTS_MAJORS:
        return f"pts/{(major - PTS_MAJORS.start) * 256 + minor}"
    return f"tty{minor}" if major == 4 and tty_nr else None


def user_of(pid: int) -> str | None:
    try:
        uid = os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def who_holds(holder: Holder) -> str:
    """`a console (pid 4242, user ana, tty pts/3, on box)`: what the lease says, and on this host what /proc
    adds (user and terminal)."""
    parts = holder.owner.split(":")
    role = parts[3] if len(parts) > 3 else "scheduler"
    host, pid = parts[0], holder.pid
    if pid is None:
        return f"a {role} ({shown_owner(holder.owner)})"
    words = [f"pid {pid}"]
    if host == socket.gethostname():
        words += [f"{label} {value}" for label, value in (("user", user_of(pid)), ("tty", tty_of(pid))) if value]
    return f"a {role} ({', '.join(words + [f'on {host}'])})"


def daemon_refused(holder: Holder, db_path: str) -> str:
    """The one line `panda-tui daemon` says when the lease is held."""
    held = f"{who_holds(holder)} holds the scheduler of {db_path}"
    parts = holder.owner.split(":")
    if len(parts) > 3 and parts[3] == "console":
        return (f"{held}: to hand over, quit that console with q, then start the daemon (and open consoles "
                "attached: `panda-tui --attach`)")
    return (f"{held} (last heartbeat {iso(holder.heartbeat_at)}): stop it first, or start this one with "
            "--standby to take over when it stops")
