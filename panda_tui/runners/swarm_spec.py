"""What one attempt looks like as a Swarm service: one task that runs once and is never restarted.

On Engine 24 and later (API 1.43) that is a replicated job. Older engines (20.10, Debian 12's docker.io)
leave a job service's tasks and their containers on the nodes for good once the service is removed
(moby#42789, fixed by swarmkit#3112), so there it is a service of one replica with restart condition none,
which they remove cleanly (the way Ofelia's job-service-run runs jobs).

Pure functions over the Engine API's JSON shapes, so that what reaches the manager can be checked without
one. A secret's value never appears here: the service names its Docker secret, and the task reads the value
from a file under /run/secrets/ (or, where the job asks, `sh` reads that file into the environment)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from panda_tui.config import Job

SECRETS_DIR = "/run/secrets"
MAX_NAME = 63  # a service name is a DNS label
MAX_SECRET_NAME = 64


@dataclass(frozen=True)
class SecretRef:
    """A Docker secret made for one run: its id and name on the swarm, and the file name in the task."""
    id: str
    name: str
    target: str


def service_name(job: str, run_id: int, db_id: str) -> str:
    tail = f"-{run_id}-{db_id[:6]}"
    head = re.sub(r"[^A-Za-z0-9-]", "-", f"panda-{job}")[:MAX_NAME - len(tail)].rstrip("-")
    return head + tail


def secret_name(db_id: str, run_id: int, index: int, target: str) -> str:
    """Per run and per secret: Docker secrets are immutable, so a new value is a new secret."""
    return f"panda-{db_id[:6]}-{run_id}-{index}-{target}"[:MAX_SECRET_NAME]


def command_and_args(job: Job) -> tuple[list[str] | None, list[str] | None]:
    """(Command, Args) of the task. The job's command is the task's arguments, so the image's entrypoint
    stays as `docker run IMAGE COMMAND` keeps it; with `secrets_env`, `sh` becomes the entrypoint and reads
    each named secret's file into the environment before it runs the command."""
    args: list[str] | None
    if isinstance(job.command, str):
        args = ["sh", "-c", job.command]
    else:
        args = list(job.command) if job.command else None
    if not job.secrets_env:
        return None, args
    reads = "".join(f"{name}=$(cat {SECRETS_DIR}/{name}) || exit 126; export {name}; " for name in job.secrets_env)
    return ["sh", "-c", reads + 'exec "$@"', "sh"], args


def service_spec(job: Job, env: Mapping[str, str], labels: Mapping[str, str], name: str,
                 secrets: Sequence[SecretRef], jobs_mode: bool = True) -> dict[str, Any]:
    """What `APIClient.create_service` takes (the body of POST /services/create). `env` must hold no
    secret (see plain_env)."""
    command, args = command_and_args(job)
    container: dict[str, Any] = {
        "Image": job.image, "Env": [f"{k}={v}" for k, v in env.items()], "Labels": dict(labels),
        "StopGracePeriod": int(job.kill_grace * 1e9), "TTY": False, "OpenStdin": False,
        "Secrets": [{"SecretID": s.id, "SecretName": s.name,
                     "File": {"Name": s.target, "UID": "0", "GID": "0", "Mode": 0o444}} for s in secrets],
    }
    for key, value in (("Command", command), ("Args", args), ("Dir", job.workdir), ("User", job.user)):
        if value is not None:
            container[key] = value
    if job.volumes:
        container["Mounts"] = [_mount(v) for v in job.volumes]
    template: dict[str, Any] = {
        "ContainerSpec": container,
        "RestartPolicy": {"Condition": "none", "MaxAttempts": 0},
        "Resources": _resources(job),
        "Placement": {"Constraints": list(job.constraints)} if job.constraints else {},
    }
    if job.network_mode not in ("bridge", "default"):  # none given: the node's default network
        template["Networks"] = [{"Target": job.network_mode}]
    mode = {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 1}} if jobs_mode else {"Replicated": {"Replicas": 1}}
    return {"name": name, "labels": dict(labels), "task_template": template, "mode": mode}


def jobs_mode_works(api_version: str) -> bool:
    """Whether the manager removes a job service's tasks with it (Engine 24, API 1.43, and later)."""
    try:
        major, minor = (int(part) for part in api_version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= (1, 43)


def none_of(mode: Mapping[str, Any]) -> dict[str, Any]:
    """A service's mode asking for no task at all: the manager stops the running one (SIGTERM, then SIGKILL
    after the stop grace period) and forgets it once it has stopped."""
    if "ReplicatedJob" in mode:
        return {"ReplicatedJob": {**mode["ReplicatedJob"], "TotalCompletions": 0}}
    return {"Replicated": {"Replicas": 0}}


def plain_env(env: Mapping[str, str], secret_names: Sequence[str]) -> dict[str, str]:
    """The attempt's environment without its secrets: those reach the task as Docker secrets only."""
    return {k: v for k, v in env.items() if k not in secret_names}


def _resources(job: Job) -> dict[str, Any]:
    """`cpus` and `memory` are both the limit and the reservation: the scheduler places the task only where
    that much is free, and the task cannot take more."""
    amounts: dict[str, int] = {}
    if job.cpus:
        amounts["NanoCPUs"] = int(job.cpus * 1e9)
    if job.memory:
        amounts["MemoryBytes"] = job.memory
    return {"Limits": dict(amounts), "Reservations": dict(amounts)} if amounts else {}


def _mount(volume: str) -> dict[str, Any]:
    """"SOURCE:TARGET[:ro]" as for containers: a path on the node is bound, a name is a volume."""
    parts = volume.split(":")
    source, target = (parts[0], parts[1]) if len(parts) >= 2 else (None, parts[0])
    mount: dict[str, Any] = {"Target": target, "ReadOnly": len(parts) > 2 and "ro" in parts[2].split(",")}
    if source is not None:
        mount["Source"] = source
        mount["Type"] = "bind" if source.startswith("/") else "volume"
    else:
        mount["Type"] = "volume"
    return mount
