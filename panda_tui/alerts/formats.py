"""Alert payloads and texts: "json" carries the whole event, "slack" a short text; Apprise channels get a
title and a body, short for phone pushes and chats, the full answer for e-mail. A group (group_wait, or a
maintenance window's summary) is one event {"event": "group", "alerts": [...]} naming every job."""

from __future__ import annotations

from typing import Any

from panda_tui.text import glyph, status_word

SHORT_CHARS = 300  # a phone notification shows about this much
GOOD = ("succeeded", "recovered", "fast", "test")


def headline(event: dict[str, Any]) -> str:
    """One line: what happened to which job, which run and attempt."""
    if event.get("event") == "group":
        return group_title(event)
    parts = [f"{glyph(event['event'])} {event.get('job') or 'panda-tui'}: {status_word(event['event'])}"]
    if event.get("run_id") is not None:
        run = f"run {event['run_id']}"
        if (event.get("attempt") or 1) > 1:
            run += f" (attempt {event['attempt']})"
        parts.append(run)
    if event.get("exit_code") is not None:
        parts.append(f"exit {event['exit_code']}")
    if event.get("duration_s") is not None:
        parts.append(f"took {event['duration_s']:.1f}s")
    return " · ".join(parts)


def group_title(event: dict[str, Any]) -> str:
    alerts = event.get("alerts", [])
    jobs = sorted({a.get("job") or "panda-tui" for a in alerts})
    kinds = sorted({status_word(a["event"]) for a in alerts})
    what = f"{len(alerts)} alerts" if len(alerts) != 1 else "1 alert"
    where = f" held during {event['window']}" if event.get("window") else ""
    return f"{what}{where}: {', '.join(jobs)} ({', '.join(kinds)})"


def short(event: dict[str, Any]) -> str:
    """The body of a phone push: the first error line, when it last succeeded, where to look."""
    if event.get("event") == "group":
        return "\n".join(headline(a) for a in event.get("alerts", []))[:SHORT_CHARS]
    lines = []
    if event.get("error_lines"):
        lines.append(event["error_lines"][0])
    elif event.get("reason"):
        lines.append(event["reason"])
    if event.get("last_success"):
        lines.append(f"last ok: {event['last_success']}")
    lines.append(event.get("link") or event.get("logs_command") or "")
    return "\n".join(line for line in lines if line)[:SHORT_CHARS]


def full(event: dict[str, Any]) -> str:
    """The e-mail body: everything the person paged needs, in reading order."""
    if event.get("event") == "group":
        return "\n\n".join(headline(a) + "\n" + full(a) for a in event.get("alerts", []))
    out = [headline(event)]
    for key, label in (("status", "status"), ("scheduled_at", "slot"), ("host", "host"), ("reason", "reason"),
                       ("last_success", "last succeeded")):
        if event.get(key):
            out.append(f"{label}: {status_word(event[key]) if key == 'status' else event[key]}")
    if event.get("error_lines"):
        out += ["", "first error lines:", *("  " + line for line in event["error_lines"])]
    if event.get("changes"):
        out += ["", "what changed since the last good run:", *("  " + line for line in event["changes"])]
    if event.get("log_tail") and not event.get("error_lines"):
        out += ["", "last log lines:", *("  " + line for line in event["log_tail"][-10:])]
    out.append("")
    for key, label in (("runbook", "runbook"), ("link", "open"), ("logs_command", "logs")):
        if event.get(key):
            out.append(f"{label}: {event[key]}")
    return "\n".join(out).rstrip()


def slack(event: dict[str, Any]) -> dict[str, Any]:
    if event.get("event") == "group":
        return {"text": group_title(event) + "\n" + short(event)}
    text = headline(event)
    if event.get("scheduled_at"):
        text += f" · slot {event['scheduled_at']}"
    detail = [event["reason"]] if event.get("reason") else []
    detail += [line for line in short(event).splitlines() if line != event.get("reason")]
    return {"text": "\n".join([text, *detail])}


def body(fmt: str, event: dict[str, Any]) -> dict[str, Any]:
    return slack(event) if fmt == "slack" else event


def failure(event: dict[str, Any]) -> bool:
    if event.get("event") == "group":
        return any(failure(a) for a in event.get("alerts", []))
    return event.get("event") not in GOOD
