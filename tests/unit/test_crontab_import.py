"""import crontab, piece by piece: Debian cron's field grammar, line forms, "%", environment lines, names,
the system zone, and the jobs.toml it writes (which must load)."""

from __future__ import annotations

import os
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panda_tui.config import build_config
from panda_tui.migrate import names
from panda_tui.migrate.cronfields import SPECS, FieldError, parse_field
from panda_tui.migrate.crontab import (Entry, Refused, Setting, open_at_end, parse, parse_line, split_percent,
                                       system_path)
from panda_tui.migrate.systemzone import ZoneUnknown, cron_zone
from panda_tui.migrate.translate import Options, Source, translate

MINUTE, HOUR, DOM, MONTH, DOW = SPECS
FORMS = Path(__file__).resolve().parent.parent / "fixtures" / "cron" / "crafted" / "forms"


@pytest.mark.parametrize("text,spec,values,expression", [
    ("*/15", MINUTE, {0, 15, 30, 45}, "*/15"),
    ("5-55/10", MINUTE, {5, 15, 25, 35, 45, 55}, "5-55/10"),
    ("09,39", MINUTE, {9, 39}, "09,39"),
    ("0-23/2", HOUR, set(range(0, 24, 2)), "0-23/2"),
    ("1,15", DOM, {1, 15}, "1,15"),
    ("jan-mar", MONTH, {1, 2, 3}, "jan-mar"),
    ("JAN,Jul", MONTH, {1, 7}, "JAN,Jul"),
    ("mon-fri/2", DOW, {1, 3, 5}, "mon-fri/2"),
    ("sun", DOW, {0, 7}, "sun"),
    ("7", DOW, {0, 7}, "7"),
    ("5#2", DOW, {5}, "5"),  # Debian's cron skips what follows a complete range
    ("22-2,5", HOUR, {5}, "5"),  # an empty (reversed) range, silently, and cronsim would refuse it
    ("*x", MINUTE, set(range(60)), "*"),
    ("*/5,7#x", MINUTE, set(range(0, 60, 5)) | {7}, "*/60,5,7,10-… "),
])
def test_fields_read_as_debian_cron_reads_them(text, spec, values, expression):
    field = parse_field(text, spec)
    assert field.values == frozenset(values)
    assert field.star == text.startswith("*")
    if not expression.endswith("… "):
        assert field.expression() == expression
    else:  # a wildcard that must be rewritten keeps its leading "*" (cron's wildcard flag)
        assert field.expression().startswith("*/60,")
        assert parse_field(field.expression(), spec).values == field.values


@pytest.mark.parametrize("text,spec,message", [
    ("5/15", MINUTE, r"a step needs a range or \* before it"),
    ("*/5,x", MINUTE, "'x' is not a number"),
    ("60", MINUTE, "60 is outside 0-59"),
    ("0", DOM, "0 is outside 1-31"),
    ("*/0", MINUTE, "a step must be at least 1"),
    ("jan", MINUTE, "'jan' is not a number"),
    ("january", MONTH, "'january' is not a number or a three-letter name"),
    ("fri-sun", DOW, "matches nothing"),
    ("1,", MINUTE, "expected a number"),
])
def test_fields_cron_refuses_are_refused_with_the_reason(text, spec, message):
    with pytest.raises(FieldError, match=message):
        parse_field(text, spec)


def test_percent_ends_the_command_and_the_rest_is_stdin_with_newlines():
    assert split_percent('mail -s "It\'s 10pm" joe%Joe,%%Where are your kids?%') == \
        ('mail -s "It\'s 10pm" joe', "Joe,\n\nWhere are your kids?\n")
    assert split_percent("cat%one") == ("cat", "one\n")  # cron adds the last newline
    assert split_percent(r"date +\%s") == ("date +%s", None)  # \% is a literal %
    assert split_percent(r"echo a\\b") == (r"echo a\b", None)  # and, in the command, \\ a backslash
    assert split_percent(r"echo \!") == (r"echo \!", None)
    assert split_percent(r"cat%a\%b\c%") == ("cat", "a%b\\c\n")
    assert split_percent("true%") == ("true", "")


