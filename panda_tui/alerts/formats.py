"""Alert payloads: "json" carries the whole event, "slack" a one-line text."""

from __future__ import annotations

from typing import Any

from panda_tui.text import glyph



def slack(event: dict[str, Any]) -> dict[str, Any]:
    parts = [f"{glyph(event['event'])} {event.get('job') or 'panda-tui'}: {event['event']}"]
    if event.get("run_id") is not None:
        parts.append(f"run {event['run_id']}")
    if event.get("exit_code") is not None:
        parts.append(f"exit {event['exit_code']}")
    if event.get("duration_s") is not None:
        parts.append(f"took {event['duration_s']:.1f}s")
    if event.get("scheduled_at"):
        parts.append(f"slot {event['scheduled_at']}")
    text = " · ".join(parts)
    if event.get("reason"):
        text += f"\n{event['reason']}"
    return {"text": text}


def body(fmt: str, event: dict[str, Any]) -> dict[str, Any]:
    return slack(event) if fmt == "slack" else event
