"""New-user test: a job whose image is not on the engine (pull = "never") read `new`, with no hint, until its
first run failed, though `validate` warned. The scheduler's engine check looks its image up; `status` and the
console's detail line say so."""

from __future__ import annotations

from tests.conftest import run_cli
from tests.integration.helpers import Daemon, wait_until
from tests.jobfiles import job, write_jobs

ABSENT = "panda-test-absent:never"


def test_a_pull_never_job_whose_image_is_absent_says_so_before_it_runs(tmp_path, docker_client, busybox_image):
    cfg, db = write_jobs(tmp_path, job("absent", "@yearly", ["true"], image=ABSENT, pull="never"),
                         job("present", "@yearly", ["true"], image=busybox_image, pull="never"))
    daemon = Daemon(cfg, db)
    try:
        wait_until(lambda: "absent: image" in run_cli("status", "--config", cfg, "--db", db).stdout, timeout=60,
                   what="the engine checked")
        out = run_cli("status", "--config", cfg, "--db", db).stdout
        assert (f"absent: image: '{ABSENT}' is not on its engine and pull = \"never\": every run will fail until "
                "it is there") in " ".join(out.split()), out
        assert "present: image" not in out
    finally:
        daemon.stop()
