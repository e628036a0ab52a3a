"""The console's options read without click, for `python -m panda_tui` (and `panda-tui`) with no command: click's
import and its group took ~30M instructions of the ~1,500M to the console's first frame, a tenth of what the
console adds to Textual's own (bench/launch.py). Only a command line of the console's own options, in their
plain forms, is read here; anything else (a command, --help, --version, an option it does not know, a value it
would have to judge) is left to click (cli/group.py), which reads the same options the same way and says what
is wrong. tests/unit/test_console_args.py holds the two to that."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

VALUES = {"--config": "config_path", "--db": "db_path", "--read-only-reason": "read_only_reason"}
FLAGS = {"--read-only": "read_only", "--attach": "attach", "--embed": "embed", "--ascii": "ascii_only"}


def console_options(args: Sequence[str], environ: Mapping[str, str]) -> dict[str, Any] | None:
    """open_console's arguments, as the group would pass them; None for anything to leave to click."""
    options: dict[str, Any] = {"config_path": environ.get("PANDA_CONFIG") or "jobs.toml",  # an empty one is unset
                               "db_path": environ.get("PANDA_DB") or None, "read_only": False, "attach": False,
                               "read_only_reason": None, "ascii_only": False, "embed": False}
    rest = list(args)
    while rest:
        name, has_value, value = rest.pop(0).partition("=")
        if name in FLAGS and not has_value:
            options[FLAGS[name]] = True
        elif name in VALUES:
            if not has_value:
                if not rest:
                    return None
                value = rest.pop(0)
            if not value or value.startswith("-"):
                return None
            options[VALUES[name]] = value
        else:
            return None
    paths = (options["config_path"], options["db_path"])
    return options if all(_readable_or_absent(path) for path in paths if path is not None) else None


def _readable_or_absent(path: str) -> bool:
    """click.Path refuses a path that exists but cannot be read (before the console would have a say)."""
    try:
        os.stat(path)
    except OSError:
        return True
    return os.access(path, os.R_OK)
