"""What an alert says: short for a phone push, whole for e-mail, one message for a group."""

from __future__ import annotations

from panda_tui.alerts import formats

EVENT = {"event": "failed", "job": "backup", "run_id": 41, "attempt": 2, "status": "failed", "exit_code": 3,
         "duration_s": 12.5, "reason": "exit 3", "error_lines": ["ERROR: disk /data is full " + "x" * 400],
         "last_success": "2026-12-01T02:00:00Z (1d ago)", "changes": ["image: sha256:aa → sha256:bb"],
         "runbook": "https://wiki.example.com/backup", "logs_command": "panda-tui logs backup --run 41",
         "link": "https://panda.example.com/api/runs/41/log", "scheduled_at": "2026-12-02T02:00:00Z"}


def test_the_headline_names_job_status_run_and_attempt():
    assert formats.headline(EVENT) == "✗ backup: failed · run 41 (attempt 2) · exit 3 · took 12.5s"


def test_a_push_is_short_and_mail_is_whole():
    push = formats.short(EVENT)
    assert len(push) <= formats.SHORT_CHARS and push.startswith("ERROR: disk /data is full")
    mail = formats.full(EVENT)
    for part in ("first error lines:", "last succeeded: 2026-12-01T02:00:00Z (1d ago)",
                 "what changed since the last good run:", "  image: sha256:aa → sha256:bb",
                 "runbook: https://wiki.example.com/backup", "open: https://panda.example.com/api/runs/41/log",
                 "logs: panda-tui logs backup --run 41"):
        assert part in mail


def test_a_group_is_one_message_naming_every_job():
    group = {"event": "group", "window": None,
             "alerts": [{**EVENT, "job": name, "run_id": i} for i, name in enumerate(("a", "b", "c"))]}
    assert formats.headline(group) == "3 alerts: a, b, c (failed)"
    assert formats.slack(group)["text"].splitlines()[1:] == [
        f"✗ {name}: failed · run {i} (attempt 2) · exit 3 · took 12.5s" for i, name in enumerate("abc")]
    assert formats.failure(group) and not formats.failure({"event": "recovered"})
    held = {**group, "window": "db upgrade"}
    assert formats.headline(held).startswith("3 alerts held during db upgrade: a, b, c")


def test_a_timeout_reads_as_the_console_and_status_say_it_while_the_payload_keeps_its_value():
    timed_out = {**EVENT, "event": "timed_out", "status": "timed_out"}
    assert formats.headline(timed_out).startswith("⏱ backup: timeout · run 41")
    assert "status: timeout" in formats.full(timed_out) and "timed_out" not in formats.full(timed_out)
    assert formats.body("json", timed_out)["event"] == "timed_out"  # the JSON payload is an API: unchanged
