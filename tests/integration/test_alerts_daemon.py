"""One end-to-end run with a real daemon: mail to a real SMTP server and a webhook to a real HTTP server.
A job failing every 2 s with after = 3 mails first at its third failure; ack stops the reminders; its
recovery sends one mail; five jobs failing in one slot with group_wait make one webhook message."""

from __future__ import annotations

import json
import textwrap

from contextlib import closing

import pytest

from panda_tui.store import acks, connect

from tests.conftest import run_cli
from tests.integration.helpers import Daemon, ledger, wait_until
from tests.integration.http_server import Recorder
from tests.integration.smtp_server import Mailbox
from tests.jobfiles import write_jobs

pytestmark = pytest.mark.slow
GROUP = ("g1", "g2", "g3", "g4", "g5")


def jobs_toml(mail_url: str, hook_url: str, flag: str) -> str:
    text = textwrap.dedent(f"""
        [alerts.mail]
        url = "{mail_url}"
        on = ["failed", "recovered"]

        [alerts.hook]
        url = "{hook_url}/hook"
        on = ["failed"]
        group_wait = "5s"

        [jobs.flaky]
        schedule = "@every 2s"
        command = "if [ -f {flag} ]; then echo fine; else echo 'ERROR: disk /data is full' >&2; exit 1; fi"
        after = 3
        repeat_after = "6s"
        alerts = ["mail"]
        """)
    for name in GROUP:
        text += f'\n[jobs.{name}]\nschedule = "@every 15s"\ncommand = "echo {name} broke >&2; exit 2"\nalerts = ["hook"]\n'
    return text


def failures(db: str, job: str) -> list:
    return [r for r in ledger(db, job) if r.status == "failed"]


def test_after_ack_recovery_and_group_wait_with_a_real_daemon(tmp_path):
    mailbox, server = Mailbox(), Recorder()
    flag = tmp_path / "fixed"
    cfg, db = write_jobs(tmp_path, jobs_toml(mailbox.url(), server.url, str(flag)))
    d = Daemon(cfg, db)
    try:
        wait_until(lambda: mailbox.texts(), 60, what="the first mail")
        third = failures(db, "flaky")[2]
        subject, body = mailbox.texts()[0]
        assert subject.startswith(f"✗ flaky: failed · run {third.id}")  # not the first or second failure
        assert "ERROR: disk /data is full" in body and "logs: panda-tui logs flaky --run" in body

        acked = run_cli("ack", "flaky", "--note", "cleaning /data", "--config", cfg, "--db", db)
        assert acked.returncode == 0 and 'acknowledged "flaky" by ' in acked.stdout, acked.stderr
        status = run_cli("status", "--config", cfg, "--db", db)
        assert "flaky: acknowledged by " in status.stdout and "cleaning /data" in status.stdout
        document = json.loads(run_cli("status", "--json", "--config", cfg, "--db", db).stdout)
        assert document["acks"]["flaky"]["note"] == "cleaning /data"
        unknown = run_cli("ack", "nope", "--config", cfg, "--db", db)
        assert unknown.returncode == 2 and "nope" in unknown.stderr

        with closing(connect(db)) as conn:
            ack_at = acks.get(conn, "flaky").at
        wait_until(lambda: any(r.finished_at > ack_at + 8 for r in failures(db, "flaky")), 60,
                   what="failures past repeat_after since the ack")
        after_ack = {r.id for r in failures(db, "flaky") if r.finished_at > ack_at}
        mailed = {int(s.split("run ")[1].split(" ")[0]) for s, _ in mailbox.texts()}
        assert mailed and not mailed & after_ack  # a reminder was due: the ack held it
        before = len(mailbox.texts())

        flag.write_text("")
        wait_until(lambda: len(mailbox.texts()) > before, 60, what="the recovery mail")
        assert "flaky: recovered" in mailbox.texts()[before][0]
        wait_until(lambda: sum(r.status == "succeeded" for r in ledger(db, "flaky")) >= 3, 60, what="more successes")
        assert len(mailbox.texts()) == before + 1  # one recovery mail
        assert "flaky: acknowledged" not in run_cli("status", "--config", cfg, "--db", db).stdout

        hooks = [r for r in server.requests if r["path"] == "/hook"]
        assert len(hooks) == 1  # five failures, one message
        assert sorted(a["job"] for a in hooks[0]["json"]["alerts"]) == list(GROUP)
    finally:
        assert d.stop() == 0
        mailbox.close()
        server.close()


def test_an_ack_is_recorded_with_no_scheduler_and_the_next_one_honours_it(tmp_path):
    """3 AM, the daemon is down: `ack` and `unack` are notes in the store, recorded all the same (with the
    scheduler's own code); the daemon started afterwards sends no reminder for the acked streak."""
    server = Recorder()
    cfg, db = write_jobs(tmp_path, textwrap.dedent(f"""
        [alerts.hook]
        url = "{server.url}/hook"
        on = ["failed"]

        [jobs.broken]
        schedule = "@every 2s"
        command = "echo 'ERROR: disk /data is full' >&2; exit 1"
        repeat_after = "1s"
        alerts = ["hook"]
        """))
    try:
        d = Daemon(cfg, db)
        wait_until(lambda: server.requests, 60, what="the first alert")
        assert d.stop() == 0
        for verb in ("ack", "unack", "ack"):
            said = run_cli(verb, "broken", "--note", "on it", "--config", cfg, "--db", db) if verb == "ack" else \
                run_cli(verb, "broken", "--config", cfg, "--db", db)
            assert said.returncode == 0, said.stderr
            assert said.stdout.endswith("(no scheduler runs: recorded in the store; alerts honour it once one "
                                        "starts)\n")
        with closing(connect(db)) as conn:
            ack = acks.get(conn, "broken")
        assert ack is not None and ack.note == "on it"
        assert "broken: acknowledged by " in run_cli("status", "--config", cfg, "--db", db).stdout
        sent = len(server.requests)
        d = Daemon(cfg, db)
        wait_until(lambda: sum(r.finished_at > ack.at + 2 for r in failures(db, "broken")) >= 2, 60,
                   what="failures past repeat_after since the ack")
        assert d.stop() == 0
        assert len(server.requests) == sent  # reminders were due: the ack held them
    finally:
        server.close()
