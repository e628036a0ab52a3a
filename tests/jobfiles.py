"""The one way tests write a jobs.toml: tables from keyword fields, written beside a database path."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path


def value(v) -> str:
    """A TOML value: strings and lists as JSON (valid TOML basic strings), numbers and booleans as they are."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
    return json.dumps(v)


# For a fixture that stops its scheduler with runs still going when the test is done: what the test proves is
# not the stop grace (10 s by default; tests/integration/test_daemon_e2e.py proves it), so it is not waited out.
QUICK_STOP = '[scheduler]\nstop_grace = "1s"\n'


def job(name: str = "j", schedule: str = "@daily", command=None, **fields) -> str:
    """One [jobs.NAME] table; `command` defaults to "true" unless an image is given."""
    if command is None and "image" not in fields:
        command = "true"
    if command is not None:
        fields = {"command": command, **fields}
    lines = [f"[jobs.{name}]", f"schedule = {value(schedule)}"]
    lines += [f"{key} = {value(v)}" for key, v in fields.items()]
    return "\n".join(lines) + "\n"


def write_jobs(directory: Path, *tables: str, name: str = "jobs.toml") -> tuple[str, str]:
    """Write the tables (each dedented) as DIRECTORY/jobs.toml; returns (config path, database path)."""
    path = Path(directory) / name
    path.write_text("\n".join(textwrap.dedent(t).strip("\n") + "\n" for t in tables))
    return str(path), str(Path(directory) / "panda.db")
