"""Run the real panda-tui as another account: a throwaway system user made with useradd, removed afterwards.

Its interpreter must be one that account can run: this test run's own when its prefix is reachable, else the
system's python of the same version with this run's site-packages added (a virtualenv's interpreter often
lives under /root, which nobody else may enter)."""

from __future__ import annotations

import os
import pwd
import shutil
import site
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SITES = ("import site, sys; [site.addsitedir(p) for p in {sites!r}]; sys.path.insert(0, {repo!r}); ")
CLI = "from panda_tui.cli import main; sys.argv[0] = 'panda-tui'; main()"


@dataclass
class OtherUser:
    name: str
    uid: int
    gid: int
    python: str

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """panda-tui ARGS as this user."""
        return self.run_python(CLI, *args, timeout=timeout)

    def run_python(self, code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """Python CODE as this user, with panda-tui and its packages importable."""
        boot = SITES.format(sites=site.getsitepackages(), repo=str(REPO)) + code
        env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1"}
        return subprocess.run([self.python, "-c", boot, *args], capture_output=True, text=True, env=env,
                              timeout=timeout, user=self.uid, group=self.gid, extra_groups=[], cwd="/")


def _runs_as(uid: int, gid: int, python: str) -> bool:
    probe = f"import site; [site.addsitedir(p) for p in {site.getsitepackages()!r}]; import click, panda_tui"
    try:
        return subprocess.run([python, "-c", probe], capture_output=True, timeout=60, user=uid, group=gid,
                              extra_groups=[], cwd="/", env={"PATH": "/usr/bin:/bin"}).returncode == 0
    except OSError:
        return False


def _interpreter(uid: int, gid: int) -> str | None:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, shutil.which(version, path="/usr/local/bin:/usr/bin:/bin")):
        if candidate and _runs_as(uid, gid, candidate):
            return candidate
    return None


@pytest.fixture
def other_user():
    """A fresh account with no home and no groups, and an interpreter it can run panda-tui with."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create another user (useradd) and run commands as it")
    if shutil.which("useradd") is None:
        pytest.skip("no useradd on this machine")
    name = f"pandar{os.getpid() % 100000}"
    made = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"useradd {name} failed: {made.stderr.strip()}")
    try:
        entry = pwd.getpwnam(name)
        python = _interpreter(entry.pw_uid, entry.pw_gid)
        if python is None:
            pytest.skip(f"no Python {sys.version_info.major}.{sys.version_info.minor} that user {name} may run "
                        f"with this run's packages ({sys.executable} is not reachable by others)")
        yield OtherUser(name, entry.pw_uid, entry.pw_gid, python)
    finally:
        subprocess.run(["userdel", name], capture_output=True)


@pytest.fixture
def shared_folder():
    """A folder of root's, mode 755, that every user can enter (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="panda-shared-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
