"""`import crontab` on what is large or odd: lines read as cron reads them (only "\\n" ends one), bytes that
are not UTF-8 refused by line, input and output capped at what a jobs.toml may hold, and no line or clash of
names that makes it slow (the figures are bench/import_crontab.py's; the bounds here are ten times loose)."""

from __future__ import annotations

import time
import tomllib

from panda_tui.migrate.translate import Options, Source, translate
from tests.conftest import run_cli

MIB = 1 << 20


def imported(text: str, *args: str):
    return run_cli("import", "crontab", "--timezone", "UTC", *args, "-", input=text)


def test_a_lone_carriage_return_stays_inside_its_line_from_stdin_and_from_a_file(tmp_path):
    line = "0 3 * * * printf 'a\rb' > /tmp/out\n"  # a real CR inside the line
    path = tmp_path / "tab"
    path.write_bytes(line.encode())
    for done in (imported(line), run_cli("import", "crontab", "--timezone", "UTC", str(path))):
        assert done.returncode == 0, done.stderr
        jobs = tomllib.loads(done.stdout)["jobs"]
        assert [job["command"] for job in jobs.values()] == ["printf 'a\rb' > /tmp/out"]


def test_bytes_that_are_not_utf8_are_refused_naming_their_lines(tmp_path):
    path = tmp_path / "latin1"
    path.write_bytes(b"# caf\xe9: a comment is never written out\nFOO=b\xe9r\n0 3 * * * echo ok\n"
                     b"5 3 * * * /usr/bin/b\xff.sh\n")
    done = run_cli("import", "crontab", "--timezone", "UTC", str(path))
    assert (done.returncode, done.stdout) == (2, "")
    lines = done.stderr.splitlines()
    assert [line.split(": not UTF-8")[0] for line in lines] == [f"{path}:2", f"{path}:4"]
    assert "byte 0xff at column 21" in lines[1] and "Traceback" not in done.stderr


def test_input_larger_than_a_jobs_toml_is_refused_from_a_pipe_and_a_device():
    done = imported("# padding\n" * (11 * MIB // 10))
    assert done.returncode == 2
    assert done.stderr.strip() == "error: stdin: larger than 10.0 MiB, more than a jobs.toml may hold: is it a crontab?"
    endless = run_cli("import", "crontab", "/dev/zero", timeout=60)
    assert endless.returncode == 2 and endless.stderr.startswith("error: /dev/zero: larger than 10.0 MiB")


def test_more_entries_than_a_jobs_toml_may_hold_are_refused_with_the_reason():
    done = imported("".join(f"{i % 60} * * * * /usr/bin/job{i}\n" for i in range(10_001)))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.strip() == ("error: stdin: 10,001 entries, and one scheduler runs at most 10,000 jobs "
                                   "(validate refuses a jobs.toml with more): split the crontab, one part per "
                                   "scheduler")


def test_an_output_larger_than_a_jobs_toml_is_refused_before_it_is_built():
    text = "".join(f"VAR{i}=value{i}\n" for i in range(20_000)) + "".join(
        f"0 3 * * * /usr/bin/job{i}\n" for i in range(2_000))  # every job repeats 20,000 settings
    done = imported(text)
    assert (done.returncode, done.stdout) == (2, "")
    assert "the jobs.toml would be larger than the 10.0 MiB validate reads" in done.stderr.splitlines()[-1]


def loose_seconds(text: str) -> float:
    start = time.perf_counter()
    result = translate([Source("big", text)], Options("Europe/Berlin", "test"))
    assert result.jobs
    return time.perf_counter() - start


def test_ten_thousand_lines_of_one_script_and_one_huge_line_import_without_quadratic_work():
    one_script = "".join(f"{i % 60} {i % 24} * * * /usr/local/bin/backup.sh --target host{i} --level {i % 7}\n"
                         for i in range(10_000))
    assert loose_seconds(one_script) < 30  # 2.5 s; it took hours (each clash re-read every earlier command)
    for shape in ("a" * MIB, "${a " * (MIB // 4), "A=1 " * (MIB // 4), "/" * MIB):
        assert loose_seconds(f"0 3 * * * {shape}\n") < 10  # 0.3 s; 14 s to minutes
