from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings

from tests.machine_locks import SECOND_ENGINES, held_file, machine_lock, unused
from tests.swarm_hold import SwarmHold

REPO = Path(__file__).resolve().parent.parent

# CI (and a plain `pytest`) replays the same examples, so a red build is never a coin toss; explore new
# ones with HYPOTHESIS_PROFILE=explore (what found the NUL and DEL cases in crontab import).
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# Under pytest-xdist (pyproject: -n with --dist loadgroup), the tests of these groups share one of this
# machine's resources beyond a file or a port: they run on one worker, one after another.
# (Across processes, and across suites, tests/machine_locks.py makes them wait for each other; the groups
# keep a worker from idling at a lock that the other worker holds.)
SERIAL_FILES = {
    "systemd": ("test_systemd_boot.py", "test_systemd_serve_boot.py"),  # systemd as PID 1 over this /usr
}


def serial_group(item) -> str | None:
    """The tests marked `swarm` (the engine's swarm mode, the loopback swarm ports), or of SERIAL_FILES."""
    if item.get_closest_marker("swarm"):
        return "swarm"
    path = item.nodeid.split("::", 1)[0]
    return next((group for group, files in SERIAL_FILES.items() if path.endswith(files)), None)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the xdist_group marks into the node ids
def pytest_collection_modifyitems(config, items):
    # the longest first (those marked `slow`, in their order), so that -n 4 ends on short tests on every
    # worker, not with workers idle while one runs a long test that came last
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    swarm = [item for item in items if item.get_closest_marker("swarm")]
    if swarm:  # one after another, where the first stood: the swarm is made once and left after the last
        first = items.index(swarm[0])
        rest = [item for item in items if not item.get_closest_marker("swarm")]
        items[:] = rest[:first] + swarm + rest[first:]
    for item in items:
        if group := serial_group(item):
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture
def write_toml(tmp_path):
    """Write a jobs.toml from a dedented string; returns its path."""

    def write(text: str, name: str = "jobs.toml") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return str(path)

    return write


@pytest.fixture
def local_zone(monkeypatch):
    """local_zone("Asia/Tokyo"): the process's local time zone for this test (what screens and tables show
    times in); back to the machine's after it."""
    import time

    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def db_path(tmp_path) -> str:
    return str(tmp_path / "panda.db")


def run_cli(*args: str, env: dict | None = None, timeout: float = 60, cwd: str | None = None,
            input: str | None = None) -> subprocess.CompletedProcess:
    """Run the real panda-tui command in a subprocess."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "panda_tui", *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=cwd, input=input)


@pytest.fixture
def cli():
    return run_cli


BUSYBOX_IMAGE = "panda-test-busybox:latest"


def docker_client_or_reason():
    try:
        import docker
        client = docker.from_env(timeout=10)
        client.ping()
        return client, None
    except Exception as exc:  # any failure means: no engine here
        return None, f"no reachable Docker Engine ({type(exc).__name__}: {str(exc)[:120]})"


@pytest.fixture(scope="session")
def docker_client():
    client, reason = docker_client_or_reason()
    if client is None:
        if os.environ.get("PANDA_REQUIRE_DOCKER") == "1":
            pytest.fail(f"PANDA_REQUIRE_DOCKER=1 but {reason}")
        pytest.skip(reason)
    return client


@pytest.fixture(scope="session")
def busybox_image(docker_client, tmp_path_factory) -> str:
    """FROM scratch + Debian's static busybox; built once, never pulled."""
    import shutil
    try:
        docker_client.images.get(BUSYBOX_IMAGE)
        return BUSYBOX_IMAGE
    except Exception:
        pass
    source = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(source):
        pytest.fail("busybox-static is not installed (apt-get install busybox-static)")
    ctx = tmp_path_factory.mktemp("busybox-image")
    shutil.copy(source, ctx / "busybox")
    (ctx / "Dockerfile").write_text(
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n")
    docker_client.images.build(path=str(ctx), tag=BUSYBOX_IMAGE, rm=True, pull=False)
    return BUSYBOX_IMAGE


class SecondEngine:
    """A second dockerd with its own socket, data root and exec root: a stand-in for a remote engine, or
    for another server of a swarm. With `hostname`, it runs in a UTS namespace of its own under that name,
    so that a swarm tells its node from this machine's."""

    def __init__(self, root: str, hostname: str | None = None):
        self.root = root
        self.host = f"unix://{root}/docker.sock"
        self.hostname = hostname
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        import docker
        os.makedirs(self.root, exist_ok=True)
        pidfile = f"{self.root}/docker.pid"
        if os.path.exists(pidfile):
            os.remove(pidfile)
        named = ["unshare", "--uts", "sh", "-c", f'hostname {self.hostname} && exec "$@"', "sh"] if self.hostname else []
        self.proc = subprocess.Popen(
            [*named, "dockerd", "--host", self.host, "--data-root", f"{self.root}/data", "--exec-root",
             f"{self.root}/exec", "--pidfile", pidfile, "--bridge=none", "--iptables=false", "--ip-masq=false"],
            stdout=open(f"{self.root}/dockerd.log", "a"), stderr=subprocess.STDOUT)
        import time
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                docker.DockerClient(base_url=self.host, timeout=5).ping()
                return
            except Exception:
                time.sleep(0.3)
        raise RuntimeError(f"second dockerd did not start: see {self.root}/dockerd.log")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)

    def client(self):
        import docker
        return docker.DockerClient(base_url=self.host, timeout=30)

    def load(self, docker_client, image: str) -> None:
        """`docker save | docker -H … load`: the image, from this machine's engine (nothing is pulled)."""
        self.client().images.load(b"".join(docker_client.images.get(image).save(named=True)))


