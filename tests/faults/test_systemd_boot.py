"""The printed unit under a real systemd as PID 1: `systemd-nspawn --volatile=yes` boots this machine's own
/usr (no image, no network) with an /etc made here, and the unit runs in it, strict hardening and all:
READY makes it active, local jobs are confined by the sandbox, Docker jobs reach the engine's socket, a
hung loop is killed by the watchdog and restarted, and a local run outlives that restart."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from contextlib import ExitStack
from pathlib import Path

import pytest

from panda_tui.engine.supervision import STALL_VARIABLE
from tests.conftest import REPO, run_cli
from tests.integration.helpers import wait_until
from tests.jobfiles import job
from tests.machine_locks import SYSTEMD as BOOTS, machine_lock

pytestmark = pytest.mark.slow
NSPAWN = shutil.which("systemd-nspawn")
SYSTEMD = "/usr/lib/systemd/systemd"
DB = "/var/lib/panda-tui/panda.db"
CONFIG = "/etc/panda-tui/jobs.toml"
WATCHDOG_SEC = 8  # the drop-in shortens the unit's 30 s so that the test takes seconds
SOURCE = "/opt/panda-tui-src"  # this checkout, inside the container
GO = "/var/lib/panda-tui/go"  # the job "long" ends once this file exists


def hidden_by_private_tmp() -> str:
    """A drop-in line that shows the service this interpreter's prefixes when they lie under /tmp, which the
    unit's PrivateTmp= hides (a virtualenv made there); the unit itself stays as printed."""
    under = [p for p in dict.fromkeys((sys.prefix, sys.base_prefix)) if p.startswith(("/tmp/", "/var/tmp/"))]
    return f"BindReadOnlyPaths={' '.join(under)}\n" if under else ""


def missing() -> str | None:
    if NSPAWN is None:
        return "systemd-nspawn is not installed (apt-get install systemd-container; .ci/run does)"
    if not os.path.exists(SYSTEMD) or shutil.which("nsenter") is None:
        return "systemd or nsenter is not installed (apt-get install systemd util-linux)"
    if os.geteuid() != 0:
        return "booting a container with systemd-nspawn needs root"
    return None


