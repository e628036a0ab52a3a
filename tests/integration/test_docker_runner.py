"""The Docker runner against a real engine and a locally built busybox image."""

from __future__ import annotations

import base64
import time

import pytest

from panda_tui.store.db import db_id
from tests.integration.helpers import Bench

pytestmark = pytest.mark.docker


def toml(image: str, command: str, extra: str = "", name: str = "c") -> str:
    return (f'[jobs.{name}]\nschedule = "@daily"\nimage = "{image}"\nnetwork_mode = "none"\n'
            f"command = {command}\n{extra}\n")


@pytest.fixture
async def bench(tmp_path, busybox_image):
    made = []

    def make(command: str, extra: str = "", secrets_file: str | None = None) -> Bench:
        b = Bench(tmp_path, toml(busybox_image, command, extra), secrets_file)
        made.append(b)
        return b

    yield make
    for b in made:
        await b.close()


async def test_the_container_is_removed_once_its_result_is_safe(bench, docker_client):
    b = bench('["sh", "-c", "echo done; exit 3"]')
    run = await b.run("c")
    assert (run.status, run.exit_code, b.lines(run.id, "out")) == ("failed", 3, ["done"])
    ident = db_id(b.sched.ledger.conn)  # run ids repeat across databases: other tests' containers share them
    left = docker_client.containers.list(all=True, filters={"label": [f"panda.run_id={run.id}", f"panda.db={ident}"]})
    assert left == []


async def test_replace_policy_with_real_containers(bench):
    import asyncio
    b = bench("""'''echo up; sleep 60'''""", 'concurrency = "replace"\nkill_grace = "1s"')
    first = b.start("c")
    while b.lines(first.run_id, "out") != ["up"]:
        await asyncio.sleep(0.05)
    b.sched.flight.dispatch(b.sched.config.jobs["c"], time.time() + 1, "schedule")
    await first.task
    second = b.sched.flight.executions("c")[0]  # the replacement starts as the first one's record is made
    assert second.run_id != first.run_id
    assert b.get(first.run_id).status == "killed"
    assert b.get(first.run_id).reason == f"replaced by run {second.run_id}"
    second.kill("test over")
    await second.task


async def test_missing_image_with_pull_never(tmp_path, docker_client):
    b = Bench(tmp_path, toml("panda-test-no-such-image:1", '"true"', 'pull = "never"'))
    run = await b.run("c")
    assert run.status == "failed"
    assert run.reason == ("image 'panda-test-no-such-image:1' is not on this engine and pull = \"never\": "
                          "build or load it there (docker build -t / docker load)")
    await b.close()


async def test_engine_socket_that_is_not_there(tmp_path):
    b = Bench(tmp_path, toml("busybox", '"true"', 'docker_host = "unix:///tmp/panda-no-such.sock"'))
    run = await b.run("c")
    assert run.status == "failed"
    assert run.reason.startswith("docker engine unreachable: ")
    assert "Traceback" not in run.reason
    up, error = b.sched.ctx.runners.docker("unix:///tmp/panda-no-such.sock").ping()
    assert not up and error.startswith("docker engine unreachable")
    await b.close()


async def test_log_cap_keeps_memory_bounded_and_ends_with_a_marker(bench):
    b = bench("""'''seq 1 20000'''""", "log_max_lines = 1000")
    run = await b.run("c")
    lines = b.lines(run.id)
    assert run.status == "succeeded"
    assert lines[:3] == ["1", "2", "3"] and lines[999] == "1000"
    assert lines[-1] == "[panda] 19000 lines (0.1 MiB) dropped after the log cap"
    assert run.out_lines == 20000 and run.log_dropped == 19000


async def test_secrets_are_masked_and_never_reach_the_database(tmp_path, busybox_image):
    secret = "s3cr3t-Value-42"
    sfile = tmp_path / "secrets.env"
    sfile.write_text(f"API_KEY={secret}\nCERT=\"first-line-AAAA\\nsecond-line-BBBB\"\n")
    sfile.chmod(0o600)
    b64 = base64.b64encode(secret.encode()).decode()
    b = Bench(tmp_path, toml(busybox_image, '''\'\'\'echo key=$API_KEY; echo "$API_KEY" | base64; echo "$CERT"\'\'\'''',
                              'secrets = ["API_KEY", "CERT"]'), str(sfile))
    run = await b.run("c")
    out = b.lines(run.id, "out")
    assert out[0] == "key=***"
    assert out[2:] == ["***", "***"]
    assert secret not in "".join(out) and "first-line-AAAA" not in "".join(out)
    await b.close()
    for suffix in ("", "-wal", "-shm"):
        path = tmp_path / f"panda.db{suffix}"
        if path.exists():
            data = path.read_bytes()
            for needle in (secret, b64.rstrip("="), "first-line-AAAA", "second-line-BBBB"):
                assert needle.encode() not in data, (suffix, needle)


