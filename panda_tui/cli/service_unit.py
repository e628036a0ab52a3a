"""The systemd units `panda-tui systemd-unit` prints. The daemon's: notify and watchdog, state and config
directories, and one of three hardening levels (local jobs are children of the daemon, so they run inside its
sandbox). With --serve, `panda-tui serve`'s: strict, read-only unless asked, its token in a file."""

from __future__ import annotations

import grp
import os
import sys
import shutil
from importlib import resources

from panda_tui.cli import unit_syntax as syntax

STATE_DIRECTORY = "/var/lib/panda-tui"
CONFIG_DIRECTORY = "/etc/panda-tui"
DEFAULT_DB = f"{STATE_DIRECTORY}/panda.db"
DEFAULT_CONFIG = f"{CONFIG_DIRECTORY}/jobs.toml"
SERVE_TOKEN_FILE = f"{CONFIG_DIRECTORY}/web-token"
LEVELS = ("strict", "basic", "none")

STRICT = """\
# Hardening: strict (`systemd-analyze security panda-tui` rates its exposure {score} of 10; `panda-tui
# systemd-unit --hardening basic|none` relaxes it). Local jobs run inside this sandbox too:
#  - the file system is read-only but for {rw_shown} and /tmp (private to this service,
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


def render(user: str, group: str, config: str, db: str, hardening: str = "strict", exe: str | list[str] | None = None,
           docker_group: bool | None = None) -> str:
    """The unit's text. `docker_group`: whether a docker group exists (None: look on this machine).
    UnitValueError for a value no unit can hold (a line break)."""
    if hardening == "strict":
        root = user == "root"
        folder = os.path.dirname(db)
        block = STRICT.format(rw=syntax.path_word(folder, "--db"), rw_shown=syntax.comment(folder, "--db"),
                              score=STRICT_EXPOSURE["root" if root else "user"])
        block += ROOT_CAPABILITIES if root else NO_CAPABILITIES
    else:
        block = BASIC if hardening == "basic" else NONE
    if docker_group is None:
        docker_group = _group_exists("docker")
    exec_start = syntax.command_line([*_argv(exe), "daemon"], "the program") + " " + \
        syntax.command_line(["--config", config], "--config") + " " + syntax.command_line(["--db", db], "--db")
    text = resources.files("panda_tui").joinpath("templates/panda-tui.service").read_text()
    return text.format(user=syntax.plain(user, "--user"), group=syntax.plain(group, "its group"),
                       docker=_docker_line(user, docker_group), exec_start=exec_start, hardening=block)


def render_serve(user: str, group: str, config: str, db: str, host: str = "127.0.0.1", port: int = 8080,
                 allow_control: bool = False, exe: str | list[str] | None = None) -> str:
    """The serve unit's text: it runs as the daemon's user, beside it, on its database."""
    from panda_tui.cli.serve_cmd import loopback, url_host
    local = loopback(host)
    score = SERVE_EXPOSURE["root" if user == "root" else "user", "loopback" if local else "any"]
    mode = ("Control allowed: whoever holds the token may trigger, pause, resume and kill." if allow_control
            else "Read-only: `systemd-unit --serve --allow-control` prints a unit whose token may also act.")
    argv = [*_argv(exe), "serve", "--config", config, "--db", db, "--host", host, "--port", str(port),
            "--token-file", SERVE_TOKEN_FILE] + (["--allow-control"] if allow_control else [])
    text = resources.files("panda_tui").joinpath("templates/panda-tui-serve.service").read_text()
    return text.format(user=syntax.plain(user, "--user"), group=syntax.plain(group, "its group"),
                       exec_start=syntax.command_line(argv, "the serve command line"), token_file=SERVE_TOKEN_FILE,
                       port=port, mode=mode, url_host=syntax.comment(url_host(host), "--host"),
                       rw=syntax.path_word("-" + os.path.dirname(db), "--db"), score=score,
                       network=LOOPBACK_ONLY if local else "")


def _argv(exe: str | list[str] | None) -> list[str]:
    """The program's words: a path given as a string is one word, even with a space in it."""
    if exe is None:
        return executable()
    return [exe] if isinstance(exe, str) else list(exe)


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


def executable() -> list[str]:
    """The panda-tui script of this installation (pipx, venv), not a shell shim found first on PATH; else
    this interpreter with -m."""
    beside = os.path.join(os.path.dirname(sys.executable), "panda-tui")
    if os.access(beside, os.X_OK):
        return [beside]
    found = shutil.which("panda-tui")
    return [found] if found else [sys.executable, "-m", "panda_tui"]


def warnings(user: str, db: str, private_tmp: bool = True, config: str = DEFAULT_CONFIG,
             installation: list[str] | None = None) -> list[str]:
    """What would keep the printed unit from starting, said now rather than as a status code later.
    `private_tmp`: the unit has PrivateTmp=yes (strict hardening, and the serve unit); `installation`: the
    paths the service must reach to start (default: this one's program, interpreter and code)."""
    out = []
    needed = installation if installation is not None else _installation()
    hidden = [path for path in needed if private_tmp and _under(path, ("/tmp", "/var/tmp"))]
    if hidden:
        out.append(f"{hidden[0]} is under {_top(hidden[0])}, which the unit's PrivateTmp=yes hides from the "
                   "service: it would fail at its start (status=203/EXEC, or no module panda_tui); install "
                   "panda-tui elsewhere, e.g. `sudo python3 -m venv /opt/panda-tui && sudo /opt/panda-tui/bin/pip "
                   "install .`, then run /opt/panda-tui/bin/panda-tui systemd-unit")
    for what, path in (("--config", config), ("--db", db)):
        if private_tmp and _under(path, ("/tmp", "/var/tmp")):
            out.append(f"{what} {path} is under {_top(path)}, which the unit's PrivateTmp=yes replaces with an "
                       "empty folder of the service's own: keep it elsewhere (default: "
                       f"{DEFAULT_CONFIG if what == '--config' else DEFAULT_DB})")
    homes = [path for path in needed if _under(path, ("/root", "/home"))]
    if user != "root" and homes and not hidden:
        out.append(f"{homes[0]} is inside a home directory: user {user} may not reach it (status=203/EXEC); "
                   "install it where the service user reaches it, e.g. `sudo python3 -m venv /opt/panda-tui && sudo /opt/panda-tui/bin/pip install .`, then "
                   "run /opt/panda-tui/bin/panda-tui systemd-unit")
    directory = os.path.dirname(db)
    if directory != STATE_DIRECTORY and not os.path.isdir(directory):
        out.append(f"{directory} does not exist: create it, owned by {user} (ReadWritePaths= needs it, "
                   "or the service fails with status=226/NAMESPACE)")
    return out


def _installation() -> list[str]:
    """What the service must reach to start: the program, the interpreter it runs, and panda_tui's code."""
    import panda_tui
    paths = [executable()[0], sys.prefix, os.path.realpath(sys.executable),
             os.path.dirname(os.path.dirname(os.path.abspath(panda_tui.__file__)))]
    return list(dict.fromkeys(paths))


def _top(path: str) -> str:
    return "/var/tmp" if _under(path, ("/var/tmp",)) else "/tmp"


def _under(path: str, tops: tuple[str, ...]) -> bool:
    return any(path == top or path.startswith(top + "/") for top in tops)