@contextmanager
def engine_at(docker_client, image: str, hostname: str | None = None):
    """A started SecondEngine holding `image`, stopped and deleted afterwards. Its folder is locked while it
    lives (a flock, which dies with this process); whatever a killed test run left is removed first."""
    import shutil
    import tempfile
    if not shutil.which("dockerd"):
        pytest.skip("dockerd is not installed")
    with machine_lock(SECOND_ENGINES):  # no other process cleans up between our mkdtemp and our lock
        remove_stale_engines()
        root = tempfile.mkdtemp(prefix=SECOND_ENGINE_PREFIX, dir="/tmp")  # short: unix socket paths are limited
        owner = held_file(f"{root}/{OWNER_LOCK}")
        owner.__enter__()
    engine = SecondEngine(root, hostname)
    try:
        engine.start()
        engine.load(docker_client, image)
        yield engine
    finally:
        engine.stop()
        unmount_under(root)
        owner.__exit__(None, None, None)
        shutil.rmtree(root, ignore_errors=True)


SECOND_ENGINE_PREFIX = "pd2-"
OWNER_LOCK = "owner.lock"


def remove_stale_engines() -> list[str]:
    """Stop and delete the second dockerds of test runs that died (killed pytest, lost xdist worker): a
    /tmp/pd2-* folder whose owner lock nobody holds and whose dockerd, if any, no living pytest started.
    Call under the SECOND_ENGINES machine lock. Returns the folders removed."""
    import glob
    import shutil
    import signal
    import time
    removed = []
    for root in glob.glob(f"/tmp/{SECOND_ENGINE_PREFIX}*"):
        if not os.path.isdir(root) or not unused(f"{root}/{OWNER_LOCK}"):
            continue
        pids = _processes_under(root)
        if any(_parent_is_python(pid) for pid in pids):
            continue  # a test run from before these locks, still alive: its engine, not ours to end
        for pid in pids:
            _signal(pid, signal.SIGTERM)  # dockerd stops its containerd and containers on TERM
        deadline = time.monotonic() + 60
        while (left := _processes_under(root)) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in left:
            _signal(pid, signal.SIGKILL)
        unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)
        removed.append(root)
    return removed


def _processes_under(root: str) -> list[int]:
    """Processes whose command line names a path under `root` (its dockerd and that dockerd's containerd)."""
    found = []
    needle = os.fsencode(root + "/")
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            if needle in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(int(entry))
        except OSError:
            continue
    return found


def _parent_is_python(pid: int) -> bool:
    try:
        ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        return b"python" in Path(f"/proc/{ppid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return False


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def unmount_under(root: str) -> None:
    """A stopped dockerd that was in a swarm leaves its ingress network's namespace mounted under its exec
    root: unmount it, so the folder can go."""
    with open("/proc/mounts") as mounts:
        points = [line.split()[1] for line in mounts if line.split()[1].startswith(root + "/")]
    for point in sorted(points, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


@pytest.fixture(scope="session")
def second_engine(docker_client, busybox_image):
    with engine_at(docker_client, busybox_image) as engine:
        yield engine


SWARM_HOLD = SwarmHold()


@pytest.fixture
def swarm_lock(request):
    """The machine lock on the engine's swarm mode and the loopback swarm ports (127.0.0.x:2377), held from the
    first test marked `swarm` to the last (they run one after another): xdist workers and a second suite from
    another clone wait here instead of fighting over one swarm. What a killed run left is cleaned up first."""
    if request.node.get_closest_marker("swarm") is None:
        pytest.fail("a test that uses the swarm must be marked `swarm` (kept together, on one worker)")
    SWARM_HOLD.take()


@pytest.fixture
def swarm(docker_client, busybox_image, swarm_lock):
    """This machine's engine as a single-node swarm manager (advertised on 127.0.0.1). The swarm is made once for
    the tests marked `swarm` and left after the last of them; a swarm the user made is used and left as it was
    (tests/swarm_hold.py says how the two are told apart)."""
    client = SWARM_HOLD.manager()
    if client is None:
        state = docker_client.info().get("Swarm") or {}
        pytest.skip(f"this engine is in a swarm ({state.get('LocalNodeState')}) but not a manager")
    return client


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the last test marked `swarm` (and its fixtures) in a row: leave the swarm, free the lock."""
    yield
    if SWARM_HOLD.held and (nextitem is None or nextitem.get_closest_marker("swarm") is None):
        SWARM_HOLD.release()


def pytest_sessionfinish(session):
    SWARM_HOLD.release()


@pytest.fixture(autouse=True)
def reap_spawned():
    """Whatever a test started with tests.procs.spawn dies with it, even when it fails."""
    from tests.procs import mark, reap
    since = mark()
    yield
    reap(since)


@pytest.fixture(scope="session", autouse=True)
def no_orphaned_local_runs(tmp_path_factory):
    """Tests kill -9 daemons on purpose; a local run they leave behind lives on under its keeper (that is
    the point). End any such run under this session's temporary directory, so none outlives the tests."""
    yield
    from tests.procs import reap
    reap()  # what module fixtures started and left
    import signal
    base = os.fsencode(str(tmp_path_factory.getbasetemp()))
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            if b"panda-keeper" in argv and argv[argv.index(b"panda-keeper") + 1].startswith(base):
                os.killpg(int(entry), signal.SIGKILL)
        except (OSError, IndexError):
            continue


@contextmanager
def ledger_on(db: str):
    """A Ledger on the file, for tests that write runs the way a scheduler does."""
    from panda_tui.store.db import Database
    from panda_tui.store.ledger import Ledger
    database = Database(db)
    try:
        yield Ledger(database)
    finally:
        database.close()
