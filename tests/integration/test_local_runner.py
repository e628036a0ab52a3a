"""The local runner: real processes in their own process group."""

from __future__ import annotations

import asyncio
import os
import pwd
import time

import pytest

from tests.fakes import eventually
from tests.integration.helpers import Bench


def alive(pid: int) -> bool:
    """Running, not merely a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def toml(command: str, extra: str = "") -> str:
    return f'[jobs.l]\nschedule = "@daily"\ncommand = {command}\n{extra}\n'


@pytest.fixture
async def bench(tmp_path):
    made = []

    def make(command: str, extra: str = "", secrets_file: str | None = None) -> Bench:
        b = Bench(tmp_path, toml(command, extra), secrets_file)
        made.append(b)
        return b

    yield make
    for b in made:
        await b.close()


async def test_exec_form_long_line_and_no_final_newline(bench):
    b = bench('["python3", "-c", "import sys; sys.stdout.write(\'y\' * 40000 + \'\\\\nlast\')"]')
    run = await b.run("l")
    assert run.status == "succeeded"
    assert b.lines(run.id, "out") == ["y" * 40000, "last"]


async def test_timeout_kills_the_whole_group_grandchildren_too(bench, tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    b = bench(f"""'''sh -c 'trap "" TERM; echo $$ > {pidfile}; sleep 600' & wait'''""",
              'timeout = "1s"\nkill_grace = "1s"')
    started = time.monotonic()
    run = await b.run("l")
    assert run.status == "timed_out"
    assert time.monotonic() - started < 120  # not the 600 s the grandchild asked for (loose: a loaded machine)
    grandchild = int(pidfile.read_text())
    await eventually(lambda: not alive(grandchild), 30)


async def test_a_command_string_runs_as_under_sh_c_with_its_own_traps(bench):
    """The keeper runs a string in a subshell: no positional parameters, `exit` ends only the command,
    and the command's own TERM trap runs when it is killed (the keeper's trap is not inherited)."""
    b = bench("""'''echo "args=$#"; trap 'echo cleaning up; exit 5' TERM; echo up; sleep 60 & wait'''""")
    execution = b.start("l")
    while b.lines(execution.run_id) != ["args=0", "up"]:
        await asyncio.sleep(0.02)
    execution.kill("killed on request")
    await execution.task
    run = b.get(execution.run_id)
    assert (run.status, run.exit_code) == ("killed", 5)
    assert b.lines(run.id, "out") == ["args=0", "up", "cleaning up"]


async def test_a_command_that_does_not_exist_fails_plainly(bench):
    b = bench('["/no/such/program"]')
    run = await b.run("l")
    assert run.status == "failed" and run.reason == "'/no/such/program': not found (No such file or directory)"


async def test_missing_secret_fails_the_run_with_its_name(bench):
    b = bench("'true'", 'secrets = ["PANDA_TEST_NOT_SET_ANYWHERE"]')
    run = await b.run("l")
    assert run.status == "failed"
    assert "PANDA_TEST_NOT_SET_ANYWHERE not set" in run.reason


async def test_group_readable_secrets_file_is_refused(bench, tmp_path):
    sfile = tmp_path / "s.env"
    sfile.write_text("TOKEN=abcdefgh\n")
    sfile.chmod(0o640)
    b = bench("'true'", 'secrets = ["TOKEN"]', str(sfile))
    run = await b.run("l")
    assert run.status == "failed"
    assert run.reason == f"{sfile}: secrets file is readable by group or others (mode 0640); refusing it: run chmod 600 {sfile}"


async def test_redaction_plain_multiline_and_base64(bench, tmp_path):
    sfile = tmp_path / "s.env"
    sfile.write_text('TOKEN=tok-123456789\nPEM="-----BEGIN-----\\nMIIBIjANBgkq\\n-----END-----"\n')
    sfile.chmod(0o600)
    b = bench("""'''echo "t=$TOKEN"; printf %s "$TOKEN" | base64; echo "$PEM"'''""", 'secrets = ["TOKEN", "PEM"]',
              str(sfile))
    run = await b.run("l")
    assert b.lines(run.id, "out") == ["t=***", "***", "***", "***", "***"]


async def test_stdin_is_fed_from_the_job_and_survives_a_pipe_worth(bench):
    """A crontab's "%" lines: the command reads them, then end of file; 60 KiB fit the pipe at once."""
    data = "first\n%second\n" + "z" * (60 * 1024) + "\n"
    b = bench('"read a; read b; echo $a; echo $b; wc -c"', f"stdin = {data!r}".replace("'", '"'))
    run = await b.run("l")
    assert run.status == "succeeded"
    assert b.lines(run.id, "out") == ["first", "%second", str(60 * 1024 + 1)]


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs a root scheduler")
async def test_a_local_job_runs_as_its_user_with_that_users_home(bench):
    b = bench('"id -u; id -g; echo $HOME $USER $LOGNAME; pwd"', 'user = "nobody"')
    run = await b.run("l")
    assert run.status == "succeeded", b.lines(run.id)
    nobody = pwd.getpwnam("nobody")
    cwd = nobody.pw_dir if os.path.isdir(nobody.pw_dir) else "/"  # as cron, in $HOME, if there is one
    assert b.lines(run.id, "out") == [str(nobody.pw_uid), str(nobody.pw_gid),
                                      f"{nobody.pw_dir} nobody nobody", cwd]


