"""How a stored log line reads on screen: stream marks, JSON lines as level + message + fields."""

from __future__ import annotations

import json
import re

from panda_tui.store.logs import LogLine
from panda_tui.text import safe

MARK = {"out": "  ", "err": "! ", "sys": "# "}
ERROR_LEVELS = {"error", "err", "fatal", "critical", "crit", "panic", "alert", "emerg"}
_ERROR_WORDS = re.compile(r"\b(error|fatal|panic|exception|traceback|failed|timed out)\b", re.IGNORECASE)
_MESSAGE_KEYS = ("msg", "message", "event")
_LEVEL_KEYS = ("level", "severity", "lvl", "levelname")


def parse_json(text: str) -> dict | None:
    if not text.startswith("{") or not text.endswith("}"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def render(line: LogLine, raw: bool = False) -> str:
    text = line.text
    if not raw:
        record = parse_json(text)
        if record is not None:
            text = _structured(record)
    return MARK.get(line.stream, "  ") + safe(text)


def _structured(record: dict) -> str:
    level = next((str(record[k]) for k in _LEVEL_KEYS if k in record), "")
    message = next((str(record[k]) for k in _MESSAGE_KEYS if k in record), "")
    rest = [f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in record.items()
            if k not in _LEVEL_KEYS and k not in _MESSAGE_KEYS and k not in ("ts", "time", "timestamp")]
    head = f"{level.upper():5} " if level else ""
    return f"{head}{message}" + (f"  {' '.join(rest[:8])}" if rest else "")


def is_error(line: LogLine) -> bool:
    if line.stream == "err":
        return True
    record = parse_json(line.text)
    if record is not None:
        level = next((str(record[k]).lower() for k in _LEVEL_KEYS if k in record), "")
        return level in ERROR_LEVELS
    return bool(_ERROR_WORDS.search(line.text))
