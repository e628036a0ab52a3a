"""jobs.toml → Kubernetes CronJob manifests (for when one server is no longer enough)."""

from __future__ import annotations

import json
import math
import re

from panda_tui.config import Config, Job
from panda_tui.fields import TimesP95

POLICY = {"forbid": "Forbid", "replace": "Replace", "allow": "Allow"}


def cronjobs(config: Config, paused: set[str], namespace: str | None = None) -> tuple[str, list[str]]:
    """(YAML documents, one-line warnings for what Kubernetes cannot express)."""
    docs: list[str] = []
    warnings: list[str] = []
    for job in config.jobs.values():
        manifest, problems = cronjob(job, job.name in paused, namespace)
        warnings.extend(f'job "{job.name}": {p}' for p in problems)
        if manifest is not None:
            docs.append(to_yaml(manifest))
    return "".join(f"---\n{d}" for d in docs), warnings


def cronjob(job: Job, paused: bool, namespace: str | None) -> tuple[dict | None, list[str]]:
    problems = []
    if not job.image:
        return None, ["a local command (no image) cannot run as a CronJob; skipped"]
    schedule = _k8s_schedule(job)
    if schedule is None:
        return None, [f"schedule {job.schedule.expr!r} has no CronJob equivalent (seconds or @every); skipped"]
    if job.concurrency == "queue":
        problems.append("concurrency = \"queue\" has no CronJob equivalent; exported as Forbid")
    if job.concurrency == "allow" and job.max_concurrent > 1:
        problems.append(f"max_concurrent = {job.max_concurrent} is not enforced by a CronJob (Allow is unbounded)")
    if job.catchup == "all":
        problems.append("catchup = \"all\" has no CronJob equivalent (the controller starts at most one missed run)")
    problems += dropped_fields(job)
    command = ["sh", "-c", job.command] if isinstance(job.command, str) else list(job.command or [])
    container: dict[str, object] = {"name": _dns(job.name), "image": job.image}
    if command:
        container["command"] = command
    env: list[dict[str, object]] = [{"name": k, "value": v} for k, v in job.env.items()]
    env += [{"name": s, "valueFrom": {"secretKeyRef": {"name": "panda-tui-secrets", "key": s}}} for s in job.secrets]
    if env:
        container["env"] = env
    if job.workdir:
        container["workingDir"] = job.workdir
    limits = {}
    if job.memory or job.mem_limit:
        limits["memory"] = str(job.memory) if job.memory else job.mem_limit
    if job.cpus:
        limits["cpu"] = str(job.cpus)
    if limits:
        container["resources"] = {"limits": limits}
    metadata: dict[str, object] = {"name": _dns(job.name), "labels": {"app.kubernetes.io/managed-by": "panda-tui"}}
    if namespace:
        metadata["namespace"] = namespace
    if job.description:
        metadata["annotations"] = {"panda-tui/description": job.description}
    spec = {
        "schedule": schedule, "timeZone": job.tz,
        "concurrencyPolicy": POLICY.get(job.concurrency, "Forbid"),
        "startingDeadlineSeconds": max(1, math.ceil(job.starting_deadline)),
        "suspend": paused or not job.enabled,
        "jobTemplate": {"spec": {
            "backoffLimit": job.retries,
            "activeDeadlineSeconds": max(1, math.ceil(job.timeout)),
            "template": {"spec": {"restartPolicy": "Never", "containers": [container],
                                  "terminationGracePeriodSeconds": max(1, math.ceil(job.kill_grace))}}}},
    }
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": metadata, "spec": spec}, problems


# Fields a CronJob cannot say, each with what it means by default: a job that sets one gets a warning.
DROPPED = {
    "jitter": (0.0, "a start offset"), "network_mode": ("bridge", "the pod's network is the cluster's"),
    "pull": ("missing", "set imagePullPolicy by hand"), "volumes": ((), "use volumes and volumeMounts"),
    "user": (None, "use securityContext.runAsUser"), "docker_host": (None, "the cluster picks the node"),
    "retry_delay": (30.0, "Kubernetes backs off by itself"), "alerts": ((), "no alerting"),
    "heartbeat": (None, "no heartbeat pings"), "slow_after": (None, "no slow alert"),
    "fast_before": (None, "no fast alert"), "repeat_after": (3600.0, "no alerting"),
    "after": (1, "no alerting"), "runbook": (None, "no alerting"),
    "log_max_lines": (50_000, "the cluster keeps the logs"), "log_max_bytes": (20 * 1024 * 1024, "the cluster keeps the logs"),
    "log_keep_runs": (200, "use successfulJobsHistoryLimit / failedJobsHistoryLimit"),
    "queue_max": (10, "no queue"),
    "constraints": ((), "use nodeSelector or affinity"),
    "secrets_env": ((), "secretKeyRef env already carries every secret"),
}


def dropped_fields(job: Job) -> list[str]:
    out = []
    for field, (default, instead) in DROPPED.items():
        value = getattr(job, field, default)
        if value != default and value not in (None, (), ""):
            shown = f"{value:g}s" if isinstance(value, float) else str(value) if isinstance(value, TimesP95) else value
            out.append(f"{field} = {shown!r} has no CronJob equivalent; dropped ({instead})")
    return out


def _k8s_schedule(job: Job) -> str | None:
    if job.schedule.every is not None:
        return None
    cron = job.schedule.cron
    return None if len(cron.split()) != 5 else cron


def _dns(name: str) -> str:
    return re.sub(r"[^a-z0-9-]", "-", name.lower()).strip("-")[:52] or "job"


def to_yaml(value, indent: int = 0) -> str:
    """A small YAML emitter for manifests: block style, strings JSON-quoted (valid YAML)."""
    pad = "  " * indent
    if isinstance(value, dict):
        out = ""
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                out += f"{pad}{key}:\n{to_yaml(item, indent + 1)}"
            else:
                out += f"{pad}{key}: {_scalar(item)}\n"
        return out
    out = ""
    for item in value:
        if isinstance(item, dict):
            body = to_yaml(item, indent + 1)
            out += f"{pad}- {body[len(pad) + 2:]}"
        else:
            out += f"{pad}- {_scalar(item)}\n"
    return out


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (dict, list)):
        return "{}" if isinstance(value, dict) else "[]"
    return json.dumps(str(value), ensure_ascii=False)
