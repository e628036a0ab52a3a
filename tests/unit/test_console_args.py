"""`python -m panda_tui` reads the console's options without click (cli/console_args.py): what it reads is what
the click group hands the console, from the same command line and environment, and whatever it does not read
in full is left to click."""

from __future__ import annotations

import inspect
import os

import pytest
from click.testing import CliRunner

from panda_tui.cli import main
from panda_tui.cli.console_args import console_options
from panda_tui.cli.console_cmd import open_console

READ = [
    [], ["--config", "a.toml"], ["--config=a.toml", "--db", "x.db"], ["--db=x.db"], ["--read-only", "--ascii"],
    ["--attach"], ["--embed", "--config", "b.toml"], ["--read-only-reason", "served by serve", "--read-only"],
    ["--config", "a.toml", "--config", "b.toml"], ["--ascii", "--ascii"], ["--db", "sub dir/x.db", "--attach"],
]
LEFT_TO_CLICK = [
    ["--help"], ["-h"], ["--version"], ["status"], ["--config", "a.toml", "status"], ["--config"], ["--config="],
    ["--db", "--attach"], ["--attach=yes"], ["--confi", "a.toml"], ["--", "--attach"], ["-x"],
]
ENVIRONMENTS = [{}, {"PANDA_CONFIG": "env.toml", "PANDA_DB": "env.db"}, {"PANDA_CONFIG": "", "PANDA_DB": ""}]


def what_click_hands_over(args: list[str], monkeypatch: pytest.MonkeyPatch) -> dict:
    handed: dict = {}

    def console(*call, **named) -> None:
        handed.update(inspect.signature(open_console).bind(*call, **named).arguments)
    monkeypatch.setattr("panda_tui.cli.console_cmd.open_console", console)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return {name: handed.get(name, parameter.default)
            for name, parameter in inspect.signature(open_console).parameters.items()}


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=["no env", "env", "empty env"])
@pytest.mark.parametrize("args", READ, ids=" ".join)
def test_the_console_options_read_without_click_are_those_click_reads(args, environment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PANDA_CONFIG", raising=False)
    monkeypatch.delenv("PANDA_DB", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert console_options(args, os.environ) == what_click_hands_over(args, monkeypatch)


@pytest.mark.parametrize("args", LEFT_TO_CLICK, ids=" ".join)
def test_anything_else_is_left_to_click(args):
    assert console_options(args, {}) is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_a_jobs_file_that_cannot_be_read_is_left_to_click_which_names_it(tmp_path):
    unreadable = tmp_path / "jobs.toml"
    unreadable.write_text("")
    unreadable.chmod(0)
    assert console_options(["--config", str(unreadable)], {}) is None
    assert "is not readable" in CliRunner().invoke(main, ["--config", str(unreadable)]).output