@pytest.mark.parametrize("line,name,value", [
    ("PATH=/usr/bin:/bin", "PATH", "/usr/bin:/bin"),
    ("  LANG = C.UTF-8  ", "LANG", "C.UTF-8"),
    ("GREETING='  hi  '", "GREETING", "  hi  "),
    ('MAILTO=""', "MAILTO", ""),
    ("X=a # not a comment to cron, but the end of the value", "X", "a"),
])
def test_environment_lines_as_cron_reads_them(line, name, value):
    assert parse_line(1, line) == Setting(1, line, name, value)


def test_line_forms():
    items = parse(
        "# comment\n\n   \t# indented comment\n"
        "0 3 * * * /bin/backup --full\n"
        "@daily root /bin/rotate\n"
        "@reboot /bin/boot\n"
        "@Daily /bin/x\n"
        "0 6 * * *\n"
        "FOO =\n", system=False)
    assert [type(i) for i in items] == [Entry, Entry, Refused, Refused, Refused, Refused]
    assert items[0].schedule == "0 3 * * *" and items[0].command == "/bin/backup --full" and items[0].number == 4
    assert items[1].schedule == "@daily" and items[1].command == "root /bin/rotate"
    assert "@reboot has no equivalent" in items[2].reason
    assert "in lower case" in items[3].reason
    assert "expected five time fields and a command" in items[4].reason
    system = parse("17 * * * * root cd / && run-parts /etc/cron.hourly\n0 1 * * * root\n@hourly\tnobody\ttrue\n",
                   system=True)
    assert (system[0].user, system[0].command) == ("root", "cd / && run-parts /etc/cron.hourly")
    assert isinstance(system[1], Refused) and "a user and a command" in system[1].reason
    assert (system[2].schedule, system[2].user, system[2].command) == ("@hourly", "nobody", "true")


def test_a_line_with_a_nul_byte_is_refused_not_written_into_a_jobs_toml_that_cannot_load():
    for line in ("PATH=\x00", "@daily /bin/x\x00y"):
        item = parse_line(2, line)
        assert isinstance(item, Refused) and "NUL byte" in item.reason
    result = translate([Source("tab", "PATH=/bin\x00\n@daily /bin/x\n")], Options("UTC", "test"))
    assert "PATH" not in build_config(tomllib.loads(result.toml), "jobs.toml").jobs["x"].env
    assert result.warnings[0].startswith("tab:1: not imported: the line holds a NUL")


def test_a_tab_separated_line_whose_command_starts_with_an_assignment_is_an_environment_line_to_cron():
    item = parse_line(3, "0\t3\t*\t*\t*\tFOO=1 /bin/job")
    assert isinstance(item, Refused) and "environment setting" in item.reason


