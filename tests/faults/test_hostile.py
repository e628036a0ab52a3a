"""Hostile input: generated jobs.toml files, terminal escapes and markup, broken databases."""

from __future__ import annotations

import os
from pathlib import Path
import resource
import subprocess
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panda_tui.config import ConfigError, build_config
from panda_tui.store import connect, logs
from panda_tui.store.ledger import RunStatus
from tests.conftest import ledger_on, run_cli
from tests.jobfiles import job, write_jobs

FIELDS = ["schedule", "command", "image", "timeout", "retries", "retry_delay", "concurrency", "catchup",
          "timezone", "env", "secrets", "max_concurrent", "enabled", "jitter", "starting_deadline", "alerts",
          "log_max_bytes", "cpus", "volumes", "heartbeat", "slow_after", "nonsense"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
                    st.sampled_from(["* * * * *", "61 * * * *", "0 0 31 2 *", "@every 0s", "@every 1s",
                                     "*/0 * * * *", "1-60 * * * *", "@reboot", "5m", "1h30m", "-5s", "forbid",
                                     "Mars/Phobos", "Europe/Berlin", "99999999999999999999d", "p95x2"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)
names = st.text(min_size=0, max_size=20)
jobs = st.dictionaries(names, st.dictionaries(st.sampled_from(FIELDS), values, max_size=8), max_size=4)
documents = st.fixed_dictionaries({"jobs": jobs}, optional={"defaults": st.dictionaries(
    st.sampled_from(FIELDS), values, max_size=4), "alerts": st.dictionaries(names, values, max_size=2),
    "bogus": values})


@pytest.mark.slow  # 400 examples: 15-35 s
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_generated_configs_are_accepted_or_refused_line_by_line(doc):
    started = time.process_time()  # CPU time: a loaded machine stretches the wall clock, not the work
    try:
        build_config(doc, "jobs.toml")
    except ConfigError as exc:
        assert exc.errors and all(line and "\n" not in line and line.startswith("jobs.toml") for line in exc.errors)
    assert time.process_time() - started < 1.0


@pytest.mark.parametrize("text", [
    "[jobs.a]\nschedule = " + "[" * 3000 + "]" * 3000 + "\n",          # deeply nested
    '[jobs."\\u001b[2J\\u00e9\\u202e"]\nschedule = "@daily"\ncommand = "true"\n',  # escapes in a name
    "[jobs.a]\nschedule = \"@daily\"\ncommand = \"true\"\nretries = 99999999999999999999999\n",  # huge
    "[jobs.a]\nschedule = \"*/61 25 32 13 8\"\ncommand = \"true\"\n",   # every field out of range
    "\x00\x01binary",
    "[jobs]\na = 1\n",
    '[jobs."backup\\n"]\nschedule = "@daily"\ncommand = "true"\n',  # a name ending in a newline
    '[jobs.a]\nschedule = "@daily"\ncommand = "tr\\u0000ue"\n',  # a NUL in the command
    '[jobs.a]\nschedule = "@daily"\ncommand = ["echo", "x\\u0000"]\n',
    '[jobs.a]\nschedule = "@daily"\ncommand = "true"\nenv = { A = "x\\u0000y" }\n',  # and in env
])
def test_hostile_files_through_the_cli(tmp_path, text):
    path = tmp_path / "jobs.toml"
    path.write_text(text)
    started = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_cli("validate", "--config", str(path))
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of the subprocess, which a loaded machine does not stretch; the check itself is well under one
    assert (used.ru_utime + used.ru_stime) - (started.ru_utime + started.ru_stime) < 5
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr and "\x1b" not in result.stderr
    assert all(line.startswith("jobs.toml") for line in result.stderr.strip().splitlines())
    assert "\x00" not in result.stderr


@pytest.mark.parametrize("after", ["9999-12-31T23:59", "9999-12-31T23:59:59+00:00", "0001-01-01T00:00+01:00"])
def test_instants_at_the_edge_of_the_calendar_get_one_line(tmp_path, after):
    cfg, _ = write_jobs(tmp_path, job("a"))
    result = run_cli("next", "a", "--config", cfg, "--after", after)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr


def test_escapes_and_markup_are_shown_literally_in_cli_and_console(tmp_path):
    import asyncio
    from panda_tui.config import load_config
    from panda_tui.tui.app import PandaApp
    from panda_tui.tui.screens.logs import LogScreen
    from panda_tui.tui.widgets.log_view import LogView
    from tests.tui.conftest import until
    cfg, db = write_jobs(tmp_path, job("evil"))
    with ledger_on(db) as book:
        rid = book.insert("evil", 1.0, trigger="manual", now=1.0).id
        book.start(rid, 1.0)
        book.finish(rid, RunStatus.FAILED, 2.0, exit_code=1, reason="[bold]boom[/bold] \x1b[2J")
    writer = logs.LogWriter(db)
    sink = logs.RunLog(writer, rid)
    sink.line("out", "[red]not red[/red] \x1b[2J\x1b]0;title\x07")
    sink.close()
    writer.close()
    out = run_cli("logs", "evil", "--config", str(cfg), "--db", db).stdout
    assert out.splitlines()[0] == "  [red]not red[/red] \\x1b[2J\\x1b]0;title\\x07"
    table = run_cli("executions", "evil", "--config", str(cfg), "--db", db).stdout
    said = " ".join(line.strip() for line in table.splitlines())  # a reason wraps in its column at 80
    assert "[bold]boom[/bold] \\x1b[2J" in said and "\x1b" not in table

    async def look():
        app = PandaApp(load_config(str(cfg)), db, mode="read-only")
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: app.main is not None, what="the job table")
            app.push_screen(LogScreen(db, rid))
            await until(pilot, lambda: isinstance(app.screen, LogScreen) and app.screen.query(LogView)
                        and app.screen.query_one(LogView).log_widget.lines, what="the log's lines")
            lines = [str(l) for l in app.screen.query_one(LogView).log_widget.lines]
            screen = app.export_screenshot()
        return lines, screen

    lines, screen = asyncio.run(look())
    assert lines[0] == "  [red]not red[/red] \\x1b[2J\\x1b]0;title\\x07"
    assert "\x1b" not in "".join(lines)


def test_a_file_that_is_not_sqlite_is_refused_and_untouched(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is a jpeg, honest" * 500)
    before = bad.read_bytes()
    for args in (("status",), ("daemon",), ("executions", "a")):
        result = run_cli(*args, "--db", str(bad), "--config", str(_cfg(tmp_path)), timeout=30)
        assert result.returncode != 0 and "not a panda-tui database" in result.stderr, result
        assert "Traceback" not in result.stderr
    assert bad.read_bytes() == before


def test_a_newer_schema_is_refused_and_untouched(tmp_path):
    db = tmp_path / "new.db"
    conn = connect(str(db))
    conn.execute("PRAGMA user_version=42")
    conn.close()  # checkpointed: the file alone holds everything
    before = db.read_bytes()
    result = run_cli("daemon", "--db", str(db), "--config", str(_cfg(tmp_path)), timeout=30)
    assert result.returncode == 1 and "newer than this panda-tui supports" in result.stderr
    assert db.read_bytes() == before


def _mount_tmpfs(path, options: str) -> bool:
    os.makedirs(path, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def test_read_only_and_full_disk(tmp_path):
    ro, full = tmp_path / "ro", tmp_path / "full"
    if not _mount_tmpfs(ro, "size=4m") or not _mount_tmpfs(full, "size=256k"):
        pytest.skip("cannot mount a tmpfs here (needs root in a mount namespace)")
    try:
        cfg = _cfg(tmp_path)
        db = ro / "p.db"
        connect(str(db)).close()
        subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True)
        before = db.read_bytes()
        result = run_cli("daemon", "--db", str(db), "--config", str(cfg), timeout=30)
        assert result.returncode == 1 and "read-only" in result.stderr and "Traceback" not in result.stderr
        assert db.read_bytes() == before
        (full / "filler").write_bytes(b"\0" * (250 * 1024))
        result = run_cli("daemon", "--db", str(full / "p.db"), "--config", str(cfg), timeout=30)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert "disk is full" in result.stderr or "cannot" in result.stderr, result.stderr
    finally:
        subprocess.run(["umount", str(ro)], capture_output=True)
        subprocess.run(["umount", str(full)], capture_output=True)


def _cfg(tmp_path):
    return Path(write_jobs(tmp_path, job("a"))[0])