class Container:
    """A systemd booted with systemd-nspawn over this machine's /usr; commands run in it through nsenter."""

    def __init__(self, etc: Path, log: Path):
        self._lock = ExitStack()  # one booted systemd at a time on this machine, across workers and suites
        self._lock.enter_context(machine_lock(BOOTS))
        try:
            self._boot(etc, log)
        except BaseException:
            self._lock.close()
            raise

    def _boot(self, etc: Path, log: Path) -> None:
        binds = {p: p for p in (sys.prefix, sys.base_prefix) if not p.startswith("/usr/")}
        binds[str(REPO)] = SOURCE  # where it is, not under /tmp, which the unit's PrivateTmp= hides
        tops = sorted({"/" + p.split("/")[1] for p in binds.values()})  # reachable by the service user, as on a host
        docker = ["--bind=/var/run/docker.sock:/run/docker.sock"] if os.path.exists("/var/run/docker.sock") else []
        self.log = open(log, "w")
        self.proc = subprocess.Popen(
            [NSPAWN, "-D", "/", "--volatile=yes", "--register=no", "--keep-unit", "--private-network",
             "--console=passive", f"--machine=panda-{uuid.uuid4().hex[:8]}", f"--bind={etc}:/etc",
             *docker, *[f"--tmpfs={top}:mode=0755" for top in tops], *[f"--bind-ro={p}:{inside}" for p, inside in sorted(binds.items())], "-b"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.leader = wait_until(self._init, 30, what="the container's systemd")

    def _init(self) -> int | None:
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            return next((int(pid) for pid in children if Path(f"/proc/{pid}/exe").resolve() == Path(SYSTEMD)))
        except (OSError, StopIteration):
            return None

    def run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(["nsenter", "-t", str(self.leader), "-a", "env", f"PYTHONPATH={SOURCE}", *argv],
                              capture_output=True, text=True, timeout=timeout)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return self.run(sys.executable, "-m", "panda_tui", *args, "--config", CONFIG, "--db", DB)

    def show(self, unit: str = "panda-tui") -> dict[str, str]:
        out = self.run("systemctl", "show", unit, "-p", "ActiveState,SubState,Result,NRestarts,MainPID,"
                       "StatusText").stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def journal(self, unit: str = "panda-tui") -> str:
        return self.run("journalctl", "-u", unit, "-o", "cat", "--no-pager").stdout

    def runs(self, name: str) -> list[dict]:
        out = self.cli("executions", name, "--json")
        return json.loads(out.stdout) if out.returncode == 0 else []

    def close(self) -> None:
        if self.proc.poll() is None:
            self.run("systemctl", "poweroff", timeout=30)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.kill(self.leader, signal.SIGKILL)  # the container's PID 1: its whole PID namespace ends
                self.proc.wait(30)
        self.log.close()
        self._lock.close()


def etc_for(tmp_path: Path, image: str | None) -> Path:
    """An /etc holding only what the test needs: users, the printed unit (enabled), a drop-in, jobs.toml."""
    etc = tmp_path / "etc"
    (etc / "systemd/system/multi-user.target.wants").mkdir(parents=True)
    (etc / "systemd/system/panda-tui.service.d").mkdir()
    (etc / "panda-tui").mkdir()
    (etc / "machine-id").write_text(uuid.uuid4().hex + "\n")  # not a first boot: no presets enable the host's units
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n"
                                "panda:x:999:999:panda-tui:/nonexistent:/usr/sbin/nologin\n")
    docker_gid = os.stat("/var/run/docker.sock").st_gid if os.path.exists("/var/run/docker.sock") else 998
    (etc / "group").write_text(f"root:x:0:\npanda:x:999:\ndocker:x:{docker_gid}:\n")
    unit = run_cli("systemd-unit", "--user", "panda")  # strict hardening, the default paths
    assert unit.returncode == 0, unit.stderr
    (etc / "systemd/system/panda-tui.service").write_text(unit.stdout)
    (etc / "systemd/system/multi-user.target.wants/panda-tui.service").symlink_to("../panda-tui.service")
    (etc / "systemd/system/panda-tui.service.d/test.conf").write_text(
        f"[Service]\nEnvironment=PYTHONPATH={SOURCE} {STALL_VARIABLE}=/var/lib/panda-tui/stall\n"
        f"WatchdogSec={WATCHDOG_SEC}\nRestartSec=1\n{hidden_by_private_tmp()}")
    tables = [job("tick", "@every 1s"),
              job("long", "@yearly", f"echo begin; while [ ! -e {GO} ]; do sleep 0.1; done; echo done"),
              job("confined", "@yearly", "grep -E '^(NoNewPrivs|CapEff)' /proc/self/status; touch /home/probe")]
    if image:
        tables.append(job("boxed", "@yearly", ["echo", "hello from a container"], image=image,
                          network_mode="none", pull="never"))
    (etc / "panda-tui/jobs.toml").write_text("\n".join(tables))
    return etc


def finished(container: Container, name: str) -> dict | None:
    runs = container.runs(name)
    return runs[0] if runs and runs[0]["status"] not in ("queued", "running") else None


def test_the_unit_under_a_real_systemd_ready_confined_watchdog_restart_and_a_run_that_survives(tmp_path, request):
    if reason := missing():
        pytest.skip(reason)
    try:
        image = request.getfixturevalue("busybox_image")
    except pytest.skip.Exception:
        image = None  # no Docker Engine here: the rest still runs
    container = Container(etc_for(tmp_path, image), tmp_path / "nspawn.log")
    try:
        wait_until(lambda: container.show().get("ActiveState") == "active", 60, what="panda-tui active")
        journal = container.journal()
        # Type=notify: systemd calls it started only once the daemon said READY=1, after it took the lease
        assert journal.index('"event": "lease_acquired"') < journal.index("Started panda-tui.service")
        assert re.fullmatch(r"\d jobs · \d running · \d failing", container.show()["StatusText"])

        assert container.cli("trigger", "confined").returncode == 0
        run = wait_until(lambda: finished(container, "confined"), 30, what="the confined job")
        assert run["status"] == "failed"  # ProtectHome=read-only reaches local jobs too
        log = container.cli("logs", "confined", "--latest").stdout
        assert "Read-only file system" in log, log  # and it can gain nothing: no privileges, no capabilities
        assert re.search(r"NoNewPrivs:\s+1\n", log) and re.search(r"CapEff:\s+0{16}\n", log), log

        if image:
            assert container.cli("trigger", "boxed").returncode == 0
            run = wait_until(lambda: finished(container, "boxed"), 60, what="the Docker job")
            assert run["status"] == "succeeded", run  # SupplementaryGroups=docker, through a read-only /run
            assert "hello from a container" in container.cli("logs", "boxed", "--latest").stdout

        assert container.cli("trigger", "long").returncode == 0
        wait_until(lambda: container.runs("long") and container.runs("long")[0]["status"] == "running", 30)
        first_pid = container.show()["MainPID"]
        container.run("sh", "-c", "echo 600 > /var/lib/panda-tui/stall")  # the loop hangs for ten minutes
        wait_until(lambda: int(container.show().get("NRestarts") or 0) >= 1, 10 * WATCHDOG_SEC,
                   what="a watchdog restart")
        wait_until(lambda: container.show().get("ActiveState") == "active", 60, what="active again")
        assert container.show()["MainPID"] != first_pid
        journal = container.journal()
        assert "Failed with result 'watchdog'" in journal and "status=6/ABRT" in journal
        assert re.search(r"supervision\.py\", line \d+ in stall", journal)  # faulthandler: where it hung

        # KillMode=process: the watchdog killed the daemon, not the run; the next daemon re-attached it, and
        # only then does the run go on to its end (a fixed sleep in the job raced a slow restart)
        wait_until(lambda: '"event": "adopted", "job": "long"' in container.journal(), 60, what="long adopted")
        container.run("touch", GO)
        run = wait_until(lambda: finished(container, "long"), 60, what="the long run")
        assert run["status"] == "succeeded" and len(container.runs("long")) == 1, container.runs("long")
        log = container.cli("logs", "long", "--latest").stdout
        assert "begin" in log and "done" in log, log

        assert container.run("systemctl", "stop", "panda-tui").returncode == 0
        state = container.show()
        assert (state["ActiveState"], state["Result"]) == ("inactive", "success"), state
        assert '"event": "stopped"' in container.journal().split("Stopping panda-tui.service")[-1]
    finally:
        container.close()


def test_paths_with_spaces_percent_and_dollar_reach_the_daemon_as_written(tmp_path):
    """systemd.syntax(7): quoted words, %% for %, $$ for $. systemd itself reads the unit: the daemon starts on
    a database in a folder named with all three, and systemctl shows the very paths."""
    if reason := missing():
        pytest.skip(reason)
    etc = etc_for(tmp_path, None)
    folder = etc / "panda tui 100% $HOME"
    (folder / "state").mkdir(parents=True)
    os.chown(folder / "state", 999, 999)  # panda, in the container's /etc/passwd
    (folder / "jobs.toml").write_text(job("tick", "@every 1s"))
    config, db = "/etc/panda tui 100% $HOME/jobs.toml", "/etc/panda tui 100% $HOME/state/panda.db"
    unit = run_cli("systemd-unit", "--user", "panda", "--config", config, "--db", db)
    assert unit.returncode == 0, unit.stderr
    (etc / "systemd/system/panda-tui.service").write_text(unit.stdout)
    container = Container(etc, tmp_path / "nspawn.log")
    try:
        wait_until(lambda: container.show().get("ActiveState") == "active", 60, what="panda-tui active")
        argv = container.run("cat", f"/proc/{container.show()['MainPID']}/cmdline").stdout.split("\0")
        assert argv[-6:-1] == ["daemon", "--config", config, "--db", db], argv
        # /etc is read-only under ProtectSystem=strict but for ReadWritePaths=: the state folder, whole
        runs = lambda: container.run(sys.executable, "-m", "panda_tui", "executions", "tick", "--json",  # noqa: E731
                                     "--config", config, "--db", db)
        wait_until(lambda: runs().returncode == 0 and json.loads(runs().stdout), 30, what="tick recorded there")
        assert (folder / "state" / "panda.db").exists()
    finally:
        container.close()