@pytest.mark.parametrize("command,name", [
    ("/usr/local/bin/backup.sh --full", "backup"),
    ("cd / && run-parts --report /etc/cron.daily", "cron.daily"),
    ("test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.weekly; }", "cron.weekly"),
    ("command -v debian-sa1 > /dev/null && debian-sa1 1 1", "debian-sa1"),
    ("[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi",
     "sessionclean"),
    ("test -x /usr/bin/certbot -a \\! -d /run/systemd/system && perl -e 'sleep 1' && certbot -q renew", "certbot"),
    ("nice -n 10 ionice -c3 flock -n /tmp/l /opt/sync.py", "sync"),
    ("cd /srv/app && ./venv/bin/python manage.py clearsessions >> /var/log/x 2>&1", "manage-clearsessions"),
    ("php artisan schedule:run >> /dev/null 2>&1", "artisan-schedule-run"),
    ("bash -c '/opt/jobs/nightly-report.sh --all'", "nightly-report"),
    ("htmldir=$(cat /etc/x | tail -1); htmldir=${htmldir:-/var/www}; find \"$htmldir\" -delete", "htmldir"),
    ("echo hello", "echo"),
    (">/dev/null", "job"),
    ("/bin/true", "true"),  # a guard names the job when nothing else runs
    (">/dev/null 2>&1 /bin/false", "false"),  # past the redirections
    ("nice -n 5 sleep 30", "sleep"),
    ('python3 -c "print(1)"', "python3"),  # inline code is not a command line to read a name from
    ("perl -e 'print 1'", "perl"),
    ("php -r 'echo 1;' && /usr/local/bin/warm-cache", "warm-cache"),
    ("bash -lc 'backup.sh --full'", "backup"),
    ("echo HOME=$HOME USER=$USER; pwd; env | sort", "echo"),  # the first helper of a chain
    ("/usr/bin/php /var/www/cron.php", "www-cron"),  # a generic script is named with its folder
    ("php -c /etc/php/cli.ini -d memory_limit=1G /srv/shop/bin/cron.php", "shop-cron"),
    ("cd /var/www/nextcloud && php -f cron.php", "nextcloud-cron"),  # or the folder it runs in
    ("php cron.php", "php-cron"),
    ("python3 /opt/tools/report.py --daily", "report"),
])
def test_names_come_from_the_program_that_does_the_work(command, name):
    assert names.base_name(command) == name


def test_names_are_unique_and_stable():
    commands = ["debian-sa1 1 1", "debian-sa1 60 2", "/opt/backup.sh", "/srv/backup.sh", "/opt/backup.sh"]
    first = names.unique_names(commands)
    assert first == ["debian-sa1", "debian-sa1-60-2", "backup", "backup-srv", "backup-2"]
    assert names.unique_names(commands) == first
    assert all(len(n) <= 64 for n in names.unique_names(["x" * 200, "x" * 200]))
    assert names.unique_names(["/bin/true", "/bin/false", "true"]) == ["true", "false", "true-2"]
    assert names.unique_names(["true", ">/dev/null 2>&1 true", "true > /var/log/x"]) == ["true", "true-2", "true-3"]


def test_the_system_zone_is_read_as_debians_cron_reads_it(tmp_path):
    etc = tmp_path / "etc"
    (etc / "default").mkdir(parents=True)
    zoneinfo = tmp_path / "zoneinfo"
    (zoneinfo / "Europe").mkdir(parents=True)
    berlin = Path("/usr/share/zoneinfo/Europe/Berlin").read_bytes()
    (zoneinfo / "Europe" / "Berlin").write_bytes(berlin)
    assert cron_zone(str(tmp_path), str(zoneinfo)).name == "UTC"  # no /etc/localtime: glibc's UTC
    os.symlink("/usr/share/zoneinfo/America/New_York", etc / "localtime")
    assert cron_zone(str(tmp_path), str(zoneinfo)).name == "America/New_York"
    (etc / "timezone").write_text("Asia/Tokyo\n")  # not what cron reads
    assert cron_zone(str(tmp_path), str(zoneinfo)).name == "America/New_York"
    (etc / "default" / "cron").write_text('READ_ENV="yes"\nTZ=":Europe/Berlin"\n')  # systemd's EnvironmentFile
    assert cron_zone(str(tmp_path), str(zoneinfo)).name == "Europe/Berlin"
    (etc / "default" / "cron").write_text("")
    os.remove(etc / "localtime")
    (etc / "localtime").write_bytes(berlin)  # a copy, not a link: matched by content
    found = cron_zone(str(tmp_path), str(zoneinfo))
    assert (found.name, found.source) == ("Europe/Berlin", "/etc/localtime (a copy of Europe/Berlin)")
    (etc / "localtime").write_bytes(b"TZif nonsense")
    with pytest.raises(ZoneUnknown, match="--timezone"):
        cron_zone(str(tmp_path), str(zoneinfo))


def forms_result(**options):
    return translate([Source("forms", FORMS.read_text())],
                     Options("Europe/Berlin", "test", now=datetime(2026, 1, 1, tzinfo=timezone.utc),
                             home=lambda user: "/home/alice", me=lambda: "alice", **options))


