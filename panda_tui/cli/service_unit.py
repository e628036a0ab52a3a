"""The systemd units `panda-tui systemd-unit` prints. The daemon's: notify and watchdog, state and config
directories, and one of three hardening levels (local jobs are children of the daemon, so they run inside its
sandbox). With --serve, `panda-tui serve`'s: strict, read-only unless asked, its token in a file."""

from __future__ import annotations

import grp
import os
import sys
import shutil
from importlib import resources

STATE_DIRECTORY = "/var/lib/panda-tui"
CONFIG_DIRECTORY = "/etc/panda-tui"
DEFAULT_DB = f"{STATE_DIRECTORY}/panda.db"
DEFAULT_CONFIG = f"{CONFIG_DIRECTORY}/jobs.toml"
SERVE_TOKEN_FILE = f"{CONFIG_DIRECTORY}/web-token"
LEVELS = ("strict", "basic", "none")

STRICT = """\
# Hardening: strict (`systemd-analyze security panda-tui` rates its exposure {score} of 10; `panda-tui
# systemd-unit --hardening basic|none` relaxes it). Local jobs run inside this sandbox too:
#  - the file system is read-only but for {rw} and /tmp (private to this service,
#    emptied when it stops); home directories can be read, not written;
#  - no privileges can be gained (sudo and setuid programs fail), no capabilities unless User=root, no
#    devices but /dev/null and the like, no new namespaces (unshare, bwrap, rootless podman fail), only
#    the service user's processes in /proc; a system call outside @system-service fails with EPERM.
# Docker jobs are not confined by it: dockerd makes their containers (reached through /run/docker.sock, which
# a read-only /run still lets the service connect to). To let local jobs write somewhere, open the path in
# a drop-in (`sudo systemctl edit panda-tui`):
#   [Service]
#   ReadWritePaths=/srv/backups
# or relax one setting the same way (e.g. `ProtectProc=default` for a job that must see every process).
# A job that needs sudo needs `--hardening basic`: most settings below imply NoNewPrivileges=yes.
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths={rw}
ProtectHome=read-only
PrivateTmp=yes
PrivateDevices=yes
PrivateMounts=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictSUIDSGID=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictNamespaces=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
"""
NO_CAPABILITIES = """\
CapabilityBoundingSet=
AmbientCapabilities=
"""
ROOT_CAPABILITIES = """\
# Runs as root: capabilities are kept (without them root could not read other users' files).
"""
BASIC = """\
# Hardening: basic (`--hardening strict` is the default): /usr and /boot are read-only and the control groups
# protected, nothing more. Local jobs keep sudo and setuid programs, devices, /home, /etc and the shared
# /tmp: most other sandboxing settings imply NoNewPrivileges=yes for a service that does not run as root,
# which stops sudo. Add settings with a drop-in (`sudo systemctl edit panda-tui`).
ProtectSystem=yes
ProtectControlGroups=yes
"""
NONE = """\
# Hardening: none (`--hardening strict` is the default): the daemon and local jobs have every right of
# the service user.
"""


# What `systemd-analyze security --offline=true` (systemd 252) says of the strict units; a test keeps it true.
STRICT_EXPOSURE = {"user": "1.7", "root": "3.8"}
SERVE_EXPOSURE = {("user", "loopback"): "1.4", ("user", "any"): "1.6",
                  ("root", "loopback"): "1.8", ("root", "any"): "1.9"}
LOOPBACK_ONLY = """\
# It listens on a loopback address: only this machine may reach it (a reverse proxy, `ssh -L`), and it reaches
# nothing beyond it. Listening elsewhere (--host, in a drop-in) needs IPAddressDeny= emptied too.
IPAddressDeny=any
IPAddressAllow=localhost
"""


