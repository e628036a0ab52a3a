"""`panda-tui import crontab` as a user runs it: a jobs.toml on stdout that validates and fires where cron
did, one warning per line on stderr naming the source line."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
import sys
from pathlib import Path

from tests.conftest import run_cli

DEBIAN = Path(__file__).resolve().parent.parent / "fixtures" / "cron" / "debian"
FORMS = DEBIAN.parent / "crafted" / "forms"


def test_system_files_import_to_a_jobs_toml_that_validates_and_fires_in_the_given_zone(tmp_path):
    files = [str(DEBIAN / name) for name in ("crontab", "php", "sysstat", "certbot", "mdadm", "e2scrub_all")]
    done = run_cli("import", "crontab", "--system", "--timezone", "Europe/Berlin", *files)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines() == [
        "imported 11 jobs from 6 files, firing in Europe/Berlin (--timezone)",
        "these are root's jobs: they run as root (user = 'root'), with HOME, LOGNAME, USER and SHELL as cron set them",
        "a scheduler not running as root (such as the service's `panda`) refuses a jobs.toml with them: run it "
        "as root (`systemd-unit --user root`), or edit each job's user, workdir and env"]
    jobs = tmp_path / "jobs.toml"
    jobs.write_text(done.stdout)
    valid = run_cli("validate", "--config", str(jobs))
    assert valid.returncode == 0, valid.stderr
    assert "ok: 11 jobs" in valid.stdout
    following = run_cli("next", "debian-sa1", "--config", str(jobs), "--count", "3", "--after",
                        "2026-03-29T01:50:00+01:00").stdout.split()
    assert following == ["2026-03-29T01:55:00+01:00", "2026-03-29T03:05:00+02:00", "2026-03-29T03:15:00+02:00"]
    assert run_cli("next", "checkarray", "--config", str(jobs), "--count", "1", "--after",
                   "2026-03-01T00:00:00+01:00").stdout.split() == ["2026-03-01T00:57:00+01:00"]


def test_warnings_go_to_stderr_one_per_line_naming_the_source_line():
    done = run_cli("import", "crontab", "--timezone", "UTC", str(FORMS))
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 11
    assert all(line.startswith(f"warning: {FORMS}:") for line in warnings)
    assert "[jobs.report]" in done.stdout and "warning" not in done.stdout


def test_stdin_and_a_user_field_that_does_not_exist_here(tmp_path):
    text = "MAILTO=ops@example.com\n*/5 * * * * no-such-user-here /usr/local/bin/sync-data\n"
    done = run_cli("import", "crontab", "--system", "--timezone", "UTC", "-", input=text)
    assert done.returncode == 0, done.stderr
    assert "warning: stdin:1: MAILTO=ops@example.com" in done.stderr
    jobs = tmp_path / "jobs.toml"
    jobs.write_text(done.stdout)
    refused = run_cli("validate", "--config", str(jobs))
    assert refused.returncode == 2
    assert refused.stderr.strip() == "jobs.toml: job \"sync-data\": user: no user 'no-such-user-here' on this machine"


def test_without_a_file_it_reads_crontab_l(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "crontab"
    fake.write_text("#!/bin/sh\n[ \"$1\" = -l ] || exit 9\nprintf '0 4 * * * /usr/local/bin/nightly.sh\\n'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = run_cli("import", "crontab", "--timezone", "Asia/Tokyo", env=env)
    assert done.returncode == 0, done.stderr
    assert "[jobs.nightly]" in done.stdout and "timezone = 'Asia/Tokyo'" in done.stdout
    assert "# crontab -l line 1:" in done.stdout
    fake.write_text("#!/bin/sh\necho 'no crontab for alice' >&2\nexit 1\n")
    empty = run_cli("import", "crontab", env=env)
    assert (empty.returncode, empty.stdout) == (1, "")
    assert empty.stderr.strip() == "error: crontab -l: no crontab for alice"


def test_an_imported_job_sees_its_owner_and_home_as_under_cron_even_from_a_scheduler_with_a_bare_environment(
        tmp_path):
    me = pwd.getpwuid(os.getuid())
    tab = tmp_path / "tab"
    tab.write_text('@daily echo "$HOME|$LOGNAME|$USER|$SHELL|$(pwd)"\n')
    done = run_cli("import", "crontab", "--timezone", "UTC", str(tab))
    assert done.returncode == 0, done.stderr
    assert f"these are {me.pw_name}'s jobs" in done.stderr
    jobs = tmp_path / "jobs.toml"
    jobs.write_text(done.stdout)
    bare = {"PATH": os.environ["PATH"], "PYTHONPATH": os.environ.get("PYTHONPATH", "")}  # no HOME, USER, SHELL
    ran = subprocess.run([sys.executable, "-m", "panda_tui", "run", "echo", "--config", str(jobs),
                          "--db", str(tmp_path / "panda.db")], capture_output=True, text=True, env=bare, timeout=60,
                         cwd=str(tmp_path))
    assert ran.returncode == 0, ran.stderr
    home = me.pw_dir if os.path.isdir(me.pw_dir) else "/"
    assert f"{me.pw_dir}|{me.pw_name}|{me.pw_name}|/bin/sh|{home}" in ran.stdout


def test_nothing_to_import_and_bad_arguments_fail_plainly(tmp_path):
    only_reboot = run_cli("import", "crontab", "--timezone", "UTC", "-", input="@reboot /bin/boot\n")
    assert only_reboot.returncode == 1 and only_reboot.stdout == ""
    assert "error: no jobs to import (see the warnings above)" in only_reboot.stderr
    assert run_cli("import", "crontab", "--timezone", "Mars/Base", str(FORMS)).returncode == 2
    system = run_cli("import", "crontab", "/etc/cron.d/e2scrub_all")  # refused before it is read
    assert (system.returncode, system.stdout) == (2, "")
    assert system.stderr.strip() == ("error: /etc/cron.d/e2scrub_all: a system crontab (a user field after the "
                                     "schedule): import it with --system")
    missing = run_cli("import", "crontab", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
