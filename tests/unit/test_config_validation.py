"""Every bad input gets one line naming file, job and field, and exit 2."""

from __future__ import annotations

import os

import pytest

from panda_tui.config import ConfigError, load_config

GOOD = """
[jobs.ok]
schedule = "*/5 * * * *"
command = "true"
"""


def errors_for(write_toml, text: str) -> list[str]:
    path = write_toml(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value.errors


@pytest.mark.parametrize("body, expected", [
    ('[jobs.a]\nschedule = "* * * * *"\ncommand = "true"\ntimout = "5m"\n',
     'jobs.toml: job "a": timout: unknown field (did you mean "timeout"?)'),
    ('[jobs.a]\nschedule = "* * * * *"\ncommand = "true"\nretries = "two"\n',
     'jobs.toml: job "a": retries: expected a whole number from 0 to 100, got \'two\''),
    ('[jobs.a]\nschedule = "* * * * *"\ncommand = "true"\nenabled = "yes"\n',
     'jobs.toml: job "a": enabled: expected true or false, got \'yes\''),
    ('[jobs.a]\nschedule = "0 0 31 2 *"\ncommand = "true"\n',
     'jobs.toml: job "a": schedule: never fires: day 31 does not occur in month 2 in \'0 0 31 2 *\''),
    ('[jobs.a]\nschedule = "61 * * * *"\ncommand = "true"\n',
     'jobs.toml: job "a": schedule: minute \'61\' is not valid: it takes 0-59 (values, ranges a-b, lists a,b, '
     'steps */n) in \'61 * * * *\''),
    ('[jobs.a]\nschedule = "@daily"\ncommand = "true"\ntimeout = "0s"\n',
     'jobs.toml: job "a": timeout: must be more than 0 (every run would be stopped at once); a long one like '
     '"24h" bounds a job that may run long'),
    ('[jobs.a]\nschedule = "* * *"\ncommand = "true"\n',
     'jobs.toml: job "a": schedule: expected 5 fields (minute hour day month weekday) or 6 (seconds first), got 3 in \'* * *\''),
    ('[jobs.a]\nschedule = "* * * * *"\ntimezone = "Mars/Olympus"\ncommand = "true"\n',
     'jobs.toml: job "a": timezone: unknown time zone \'Mars/Olympus\' (expected an IANA name like "Europe/Berlin")'),
    ('[jobs.a]\nschedule = "* * * * *"\ncommand = "true"\ntimeout = "five"\n',
     'jobs.toml: job "a": timeout: expected a duration like "90s", "5m", "1h30m" or a number of seconds, got \'five\''),
    ('[jobs.a]\nschedule = "* * * * *"\ncommand = "true"\nconcurrency = "sometimes"\n',
     "jobs.toml: job \"a\": concurrency: expected one of forbid | allow | replace | queue, got 'sometimes'"),
    ('[jobs.a]\nschedule = "* * * * *"\n',
     'jobs.toml: job "a": command: missing (a job needs a command, an image, or both)'),
    ('[jobs.a]\ncommand = "true"\n',
     'jobs.toml: job "a": schedule: missing (expected a cron expression like "*/5 * * * *" or "@every 30s")'),
    ('[jobs.""]\nschedule = "* * * * *"\ncommand = "true"\n',
     'jobs.toml: job "": name: expected 1-64 letters, digits, \'-\', \'_\' or \'.\', starting with a letter or digit'),
    ('[jobs.a]\nschedule = "* * * * *"\ncommand = "true"\nalerts = ["opz"]\n[alerts.ops]\nurl = "http://127.0.0.1:1/x"\n',
     'jobs.toml: job "a": alerts: unknown target \'opz\' (did you mean "ops"?) (define it as [alerts.opz])'),
    ('[alerts.ops]\nurl = "not a url"\n[jobs.a]\nschedule = "@daily"\ncommand = "true"\n',
     'jobs.toml: alert "ops": url: expected an http(s):// webhook or an Apprise URL such as mailto://, slack://, ntfy://, got \'not a url\''),
    ('[job.a]\nschedule = "@daily"\ncommand = "true"\n',
     'jobs.toml: job: unknown section (did you mean "jobs"?) (expected [defaults], [jobs], [alerts], [scheduler], '
     '[maintenance], [serve], [store])'),
    ('[store]\nmax_size = "lots"\n[jobs.a]\nschedule = "@daily"\ncommand = "true"\n',
     'jobs.toml: [store]: max_size: expected a size like "500MiB", "2g", a number of bytes, or a share like '
     '"10%", got \'lots\''),
    ('[store]\nkeep_free = "150%"\n[jobs.a]\nschedule = "@daily"\ncommand = "true"\n',
     'jobs.toml: [store]: keep_free: expected a share of the file system from "1%" to "100%", got \'150%\''),
    ('[store]\nmax_sise = "1g"\n[jobs.a]\nschedule = "@daily"\ncommand = "true"\n',
     'jobs.toml: [store]: max_sise: unknown field (did you mean "max_size"?)'),
])
def test_each_bad_input_gets_its_line(write_toml, body, expected):
    assert expected in errors_for(write_toml, body)


def test_a_target_with_a_bad_url_is_named_once_not_again_by_the_job_using_it(write_toml):
    path = write_toml('[alerts.a]\nurl = "http//127.0.0.1:1/x"\n[jobs.j]\nschedule = "@daily"\ncommand = "true"\n'
                      'alerts = ["a"]\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert len(info.value.errors) == 1 and info.value.errors[0].startswith('jobs.toml: alert "a": url: ')


def test_all_errors_are_collected_not_just_the_first(write_toml):
    errors = errors_for(write_toml, """
        [jobs.a]
        schedule = "bad"
        command = "true"
        [jobs.b]
        schedule = "* * * * *"
        timeout = -3
        [jobs.c]
        schedule = "@every 5s"
        command = 42
    """)
    assert len(errors) == 4, errors
    assert all(e.startswith("jobs.toml: job ") for e in errors)


def test_duplicate_job_names_are_a_toml_error_with_line(write_toml):
    errors = errors_for(write_toml, '[jobs.a]\nschedule="@daily"\ncommand="true"\n[jobs.a]\ncommand="x"\n')
    assert len(errors) == 1
    assert errors[0].startswith("jobs.toml: TOML syntax error:") and "line 4" in errors[0]


def test_toml_syntax_error_gives_line_and_column(write_toml):
    errors = errors_for(write_toml, '[jobs.a]\nschedule = "@daily\n')
    assert "line 2" in errors[0] and "column" in errors[0]


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(str(tmp_path / "nope.toml"))
    assert info.value.errors == [f"{tmp_path}/nope.toml: file not found (create one with `panda-tui init {tmp_path}/nope.toml`)"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(write_toml):
    path = write_toml(GOOD)
    os.chmod(path, 0)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "cannot read" in info.value.errors[0]


def test_defaults_apply_and_jobs_override(write_toml):
    cfg = load_config(write_toml("""
        [defaults]
        timezone = "Europe/Berlin"
        timeout = "5m"
        retries = 2
        [jobs.a]
        schedule = "0 3 * * *"
        command = ["echo", "hi"]
        retries = 0
        [jobs.b]
        schedule = "@every 30s"
        image = "busybox"
    """))
    a, b = cfg.jobs["a"], cfg.jobs["b"]
    assert (a.tz, a.timeout, a.retries, a.command) == ("Europe/Berlin", 300.0, 0, ("echo", "hi"))
    assert (b.retries, b.runner_kind, a.runner_kind) == (2, "docker", "local")


def test_the_sample_jobs_toml_is_valid():
    from tests.conftest import REPO
    cfg = load_config(str(REPO / "jobs.toml"))
    assert {"hello", "flaky-export", "nightly-backup"} <= set(cfg.jobs)


def test_cli_prints_errors_and_exits_2(write_toml, cli):
    path = write_toml('[jobs.a]\nschedule = "0 0 31 2 *"\ncommand = "true"\ntimeout = "five"\n')
    result = cli("validate", "--config", path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in result.stderr
    assert lines[0].startswith('jobs.toml: job "a": ')


def test_cli_validate_ok_prints_next_three(write_toml, cli):
    result = cli("validate", "--config", write_toml(GOOD))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "ok: 1 job"
    assert result.stdout.count("Z") == 3 and "+00:00" not in result.stdout  # UTC as every time panda-tui prints


def test_stdin_is_for_local_commands_and_at_most_a_pipe_worth(write_toml):
    errors = errors_for(write_toml, '[jobs.a]\nschedule = "@daily"\nimage = "x"\nstdin = "hi"\n'
                                    f'[jobs.b]\nschedule = "@daily"\ncommand = "cat"\nstdin = "{"x" * 70_000}"\n')
    assert errors == ['jobs.toml: job "a": stdin: only for local commands (this job has an image)',
                      'jobs.toml: job "b": stdin: at most 64 KiB (larger input belongs in a file the command reads)']


def test_a_local_jobs_user_needs_a_root_scheduler_and_an_existing_account(write_toml):
    from panda_tui.config.runas import user_problems
    path = write_toml('[jobs.mine]\nschedule = "@daily"\ncommand = "true"\nuser = "nobody"\n'
                      '[jobs.ghost]\nschedule = "@daily"\ncommand = "true"\nuser = "no-such-user-here"\n'
                      '[jobs.box]\nschedule = "@daily"\nimage = "x"\nuser = "1000:1000"\n')
    config = load_config(path)
    assert user_problems(config, euid=0) == ['jobs.toml: job "ghost": user: no user \'no-such-user-here\' on this machine']
    as_someone = user_problems(config, euid=12345)
    assert as_someone[0].startswith('jobs.toml: job "mine": user: runs as \'nobody\' only under a scheduler '
                                    "running as root, and this one runs as 'uid 12345'")
    assert len(as_someone) == 2  # a container's user is the container's business
    assert user_problems(config, euid=65534)[:1] == as_someone[1:]  # nobody may run its own job


@pytest.mark.parametrize("body, expected", [
    ('command = "true"\nrunner = "swarm"\n',
     'runner: "swarm" runs an image as a Swarm service: add image = "…"'),
    ('command = "true"\nconstraints = ["node.role==worker"]\n',
     'constraints: only for runner = "swarm" (placement of a Swarm service)'),
    ('image = "i"\nsecrets = ["T"]\nsecrets_env = ["T"]\n',
     'secrets_env: only for runner = "swarm" (docker and local jobs get every secret as env already)'),
    ('image = "i"\nrunner = "swarm"\ncommand = "x"\nsecrets = ["T"]\nsecrets_env = ["T", "U"]\n',
     "secrets_env: U is not in secrets (list it there too)"),
    ('image = "i"\nrunner = "swarm"\nsecrets = ["T"]\nsecrets_env = true\n',
     "secrets_env: needs a command (sh sets the variables, then runs it; an image's own entrypoint cannot be wrapped)"),
    ('image = "i"\nrunner = "swarm"\nnetwork_mode = "none"\n',
     'network_mode: a Swarm service cannot use "none"; set network_mode = "bridge" (the node\'s default network) '
     "or the name of a swarm network"),
    ('image = "i"\nrunner = "swarm"\npull = "never"\n',
     'pull: "never" cannot hold on a swarm: each node pulls the image itself when a task needs it (load it on '
     "every node, or use a registry)"),
    ('image = "i"\nrunner = "swarm"\nmem_limit = "64m"\n',
     'mem_limit: a swarm job says memory = "512MiB" (its limit and reservation)'),
    ('image = "i"\nrunner = "swarm"\nconstraints = ["role is worker"]\n',
     'constraints: expected constraints like "node.role==worker" or "node.labels.disk!=hdd", got \'role is worker\''),
    ('image = "i"\nmemory = "64MiB"\nmem_limit = "64m"\n', "memory: mem_limit says the same; keep one of them"),
    ('command = "true"\nrunner = "cluster"\n', "runner: expected one of docker | local | swarm, got 'cluster'"),
])
def test_swarm_fields_are_refused_where_they_cannot_hold(write_toml, body, expected):
    assert errors_for(write_toml, f'[jobs.a]\nschedule = "@daily"\n{body}') == [f'jobs.toml: job "a": {expected}']


def test_swarm_defaults_reach_image_jobs_only(write_toml):
    cfg = load_config(write_toml("""
        [defaults]
        runner = "swarm"
        constraints = ["node.role==worker"]
        network_mode = "bridge"
        [jobs.local]
        schedule = "@daily"
        command = "true"
        [jobs.here]
        schedule = "@daily"
        image = "i"
        runner = "docker"
        [jobs.there]
        schedule = "@daily"
        image = "i"
        command = "run"
        secrets = ["A", "B"]
        secrets_env = true
        memory = "1g"
    """))
    local, here, there = cfg.jobs["local"], cfg.jobs["here"], cfg.jobs["there"]
    assert [j.runner_kind for j in (local, here, there)] == ["local", "docker", "swarm"]
    assert (local.constraints, here.constraints, there.constraints) == ((), (), ("node.role==worker",))
    assert (there.secrets_env, there.memory) == (("A", "B"), 1024 ** 3)


def test_the_store_budget_takes_sizes_and_shares(write_toml):
    config = load_config(write_toml('[store]\nmax_size = "2g"\nkeep_free = "20%"\n' + GOOD))
    assert (config.store.max_size, config.store.keep_free) == (2 * 1024 ** 3, 0.2)
    nothing_kept = load_config(write_toml('[store]\nkeep_free = 0\n' + GOOD, name="zero.toml"))
    assert nothing_kept.store.keep_free == 0  # as journald's SystemKeepFree=0
    assert load_config(write_toml(GOOD)).store.max_size is None  # the default: 10 % of the file system
