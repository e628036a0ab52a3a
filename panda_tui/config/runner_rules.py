"""Which runner carries a job out, and the fields that only one runner understands.

A field written in the job's own table for a runner that cannot honour it is an error. From [defaults] it
applies where it can: `runner = "swarm"` there moves every image job to the swarm and leaves local commands
local, and swarm-only fields there reach swarm jobs only."""

from __future__ import annotations

from typing import Any

SWARM_ONLY = {
    "constraints": "placement of a Swarm service",
    "secrets_env": "docker and local jobs get every secret as env already",
}


def check_runner(values: dict[str, Any], own: set[str], where: str, errors: list[str]) -> None:
    """Settle `values["runner"]` and check the runner's fields; appends one line per problem."""
    image = values.get("image")
    runner = values.get("runner")
    if runner is not None and "runner" not in own and not image:
        runner = None  # a default runner is for image jobs; a local command stays local
    if runner == "swarm" and not image:
        errors.append(f'{where}: runner: "swarm" runs an image as a Swarm service: add image = "…"')
    elif runner == "docker" and not image:
        errors.append(f'{where}: runner: "docker" runs an image: add image = "…" (or leave runner out)')
    elif runner == "local" and image:
        errors.append(f'{where}: runner: "local" runs a command on this server, without the image: '
                      'remove image or runner')
    values["runner"] = runner
    if runner == "swarm" and image:
        _check_swarm(values, own, where, errors)
        return
    for name, why in SWARM_ONLY.items():
        if name in own:
            errors.append(f'{where}: {name}: only for runner = "swarm" ({why})')
        values.pop(name, None)
    if "memory" in values and "mem_limit" in values:
        errors.append(f"{where}: memory: mem_limit says the same; keep one of them")


def _check_swarm(values: dict[str, Any], own: set[str], where: str, errors: list[str]) -> None:
    secrets = tuple(values.get("secrets", ()))
    wanted = values.get("secrets_env", ())
    if wanted is True:
        wanted = secrets
    elif wanted is False:
        wanted = ()
    for name in wanted:
        if name not in secrets:
            errors.append(f"{where}: secrets_env: {name} is not in secrets (list it there too)")
    if wanted and not values.get("command"):
        errors.append(f"{where}: secrets_env: needs a command (sh sets the variables, then runs it; an image's "
                      "own entrypoint cannot be wrapped)")
    values["secrets_env"] = tuple(wanted)
    if values.get("network_mode") == "none":
        errors.append(f'{where}: network_mode: a Swarm service cannot use "none"; set network_mode = "bridge" '
                      "(the node's default network) or the name of a swarm network")
    if values.get("pull") == "never" and "pull" in own:
        errors.append(f'{where}: pull: "never" cannot hold on a swarm: each node pulls the image itself when a '
                      "task needs it (load it on every node, or use a registry)")
    values.pop("pull", None)
    if "mem_limit" in values:
        if "mem_limit" in own:
            errors.append(f'{where}: mem_limit: a swarm job says memory = "512MiB" (its limit and reservation)')
        values.pop("mem_limit")