async def test_a_run_whose_status_was_read_by_a_scheduler_that_died_keeps_its_exit_code(tmp_path):
    """The narrow crash: the scheduler read the keeper's `status` (the keeper then ended) and died before
    recording it. The next scheduler finds no keeper and an empty pipe, and takes the code the keeper left."""
    from panda_tui.config import build_config
    from panda_tui.runners import keeper
    from panda_tui.runners.local import LocalRunner, proc_start_time
    from panda_tui.store.ledger import Run, RunStatus

    directory = keeper.run_dir(str(tmp_path / "runs"), 1)
    pipes, out_w, err_w = keeper.create(directory)
    proc = await asyncio.create_subprocess_exec(*keeper.keeper_argv(directory, "echo up; exit 7", 60, 1),
                                                stdout=out_w, stderr=err_w, start_new_session=True)
    os.close(out_w), os.close(err_w)
    ref = f"{proc.pid}:{proc_start_time(proc.pid)}"
    await proc.wait()
    assert pipes.report()[0] == 7  # read by the scheduler that is about to die: gone from the pipe
    for fd in (pipes.out, pipes.err, pipes.status):
        os.close(fd)
    job = build_config({"jobs": {"c": {"schedule": "@daily", "command": "true"}}}, "jobs.toml").jobs["c"]
    run = Run(1, "c", 0.0, 1, "manual", RunStatus.RUNNING, runner="local", runner_ref=ref)
    notes: list[str] = []

    class Sink:
        def system(self, text: str) -> None:
            notes.append(text)

    handle = await LocalRunner(str(tmp_path / "runs")).reattach(run, job, lambda env: Sink())
    outcome = await handle.wait()
    assert (outcome.exit_code, outcome.ended_at is not None) == (7, True), outcome
    assert "left the exit code" in notes[0]
    await handle.cleanup()
    assert not os.path.exists(directory)


def test_a_job_that_ends_at_once_leaves_no_word_of_its_keepers_watchdog_in_its_stderr(tmp_path):
    """The keeper tells its watchdog (USR1) the job ended; a job quicker than the watchdog's trap killed the
    watchdog by that signal, and the keeper's `wait` said `User defined signal 1` on the run's stderr (about
    one run in sixty of `true`)."""
    import subprocess
    from panda_tui.runners import keeper
    for name in ("out", "err"):
        (tmp_path / name).touch()  # the keeper only holds them open: plain files do here
    said = set()
    for _ in range(300):
        for name in ("exit", "status", keeper.TIMED_OUT):
            (tmp_path / name).unlink(missing_ok=True)
        done = subprocess.run(keeper.keeper_argv(str(tmp_path), "true", 60, 1), capture_output=True, text=True)
        assert done.returncode == 0
        said.add(done.stdout + done.stderr)
    assert said == {""}


async def test_a_run_at_its_timeout_says_why_before_its_signal_though_the_scheduler_is_late(bench):
    """New-user test: `! Terminated`, then `# [panda] timed out after 5s; stopping …`: the keeper's watchdog,
    due at the same second, had stopped the run before the live scheduler did. Here the scheduler's loop is
    busy (as a console drawing holds it) past the deadline: it still acts first, and says why first."""
    b = bench('"echo up; sleep 60"', 'timeout = "1s"\nkill_grace = "5s"')
    execution = b.start("l")
    while b.lines(execution.run_id) != ["up"]:
        await asyncio.sleep(0.02)
    started = b.get(execution.run_id).started_at
    # the loop held until 0.3 s past the deadline, however late `up` came: its timer fires late (a stand-in for
    # load, not a wait for a condition), and the watchdog's deadline (2 s later) is still ahead
    time.sleep(max(0.0, started + 1.3 - time.time()))
    await execution.task
    run = b.get(execution.run_id)
    said = b.lines(run.id)
    assert run.status == "timed_out" and said[1].startswith("[panda] timed out after 1s; stopping"), said