async def test_container_options_reach_the_container(bench, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "hello").write_text("from the host\n")
    cgroup = ("cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; "
              "cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us")
    b = bench(f"""'''id -u; pwd; cat /data/hello; {cgroup}'''""",
              f'user = "1234"\nworkdir = "/tmp"\nvolumes = ["{shared}:/data:ro"]\nmem_limit = "64m"\ncpus = 0.5')
    run = await b.run("c")
    assert run.status == "succeeded", run.reason
    lines = b.lines(run.id)
    assert lines[:3] == ["1234", "/tmp", "from the host"]
    assert lines[3] == str(64 * 1024 * 1024)
    assert lines[4].split()[0] == "50000"  # cgroup v2 "50000 100000", or v1's quota alone


async def test_pull_always_pulls_even_a_present_image_and_fails_plainly(tmp_path, docker_client, busybox_image):
    """The image is tagged for a registry on a closed loopback port: `missing` runs it as it is here,
    `always` must try to pull and fail with a plain reason (no traffic leaves this machine)."""
    tag = "127.0.0.1:9/panda-busybox:1"
    docker_client.images.get(busybox_image).tag(tag)
    try:
        present = Bench(tmp_path, toml(tag, '"true"', 'pull = "missing"'))
        assert (await present.run("c")).status == "succeeded"
        await present.close()
        always = Bench(tmp_path, toml(tag, '"true"', 'pull = "always"', name="a"))
        run = await always.run("a")
        assert run.status == "failed"
        assert run.reason.startswith(f"image pull failed for {tag!r}: ") and "Traceback" not in run.reason
        await always.close()
    finally:
        docker_client.images.remove(tag)


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
async def test_a_log_stream_cut_mid_run_is_read_again_whole(tmp_path, busybox_image, reset):
    """An engine reached through a proxy that drops the attached stream mid-run (cleanly, or with a reset):
    the rest is read from the logs endpoint, and the stored log is whole, in order, without duplicates."""
    from tests.integration.engine_proxy import EngineProxy
    proxy = EngineProxy()
    proxy.cut_attach_after, proxy.reset = 600, reset
    b = Bench(tmp_path, toml(busybox_image, """'''for i in $(seq 1 60); do echo line$i; echo err$i >&2;
                                               usleep 20000; done; printf tail; exit 4'''""",
                             f'docker_host = "{proxy.url}"'))
    try:
        run = await b.run("c")
        assert proxy.cuts == 1
        assert (run.status, run.exit_code) == ("failed", 4)
        assert b.lines(run.id, "out") == [f"line{i}" for i in range(1, 61)] + ["tail"]
        assert b.lines(run.id, "err") == [f"err{i}" for i in range(1, 61)]
        assert not any("broke" in text for text in b.lines(run.id, "sys"))
    finally:
        await b.close()
        proxy.close()


async def test_a_cut_log_stream_that_cannot_be_read_again_says_so(tmp_path, busybox_image, docker_client):
    from tests.integration.engine_proxy import EngineProxy
    proxy = EngineProxy()
    proxy.cut_attach_after, proxy.refuse_after_cut = 600, True
    b = Bench(tmp_path, toml(busybox_image, """'''for i in $(seq 1 60); do echo line$i; usleep 20000; done'''""",
                             f'docker_host = "{proxy.url}"'))
    ident = db_id(b.sched.ledger.conn)
    try:
        run = await b.run("c")
        assert proxy.cuts == 1
        out = b.lines(run.id, "out")
        assert 0 < len(out) < 60 and out == [f"line{i}" for i in range(1, len(out) + 1)]
        assert any(text.startswith("[panda] the log stream broke (") and "later lines may be missing" in text
                   for text in b.lines(run.id, "sys")), b.lines(run.id, "sys")
    finally:
        await b.close()
        proxy.close()
        for container in docker_client.containers.list(all=True, filters={"label": f"panda.db={ident}"}):
            container.remove(force=True)  # the proxy refused the removal too (only ours: a suite may run beside)


def test_the_log_endpoint_keeps_stdout_and_stderr_apart_and_says_what_is_missing(docker_client, busybox_image):
    """The logs endpoint read through public APIs (runners/frames.open_log): each stream's bytes keep their
    stream number, in order, and a container that is not there is the SDK's own NotFound."""
    import docker.errors

    from panda_tui.runners.frames import open_log, parse_frames
    container = docker_client.containers.run(busybox_image, ["sh", "-c", "echo o1; echo e1 >&2; echo o2"],
                                             network_mode="none", detach=True, labels={"panda.job": "frames"})
    try:
        container.wait(timeout=30)
        response = open_log(docker_client.api, "containers", container.id, follow=False)
        try:
            frames = list(parse_frames(response.raw.read))
        finally:
            response.close()
        out = b"".join(data for stream, data in frames if stream == 1)
        err = b"".join(data for stream, data in frames if stream == 2)
        assert (out, err) == (b"o1\no2\n", b"e1\n")
        with pytest.raises(docker.errors.NotFound):
            open_log(docker_client.api, "containers", "panda-no-such-container", follow=False)
    finally:
        container.remove(force=True)
