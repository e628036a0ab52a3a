"""What an attempt looks like as a Swarm service, and what a task's end means for the run: the service spec
holds no secret value, places and bounds the task as the job says, and never restarts it."""

from __future__ import annotations

import json

from panda_tui.config import load_config
from panda_tui.runners.swarm_spec import (SecretRef, command_and_args, jobs_mode_works, none_of, plain_env,
                                          secret_name, service_name, service_spec)
from panda_tui.runners.swarm_task import outcome_of, timestamp

SECRET = "hunter2-is-the-value"


def job(write_toml, extra: str = "", command: str = '"echo $TOKEN"'):
    path = write_toml(f'[jobs."nightly_db.backup"]\nschedule = "@daily"\nimage = "img:1"\nrunner = "swarm"\n'
                      f"command = {command}\n{extra}")
    return load_config(path).jobs["nightly_db.backup"]


def test_the_spec_names_secrets_but_never_holds_their_values(write_toml):
    j = job(write_toml, 'secrets = ["TOKEN"]\nsecrets_env = ["TOKEN"]\nenv = { MODE = "full" }\n')
    env = plain_env({"MODE": "full", "PANDA_JOB": j.name, "TOKEN": SECRET}, j.secrets)
    ref = SecretRef("sid1", secret_name("abcdef0123", 7, 0, "TOKEN"), "TOKEN")
    spec = service_spec(j, env, {"panda.run_id": "7"}, "svc", [ref])
    assert SECRET not in json.dumps(spec)
    container = spec["task_template"]["ContainerSpec"]
    assert container["Env"] == ["MODE=full", f"PANDA_JOB={j.name}"]
    assert container["Secrets"] == [{"SecretID": "sid1", "SecretName": "panda-abcdef-7-0-TOKEN",
                                     "File": {"Name": "TOKEN", "UID": "0", "GID": "0", "Mode": 0o444}}]


def test_secrets_env_reads_each_named_file_in_sh_before_the_command(write_toml):
    j = job(write_toml, 'secrets = ["TOKEN", "OTHER"]\nsecrets_env = ["TOKEN"]\n')
    command, args = command_and_args(j)
    assert command == ["sh", "-c", 'TOKEN=$(cat /run/secrets/TOKEN) || exit 126; export TOKEN; exec "$@"', "sh"]
    assert args == ["sh", "-c", "echo $TOKEN"]
    assert command_and_args(job(write_toml, command='["/app", "--x"]')) == (None, ["/app", "--x"])


def test_a_task_runs_once_where_the_job_says_and_within_its_limits(write_toml):
    j = job(write_toml, 'constraints = ["node.role==worker", "node.labels.disk != hdd"]\ncpus = 0.5\n'
                        'memory = "64MiB"\nkill_grace = "7s"\nvolumes = ["/srv/data:/data:ro"]\n')
    spec = service_spec(j, {}, {}, "svc", [])
    template = spec["task_template"]
    assert template["RestartPolicy"] == {"Condition": "none", "MaxAttempts": 0}
    assert template["Placement"] == {"Constraints": ["node.role==worker", "node.labels.disk != hdd"]}
    amounts = {"NanoCPUs": 500_000_000, "MemoryBytes": 64 * 1024 * 1024}
    assert template["Resources"] == {"Limits": amounts, "Reservations": amounts}
    assert template["ContainerSpec"]["StopGracePeriod"] == 7_000_000_000
    assert template["ContainerSpec"]["Mounts"] == [{"Target": "/data", "Source": "/srv/data", "Type": "bind",
                                                    "ReadOnly": True}]
    assert "Networks" not in template  # the node's default network
    assert spec["mode"] == {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 1}}
    assert service_spec(j, {}, {}, "svc", [], jobs_mode=False)["mode"] == {"Replicated": {"Replicas": 1}}


def test_jobs_mode_only_where_the_engine_removes_a_jobs_tasks_with_it():
    assert [jobs_mode_works(v) for v in ("1.41", "1.42", "1.43", "1.47", "2.0", "x")] == \
        [False, False, True, True, True, False]
    assert none_of({"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 1}}) == \
        {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 0}}
    assert none_of({"Replicated": {"Replicas": 1}}) == {"Replicated": {"Replicas": 0}}


def test_names_fit_the_swarm_rules():
    name = service_name("nightly_db.backup" + "x" * 80, 123456, "abcdef0123")
    assert len(name) <= 63 and name.endswith("-123456-abcdef") and "_" not in name and "." not in name
    assert len(secret_name("abcdef0123", 1, 2, "A" * 100)) == 64


def task(state: str, code: int | None = None, err: str | None = None) -> dict:
    status = {"State": state, "Timestamp": "2026-12-02T07:26:16.153475717Z"}
    if code is not None:
        status["ContainerStatus"] = {"ExitCode": code}
    if err:
        status["Err"] = err
    return {"Status": status}


def test_a_tasks_end_as_the_runs_result():
    ended = timestamp("2026-12-02T07:26:16.153475717Z")
    assert abs(ended - 1796196376.153475) < 1e-5
    assert outcome_of(task("complete", 0), "n1", False).exit_code == 0
    failed = outcome_of(task("failed", 3, "task: non-zero exit (3)"), "n1", False)
    assert (failed.exit_code, failed.error, failed.ended_at) == (3, None, ended)
    broken = outcome_of(task("failed", 127, "starting container failed: exec: \"nope\": not found"), "n1", False)
    assert broken.error == 'swarm: starting container failed: exec: "nope": not found on n1'
    gone = outcome_of(task("failed", 0, "No such container: svc.1.abc"), "n1", False)
    assert (gone.exit_code, gone.error) == (None, "swarm: No such container: svc.1.abc on n1")
    assert outcome_of(task("rejected", None, "No such image: img:1"), "n1", False).error == \
        "swarm: the task was rejected on n1: No such image: img:1"
    assert (outcome_of(task("shutdown", 143), "n1", True).exit_code, outcome_of(task("shutdown", 143), "n1", True).error) == (143, None)
    assert "outside panda-tui" in outcome_of(task("shutdown", 143), "n1", False).error
    assert outcome_of(task("orphaned"), "n1", False).lost


def test_a_swarm_run_goes_back_to_the_manager_it_was_started_on(write_toml, tmp_path):
    from panda_tui.runners.registry import Runners
    from panda_tui.store.ledger import Run, RunStatus
    runners = Runners("abcdef0123", str(tmp_path))
    j = job(write_toml, 'docker_host = "unix:///now.sock"\n')
    assert (runners.for_job(j).kind, runners.for_job(j).host) == ("swarm", "unix:///now.sock")
    run = Run(1, j.name, 0.0, 1, "manual", RunStatus.RUNNING, runner="swarm", docker_host="unix:///then.sock")
    assert (runners.for_run(run, j).kind, runners.for_run(run, j).host) == ("swarm", "unix:///then.sock")
    assert runners.for_run(Run(2, j.name, 0.0, 1, "manual", RunStatus.RUNNING, runner="local"), j) is runners.local