def test_the_output_is_a_jobs_toml_that_loads_and_keeps_what_cron_gave_each_command():
    result = forms_result()
    config = build_config(tomllib.loads(result.toml), "jobs.toml")
    jobs = {job.entry.number: config.jobs[job.name] for job in result.jobs}
    report = jobs[7]
    assert report.schedule.expr == "0 9 * jan-mar mon-fri" and report.tz == "Europe/Berlin"
    assert report.command == ("/bin/bash", "-c", "/usr/local/bin/report.sh --quarter")  # SHELL=/bin/bash
    assert report.env == {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "GREETING": "  hello  ",
                          "HOME": "/home/alice", "LOGNAME": "alice", "USER": "alice", "SHELL": "/bin/bash"}
    assert report.workdir == "/home/alice"  # cron starts commands in $HOME
    assert report.user == "alice"  # the crontab's owner: whoever imports it, unless --user says otherwise
    assert jobs[11].command[2] == "mail -s \"It's 10pm\" joe" and jobs[11].stdin == "Joe,\n\nWhere are your kids?\n"
    assert jobs[14].command[2] == "expr $(date +%s) / 60 / 60 / 24 % 9 > /dev/null || echo Wax the floor."
    assert [jobs[n].schedule.expr for n in (15, 16, 17, 18)] == ["@weekly", "@annually", "@midnight", "@monthly"]
    assert jobs[21].schedule.expr == "0 5 * * 5"  # 5#2, as cron reads it
    assert jobs[24].schedule.expr == "*/10 5 * * *"
    assert len({job.name for job in result.jobs}) == len(result.jobs)
    assert "[jobs.backup]" in result.toml and "[jobs.backup-weekly]" in result.toml


def test_every_line_with_no_direct_equivalent_is_one_warning_naming_its_line_and_kept_as_a_comment():
    result = forms_result()
    warnings = "\n".join(result.warnings)
    for number, words in [(6, "MAILTO=ops@example.com: panda-tui sends no mail"), (19, "MAILTO is empty"),
                          (11, "the unescaped % ends the command, as cron reads it: 'mail -s \"It\\'s 10pm\" joe' "
                               "runs with the rest as its standard input (imported as `stdin`)"),
                          (20, "@reboot has no equivalent"), (21, "cron as '5'"), (22, "never fires"),
                          (23, "matches nothing"), (24, "cron as '5'"), (25, "a step needs a range"),
                          (26, "in lower case"), (27, "expected five time fields")]:
        assert f"forms:{number}: " in warnings and words in warnings, (number, words, warnings)
    assert len(result.warnings) == 11  # one per line
    assert "#   @reboot /usr/local/bin/on-boot" in result.toml
    assert "# [alerts.ops]" in result.toml and '# alerts = ["ops"]  # MAILTO=ops@example.com' in result.toml


def test_cron_tz_sets_the_timezone_and_tz_only_the_environment():
    text = "CRON_TZ=America/New_York\n0 9 * * * /bin/a\nTZ=Asia/Tokyo\n0 10 * * * /bin/b\nCRON_TZ=Nowhere/X\n"
    result = translate([Source("tab", text)], Options("Europe/Berlin", "test"))
    config = build_config(tomllib.loads(result.toml), "jobs.toml")
    assert (config.jobs["a"].tz, "TZ" in config.jobs["a"].env) == ("America/New_York", False)
    assert (config.jobs["b"].tz, config.jobs["b"].env["TZ"]) == ("America/New_York", "Asia/Tokyo")
    assert any("tab:1: CRON_TZ=America/New_York" in w and "Debian's cron ignores it" in w for w in result.warnings)
    assert any("tab:3: TZ=Asia/Tokyo: passed to the commands below" in w for w in result.warnings)
    assert any("tab:5: CRON_TZ=Nowhere/X: not a zone name" in w for w in result.warnings)


def homes(user):
    return {"alice": "/home/alice", "root": "/root", "www-data": "/var/www"}.get(user)