def render(user: str, group: str, config: str, db: str, hardening: str = "strict", exe: str | None = None,
           docker_group: bool | None = None) -> str:
    """The unit's text. `docker_group`: whether a docker group exists (None: look on this machine)."""
    if hardening == "strict":
        root = user == "root"
        block = STRICT.format(rw=os.path.dirname(db), score=STRICT_EXPOSURE["root" if root else "user"])
        block += ROOT_CAPABILITIES if root else NO_CAPABILITIES
    else:
        block = BASIC if hardening == "basic" else NONE
    if docker_group is None:
        docker_group = _group_exists("docker")
    text = resources.files("panda_tui").joinpath("templates/panda-tui.service").read_text()
    return text.format(user=user, group=group, docker=_docker_line(user, docker_group), exe=exe or executable(),
                       config=config, db=db, hardening=block)


def render_serve(user: str, group: str, config: str, db: str, host: str = "127.0.0.1", port: int = 8080,
                 allow_control: bool = False, exe: str | None = None) -> str:
    """The serve unit's text: it runs as the daemon's user, beside it, on its database."""
    from panda_tui.cli.serve_cmd import loopback, url_host
    local = loopback(host)
    score = SERVE_EXPOSURE["root" if user == "root" else "user", "loopback" if local else "any"]
    mode = ("Control allowed: whoever holds the token may trigger, pause, resume and kill." if allow_control
            else "Read-only: `systemd-unit --serve --allow-control` prints a unit whose token may also act.")
    text = resources.files("panda_tui").joinpath("templates/panda-tui-serve.service").read_text()
    return text.format(user=user, group=group, exe=exe or executable(), config=config, db=db, host=host,
                       port=port, token_file=SERVE_TOKEN_FILE, control=" --allow-control" if allow_control else "",
                       mode=mode, url_host=url_host(host), rw=os.path.dirname(db), score=score,
                       network=LOOPBACK_ONLY if local else "")


def token_file_warnings(user: str, path: str = SERVE_TOKEN_FILE) -> list[str]:
    """What would stop the serve unit at its start, about its token file, said now."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return [f"{path} does not exist yet: make it as the unit's first lines say, or the service stops at "
                "its start"]
    except OSError:
        return []  # not ours to look at (a folder only root reads): the service will say
    out = []
    if info.st_mode & 0o077:
        out.append(f"{path} is readable by others (mode {info.st_mode & 0o777:o}): serve refuses it; "
                   f"sudo chmod 600 {path}")
    try:
        import pwd
        owner = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        owner = str(info.st_uid)
    if owner != user:  # mode 600, and the unit keeps no capability that would read past it
        out.append(f"{path} belongs to {owner}, and the service runs as {user}: sudo chown {user} {path}")
    return out


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def _docker_line(user: str, docker_group: bool) -> str:
    if user == "root":
        return "# Docker jobs: root reaches the engine's socket (/run/docker.sock) without the docker group."
    if not docker_group:
        return ("# Docker jobs need the engine's socket; there is no docker group on this machine yet:\n"
                "# SupplementaryGroups=docker")
    return "# Docker jobs: the engine's socket (/run/docker.sock) is open to the docker group.\n" \
           "SupplementaryGroups=docker"


def executable() -> str:
    """The panda-tui script of this installation (pipx, venv), not a shell shim found first on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "panda-tui")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("panda-tui") or f"{sys.executable} -m panda_tui"


def warnings(user: str, db: str) -> list[str]:
    """What would keep the printed unit from starting, said now rather than as a status code later."""
    out = []
    exe = executable().split()[0]
    if user != "root" and exe.startswith(("/root/", "/home/")):
        out.append(f"{exe} is inside a home directory: user {user} may not reach it (status=203/EXEC); "
                   "install it where the service user reaches it, e.g. `sudo python3 -m venv /opt/panda-tui && "
                   "sudo /opt/panda-tui/bin/pip install .`, then run /opt/panda-tui/bin/panda-tui systemd-unit")
    directory = os.path.dirname(db)
    if directory != STATE_DIRECTORY and not os.path.isdir(directory):
        out.append(f"{directory} does not exist: create it, owned by {user} (ReadWritePaths= needs it, "
                   "or the service fails with status=226/NAMESPACE)")
    return out
