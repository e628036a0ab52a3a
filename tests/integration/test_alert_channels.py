"""Any channel through Apprise: real SMTP and HTTP receivers on 127.0.0.1, the same durable outbox."""

from __future__ import annotations

import textwrap

import pytest

from panda_tui.alerts import channels
from panda_tui.config.channel_check import load_apprise
from panda_tui.store import outbox
from tests.conftest import run_cli
from tests.integration.http_server import Recorder
from tests.integration.smtp_server import Mailbox
from tests.integration.test_alerts import World, deliver_all
from tests.jobfiles import write_jobs


@pytest.fixture
def mailbox():
    box = Mailbox()
    yield box
    box.close()


@pytest.fixture
def server():
    recorder = Recorder()
    yield recorder
    recorder.close()


def targets(url: str, extra: str = "", job: str = "") -> str:
    return textwrap.dedent(f"""
        [alerts.ops]
        url = "{url}"
        on = ["failed", "recovered"]
        timeout = "3s"
        {extra}
        [jobs.j]
        schedule = "@daily"
        command = "true"
        alerts = ["ops"]
        {job}
        """)


async def test_mail_reaches_a_real_smtp_server(tmp_path, mailbox):
    w = World(tmp_path, targets(mailbox.url()))
    w.run("failed")
    deliverer = w.deliverer()
    await deliver_all(deliverer)
    await deliverer.close()
    ((subject, body),) = mailbox.texts()
    assert subject.startswith("✗ j: failed · run 1") and "failed for a test" in body
    (item,) = outbox.listing(w.conn)
    assert item["delivered_at"] is not None and item["last_status"] is None and item["last_error"] is None


async def test_ntfy_with_a_secret_in_its_url_that_never_reaches_the_store(tmp_path, server, monkeypatch):
    monkeypatch.setenv("NTFY_TOKEN", "tk_secret_value_42")
    host = server.url.removeprefix("http://")
    w = World(tmp_path, targets(f"ntfy://{host}/ops-topic?token=${{secret:NTFY_TOKEN}}"))
    w.run("failed")
    deliverer = w.deliverer()
    await deliver_all(deliverer)
    await deliverer.close()
    (request,) = server.requests
    assert request["json"]["topic"] == "ops-topic" and request["json"]["title"].startswith("✗ j: failed")
    assert request["headers"]["Authorization"] == "Bearer tk_secret_value_42"
    assert b"tk_secret_value_42" not in open(w.db.path, "rb").read()


async def test_a_webhook_with_a_secret_in_its_url_gets_the_value_which_never_reaches_the_store(
        tmp_path, server, monkeypatch):
    monkeypatch.setenv("HOOK_TOKEN", "hook_secret_value_7")
    w = World(tmp_path, targets(f"{server.url}/hook?token=${{secret:HOOK_TOKEN}}", extra='format = "json"'))
    w.run("failed")
    deliverer = w.deliverer()
    await deliver_all(deliverer)
    await deliverer.close()
    (request,) = server.requests
    assert (request["path"], request["query"]) == ("/hook", {"token": ["hook_secret_value_7"]})
    assert b"hook_secret_value_7" not in open(w.db.path, "rb").read()


async def test_a_refused_channel_is_retried_and_its_error_is_masked(tmp_path, monkeypatch):
    monkeypatch.setenv("MAIL_PASSWORD", "pw-very-secret-1")
    url = "mailtos://ops:${secret:MAIL_PASSWORD}@127.0.0.1:9?from=panda@example.com&to=ops@example.com"
    w = World(tmp_path, targets(url))
    w.run("failed")
    deliverer = w.deliverer()
    await deliver_all(deliverer)
    await deliverer.close()
    (item,) = outbox.listing(w.conn)
    assert item["delivered_at"] is None and item["attempts"] == 1 and item["last_error"]
    assert item["next_attempt_at"] > w.clock.now()
    assert b"pw-very-secret-1" not in open(w.db.path, "rb").read()
    listed = run_cli("alerts", "--db", w.db.path)
    assert "retrying" in listed.stdout and "pw-very-secret-1" not in listed.stdout


def test_validate_names_file_target_and_field_for_a_bad_channel(tmp_path):
    cfg, _ = write_jobs(tmp_path, targets("nosuchchannel://x/y", extra='format = "slack"'))
    result = run_cli("validate", "--config", cfg)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert any('alert "ops": url: nosuchchannel:// is not a channel Apprise knows' in line for line in lines)
    assert any('alert "ops": format: only for an http(s) webhook' in line for line in lines)