def test_a_user_crontab_runs_as_its_owner_with_the_environment_cron_gave_it():
    text = "0 1 * * * /bin/a\nHOME=/srv/site\nUSER=site\nLOGNAME=mallory\nSHELL=/bin/bash\n0 2 * * * /bin/b\n"
    result = translate([Source("tab", text)], Options("UTC", "test", home=homes, me=lambda: "alice"))
    jobs = build_config(tomllib.loads(result.toml), "jobs.toml").jobs
    assert (jobs["a"].user, jobs["a"].workdir) == ("alice", "/home/alice")
    assert jobs["a"].env == {"HOME": "/home/alice", "LOGNAME": "alice", "USER": "alice", "SHELL": "/bin/sh"}
    # HOME, SHELL (and USER, which Debian's cron does not set) may be overridden by the crontab; LOGNAME not
    assert (jobs["b"].user, jobs["b"].workdir) == ("alice", "/srv/site")
    assert jobs["b"].env == {"HOME": "/srv/site", "USER": "site", "LOGNAME": "alice", "SHELL": "/bin/bash"}
    assert result.warnings == ["tab:4: LOGNAME=mallory: cron sets LOGNAME to the crontab's owner whatever this "
                               "says, and so does the import"]
    assert result.summary == [
        "imported 2 jobs from tab, firing in UTC (test)",
        "these are alice's jobs: they run as alice (user = 'alice'), with HOME, LOGNAME, USER and SHELL as cron "
        "set them",
        "a scheduler running as neither alice nor root (such as the service's `panda`) refuses a jobs.toml with "
        "them: run it as alice (`systemd-unit --user alice`), or edit each job's user, workdir and env"]
    assert "# These are alice's jobs: they run as alice" in result.toml


def test_whose_crontab_it_is_comes_from_user_then_the_spool_then_who_imports_it():
    def owner(label, **options):
        options = {"me": lambda: "alice", **options}
        result = translate([Source(label, "@daily /bin/a\n")], Options("UTC", "test", home=homes, **options))
        return result.jobs[0].user, result.summary
    assert owner("tab", owner="root")[0] == "root"
    user, said = owner("/var/spool/cron/crontabs/www-data")
    assert user == "www-data" and "these are www-data's jobs" in said[1]
    assert owner("/tmp/crontabs/www-data")[0] == "alice"
    user, said = owner("tab", me=lambda: None)  # a uid with no account: no user, and said so
    assert user is None and said[1].startswith("1 job has no `user`: whose crontab this is is unknown")
    assert "--user NAME" in said[1] and len(said) == 2


def test_system_jobs_run_as_their_lines_users_and_only_root_can_run_them_all():
    text = "0 1 * * * root /bin/a\n0 2 * * * www-data /bin/b\n0 3 * * * root /bin/c\n"
    result = translate([Source("/etc/cron.d/x", text, system=True)], Options("UTC", "test", home=homes))
    jobs = build_config(tomllib.loads(result.toml), "jobs.toml").jobs
    assert (jobs["b"].user, jobs["b"].workdir, jobs["b"].env["HOME"], jobs["b"].env["LOGNAME"]) == \
        ("www-data", "/var/www", "/var/www", "www-data")
    assert result.summary[1:] == [
        "these are system jobs: each runs as its line's user (root: 2, www-data: 1), with HOME, LOGNAME, USER and "
        "SHELL as cron set them",
        "a scheduler not running as root refuses a jobs.toml with them: run it as root "
        "(`systemd-unit --user root`), or edit each job's user, workdir and env"]


