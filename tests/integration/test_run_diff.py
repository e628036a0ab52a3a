"""What each run ran with is stored, and `panda-tui diff` and the API tell what changed since the last good
run: real runs (`panda-tui run`), a real store, a real `serve` on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3

import httpx
import pytest

from tests.conftest import run_cli
from tests.integration.web_server import Served
from tests.jobfiles import job, write_jobs

GOOD = job("backup", command="echo took 1.2s; echo rows=10", env={"MODE": "fast", "OLD": "x"})
BAD = job("backup", command="echo took 9.1s; echo connection refused to 10.0.0.5 >&2; exit 3", timeout="5m",
          env={"MODE": "slow-and-private", "EXTRA": "1"})


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A good run, then jobs.toml changed and a failed run, then a second failed run with the same config."""
    tmp = tmp_path_factory.mktemp("diff")
    cfg, db = write_jobs(tmp, GOOD)
    assert run_cli("run", "backup", "--config", cfg, "--db", db).returncode == 0
    write_jobs(tmp, BAD)
    for _ in range(2):
        assert run_cli("run", "backup", "--config", cfg, "--db", db).returncode == 3
    return cfg, db


def test_each_run_stores_what_it_ran_with_once_per_distinct_spec_and_no_env_value(store):
    _cfg, db = store
    conn = sqlite3.connect(db)
    try:
        ids = [r[0] for r in conn.execute("SELECT spec_id FROM runs ORDER BY id")]
        specs = [json.loads(r[0]) for r in conn.execute("SELECT spec FROM run_specs ORDER BY id")]
        dump = "\n".join(conn.iterdump())
    finally:
        conn.close()
    assert ids == [1, 2, 2] and len(specs) == 2  # the two failed runs share one row
    assert specs[1]["timeout"] == 300.0 and sorted(specs[1]["env"]) == ["EXTRA", "MODE"]
    assert specs[1]["env"]["MODE"].startswith("sha256:")
    assert "slow-and-private" not in dump  # an env value is only ever a hash


def test_diff_tells_config_env_exit_code_and_new_log_lines(store):
    cfg, db = store
    out = run_cli("diff", "backup", "--config", cfg, "--db", db)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "run 3 (failed) against run 1 (succeeded, the last good one)"
    assert "  timeout: 1h → 5m" in lines and "  env MODE: value changed" in lines
    assert "  env EXTRA: added" in lines and "  env OLD: removed" in lines and "  exit code: 0 → 3" in lines
    assert lines[lines.index("new in the log:") + 1] == "  connection refused to 10.0.0.5"
    assert "took" not in out.stdout.split("new in the log:")[1]  # 9.1s vs 1.2s: the same line, normalised
    assert "slow-and-private" not in out.stdout
    as_json = json.loads(run_cli("diff", "backup", "2", "--against", "1", "--json", "--config", cfg, "--db", db).stdout)
    assert (as_json["failed_run"], as_json["good_run"], as_json["config_known"]) == (2, 1, True)
    assert {"what": "env MODE", "before": None, "after": None, "note": "value changed"} in as_json["changes"]


def test_diff_of_runs_with_the_same_config_says_nothing_differs_but_the_log(store):
    cfg, db = store
    out = run_cli("diff", "backup", "3", "--against", "2", "--config", cfg, "--db", db)
    assert out.stdout.splitlines()[1:] == ["  nothing differs in config, image, host, exit code or duration",
                                           "no line in the log is new"]


@pytest.mark.parametrize("args, code, message", [
    (("nope",), 2, 'no job named "nope"'),
    (("backup", "99"), 2, 'no run 99 of "backup"'),
    (("backup", "3", "--against", "98"), 2, 'no run 98 of "backup" to compare with'),
])
def test_diff_of_an_unknown_job_or_run_is_one_line_and_exit_2(store, args, code, message):
    cfg, db = store
    out = run_cli("diff", *args, "--config", cfg, "--db", db)
    assert (out.returncode, out.stderr) == (code, f"error: {message}\n")


def test_a_run_with_no_good_run_before_it_says_so(store):
    cfg, db = store
    out = run_cli("diff", "backup", "1", "--config", cfg, "--db", db)
    lines = out.stdout.splitlines()
    assert out.returncode == 0 and lines[0] == "run 1 (succeeded): no successful run to compare with; how it ended:"
    assert lines[1] == "  exit code: 0"  # a fact of this run, not a change (new-user test read it as one)


def test_the_api_gives_the_same_diff_with_a_summary(store):
    cfg, db = store
    server = Served(cfg, db)
    try:
        with httpx.Client(base_url=server.url, headers=server.auth, timeout=30) as http:
            got = http.get("/api/jobs/backup/diff")
            assert got.status_code == 200, got.text
            body = got.json()
            assert (body["failed_run"], body["good_run"]) == (3, 1)
            assert "env MODE: value changed" in body["summary"]
            one = http.get("/api/jobs/backup/runs/2/diff?against=1").json()
            assert (one["failed_run"], one["good_run"]) == (2, 1)
            assert http.get("/api/jobs/backup/runs/99/diff").status_code == 404
            assert http.get("/api/jobs/other/runs/2/diff").status_code == 404
            assert http.get("/api/jobs/backup/runs/2/diff?against=x").status_code == 400
    finally:
        server.stop()
    cli = json.loads(run_cli("diff", "backup", "--json", "--config", cfg, "--db", db).stdout)
    assert cli["changes"] == body["changes"] and cli["new_lines"] == body["new_lines"]


def test_a_container_run_records_its_image_and_diff_tells_an_image_that_changed(tmp_path, docker_client,
                                                                              busybox_image):
    """The tag stays, the image under it changes (a rebuilt `:latest`): the diff names the image ids."""
    tag = "panda-test-busybox:diff-test"
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text(f"FROM {busybox_image}\nLABEL panda.test=diff\n")
    rebuilt, _ = docker_client.images.build(path=str(tmp_path / "ctx"), tag=tag, rm=True, pull=False)
    original = docker_client.images.get(busybox_image)
    try:
        docker_client.images.get(busybox_image).tag(tag)  # first the original image under the tag
        cfg, db = write_jobs(tmp_path, job("box", image=tag, command=["sh", "-c", "echo ok"], network_mode="none",
                                           pull="never"))
        assert run_cli("run", "box", "--config", cfg, "--db", db).returncode == 0
        rebuilt.tag(tag)  # then the rebuilt one
        write_jobs(tmp_path, job("box", image=tag, command=["sh", "-c", "echo no such table >&2; exit 1"],
                                 network_mode="none", pull="never"))
        assert run_cli("run", "box", "--config", cfg, "--db", db).returncode == 1
        conn = sqlite3.connect(db)
        try:
            images = [r[0] for r in conn.execute("SELECT image_id FROM runs ORDER BY id")]
        finally:
            conn.close()
        assert images == [original.id, rebuilt.id]
        out = run_cli("diff", "box", "--config", cfg, "--db", db).stdout
        assert f"  image: {original.id.split(':')[1][:12]} → {rebuilt.id.split(':')[1][:12]}" in out.splitlines()
    finally:
        docker_client.images.remove(tag, force=True)