def test_alerts_test_sends_mail_and_prints_the_answer(tmp_path, mailbox):
    cfg, db = write_jobs(tmp_path, targets(mailbox.url()))
    ok = run_cli("alerts", "test", "ops", "--config", cfg, "--db", db)
    assert ok.returncode == 0 and ok.stdout.startswith("ops: sent in "), ok.stderr
    ((subject, _),) = mailbox.texts()
    assert "panda-tui: test" in subject
    bad_cfg, _ = write_jobs(tmp_path, targets("ntfy://127.0.0.1:9/topic"), name="bad.toml")
    bad = run_cli("alerts", "test", "ops", "--config", bad_cfg, "--db", db)
    assert bad.returncode == 1 and "ops: failed after" in bad.stderr


def test_pagerduty_trigger_and_resolve_share_one_dedup_key_per_job():
    apprise = load_apprise()
    raised = apprise.Apprise.instantiate(channels.with_dedup("pagerduty://ikey@apikey", "nightly db", "failed"))
    resolved = apprise.Apprise.instantiate(channels.with_dedup("pagerduty://ikey@apikey", "nightly db", "recovered"))
    assert (raised.action, resolved.action) == ("trigger", "resolve")
    assert raised.dedup == resolved.dedup == "panda-tui-nightly-db"
    assert channels.with_dedup("slack://a/b/c", "nightly db", "failed") == "slack://a/b/c"


async def test_the_alert_carries_the_answer_and_mail_gets_it_whole(tmp_path, mailbox, monkeypatch):
    from panda_tui.alerts import answer, formats
    from panda_tui.alerts.delivery import send_apprise
    from tests.integration.helpers import Bench
    monkeypatch.setenv("DB_PASSWORD", "hunter2-very-secret")
    monkeypatch.setattr(answer, "changes_source", lambda conn, run: ["env DB_HOST: db1 → db2"])
    flag = tmp_path / "broken"
    b = Bench(tmp_path, targets(mailbox.url(), job=f'''runbook = "https://wiki.example.com/nightly"
        secrets = ["DB_PASSWORD"]
        command = "echo starting; if [ -f {flag} ]; then echo 'ERROR: db refused password '$DB_PASSWORD >&2; exit 3; fi"
        [serve]
        public_url = "https://panda.example.com/"
        ''').replace('command = "true"\n', ""))
    await b.run("j")
    flag.write_text("")
    run = await b.run("j")
    (item,) = [i for i in outbox.due(b.sched.conn, 1e12) if i.target == "ops"]
    assert "error_lines" not in item.payload  # read from the log when it is sent, not in the ledger's write
    event = answer.complete(b.db, item.payload)
    assert (event["job"], event["status"], event["run_id"], event["attempt"]) == ("j", "failed", run.id, 1)
    assert event["error_lines"] == ["ERROR: db refused password ***"]
    assert event["last_success"].endswith(" ago)") and event["last_success_at"].endswith("Z")
    assert event["changes"] == ["env DB_HOST: db1 → db2"]
    assert event["runbook"] == "https://wiki.example.com/nightly"
    assert event["logs_command"] == f"panda-tui logs j --run {run.id}"
    assert event["link"] == f"https://panda.example.com/api/runs/{run.id}/log"
    push = formats.short(event)
    assert len(push) <= formats.SHORT_CHARS and "ERROR: db refused password ***" in push and event["link"] in push
    assert send_apprise(b.sched.config, b.sched.config.alerts["ops"], event) == (None, None)
    ((subject, body),) = mailbox.texts()
    assert subject.startswith(f"✗ j: failed · run {run.id}")
    for part in ("ERROR: db refused password ***", "last succeeded: ", "env DB_HOST: db1 → db2",
                 "runbook: https://wiki.example.com/nightly", f"logs: panda-tui logs j --run {run.id}"):
        assert part in body
    assert "hunter2" not in body
    await b.close()


async def test_a_hanging_channel_times_out_and_stays_due(tmp_path, server):
    server.mode = "hang"
    w = World(tmp_path, targets(f"ntfy://{server.url.removeprefix('http://')}/topic").replace('"3s"', '"1s"'))
    w.run("failed")
    deliverer = w.deliverer()
    await deliver_all(deliverer)
    await deliverer.close()
    (item,) = outbox.listing(w.conn)
    assert item["last_error"] == "no answer within 1s" and item["delivered_at"] is None
    assert item["next_attempt_at"] > w.clock.now()