def test_a_system_crontab_read_as_a_user_one_is_said_naming_system():
    text = ("17 * * * * root cd / && run-parts --report /etc/cron.hourly\n"
            "25 6 * * * root test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )\n"
            "0 1 * * * /bin/true\n")
    result = translate([Source("tab", text)], Options("UTC", "test", is_account=lambda name: name == "root"))
    assert result.warnings == [
        "tab:1: 2 of 3 lines start their command with an account name (root): is this a system crontab, with a "
        "user field after the schedule (as /etc/crontab)? Then import it with --system: read as it is, each job "
        "runs a program called 'root'"]
    system = text.replace("/bin/true", "nobody /bin/true")
    assert translate([Source("tab", system, system=True)], Options("UTC", "test")).warnings == []
    # not when the word is a program too (sync is an account on Debian), alone, or on a minority of lines
    for fine in ("0 1 * * * sync --data /srv\n", "0 1 * * * root\n",
                 "0 1 * * * root x\n0 2 * * * /bin/a\n0 3 * * * /bin/b\n"):
        assert translate([Source("tab", fine)], Options("UTC", "test", is_account=lambda n: n in ("sync", "root"))
                         ).warnings == [], fine


def test_system_crontab_paths_are_known():
    assert system_path("/etc/crontab") and system_path("/etc/cron.d/php") and system_path("/etc/cron.d/../crontab")
    assert not system_path("/etc/cron.daily/php") and not system_path("crontab") and not system_path("/tmp/crontab")


def test_the_header_and_the_summary_name_the_zones_the_jobs_fire_in():
    def said(text):
        result = translate([Source("tab", text)], Options("Etc/UTC", "/etc/localtime → Etc/UTC", me=lambda: "alice"))
        header = " ".join(line[2:].strip() for line in result.toml.split("\n\n")[0].splitlines()[2:])
        return header, result.summary[0]
    header, summary = said("0 1 * * * /bin/a\n")
    assert header.startswith("Jobs fire in Etc/UTC, the zone Debian's cron uses on this machine (/etc/localtime")
    assert summary == "imported 1 job from tab, firing in Etc/UTC (/etc/localtime → Etc/UTC)"
    header, summary = said("CRON_TZ=Europe/Berlin\n0 1 * * * /bin/a\n0 2 * * * /bin/b\n")
    assert header.startswith("Jobs fire in Europe/Berlin, from CRON_TZ (as cronie reads it; Debian's cron ignores "
                             "it and would fire them in Etc/UTC, /etc/localtime → Etc/UTC).")
    assert summary == "imported 2 jobs from tab, firing in Europe/Berlin (CRON_TZ)"
    header, summary = said("0 1 * * * /bin/a\nCRON_TZ=Europe/Berlin\n0 1 * * * /bin/b\n0 2 * * * /bin/c\n")
    each = "Europe/Berlin (2 jobs, CRON_TZ), Etc/UTC (1 job, /etc/localtime → Etc/UTC)"
    assert header.startswith(f"Jobs fire in each job's own timezone: {each}.")
    assert summary == f"imported 3 jobs from tab, firing in each job's own timezone: {each}"
    assert "Etc/UTC" not in said("CRON_TZ=Asia/Tokyo\n@daily /bin/a\n")[1]


def test_system_format_user_and_disabled():
    text = "SHELL=/bin/sh\n*/5 * * * * www-data php /srv/cron.php\n"
    result = translate([Source("/etc/cron.d/app", text, system=True)],
                       Options("UTC", "test", disabled=True))
    config = build_config(tomllib.loads(result.toml), "jobs.toml")
    job = config.jobs["srv-cron"]
    assert (job.user, job.enabled, job.command, job.workdir) == ("www-data", False, "php /srv/cron.php", "/var/www")
    assert "/etc/cron.d/app line 2:" in result.toml


def test_a_windows_line_end_and_an_oversized_input_are_said_not_hidden():
    text = "0 1 * * * /bin/job\r\n0 2 * * * cat%" + "x" * (70 * 1024) + "\n"
    result = translate([Source("tab", text)], Options("UTC", "test"))
    assert any(w.startswith("tab:1: the line ends with a carriage return") for w in result.warnings)
    assert any(w.startswith("tab:2: not imported: its % input is over 64 KiB") for w in result.warnings)
    assert [job.entry.number for job in result.jobs] == [1]


def test_a_percent_that_cuts_a_quote_or_a_substitution_is_said_with_how_to_escape_it():
    text = ('0 1 * * * echo "50% done"\n0 2 * * * tar czf /b/etc-$(date +%F).tgz /etc\n'
            "0 3 * * * date +\\%s > /tmp/stamp\n0 4 * * * mail joe%hi\n")
    result = translate([Source("tab", text)], Options("UTC", "test"))
    assert result.warnings[0] == ("tab:1: an unescaped % inside double quotes ends the command there, as cron reads "
                                  "it: cron runs 'echo \"50' (a shell syntax error) with the rest as its standard "
                                  "input; write \\% for a %")
    assert result.warnings[1].startswith("tab:2: an unescaped % inside $( ) ends the command there")
    assert result.warnings[2].startswith("tab:4: the unescaped % ends the command")  # line 3 is escaped: no word
    assert len(result.warnings) == 3
    config = build_config(tomllib.loads(result.toml), "jobs.toml")
    assert (config.jobs["echo"].command, config.jobs["echo"].stdin) == ('echo "50', ' done"\n')  # as cron runs it


@pytest.mark.parametrize("command,inside", [
    ('echo "50', "double quotes"), ("echo '50", "single quotes"), ("x > /l/a-$(date +", "$( )"),
    ("echo `date +", "backquotes"), ('echo "$(date +', "$( )"), ('echo \\"50', None), ("echo $( (a) ) ok", None),
    ("echo 'a\"b'", None), ('mail -s "It\'s 10pm" joe', None),
])
def test_what_a_cut_command_is_still_inside(command, inside):
    assert open_at_end(command) == inside


def test_a_last_entry_without_a_newline_is_said_as_cron_treats_it():
    result = translate([Source("tab", "0 1 * * * /bin/a\n0 2 * * * /bin/b")], Options("UTC", "test"))
    assert result.warnings == ["tab:2: the file ends without a newline: Debian's cron ignores such a file (\"Missing "
                               "newline before EOF, this crontab file will be ignored\") and `crontab` refuses to "
                               "install it, so cron may never have run these jobs; imported anyway"]
    assert len(result.jobs) == 2
    for fine in ("0 1 * * * /bin/a\n", "0 1 * * * /bin/a\n# the end", "0 1 * * * /bin/a\nX=1", "0 1 * * * /bin/a\n  "):
        assert translate([Source("tab", fine)], Options("UTC", "test")).warnings == [], fine


FIELD_WORDS = ["*", "*/5", "0", "7", "59", "1-5", "5-1", "mon", "jan-mar", "5/15", "1,2", "#", "L", "60", "-",
               "@daily", "@reboot", "@hourly", "@x", "sun-sat/2", "0-7"]
COMMAND_WORDS = ["/bin/true", "echo", "%", "\\%", "\\\\", "'", '"', "a=b", "$HOME", "&&", ";", "é", "\t", "#",
                 "cd /", "run-parts", "\x01", "{", "}", "2>&1", ">"]


@given(st.lists(st.one_of(
    st.builds(lambda f, c: " ".join(f) + " " + "".join(c), st.lists(st.sampled_from(FIELD_WORDS), min_size=1,
                                                                     max_size=7),
              st.lists(st.sampled_from(COMMAND_WORDS), max_size=8)),
    st.builds(lambda k, v: f"{k}={v}", st.sampled_from(["PATH", "SHELL", "MAILTO", "CRON_TZ", "TZ", "X Y", "HOME"]),
              st.text(max_size=12)),
    st.text(max_size=30)), max_size=12), st.booleans())
@pytest.mark.slow  # 500 examples: 5-12 s
@settings(max_examples=500, deadline=None)
def test_any_crontab_imports_to_a_jobs_toml_that_loads_or_says_why_per_line(lines, system):
    text = "\n".join(lines)
    result = translate([Source("tab", text, system)], Options("Europe/Berlin", "test"))
    if result.jobs:
        build_config(tomllib.loads(result.toml), "jobs.toml")
    assert len({job.name for job in result.jobs}) == len(result.jobs)
    assert all(w.startswith("tab:") for w in result.warnings)
