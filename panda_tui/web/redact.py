"""What serve writes about requests (its access log on stdout, its errors on stderr) never holds a token:
a `token=` value is masked wherever it appears (a path, a query, a request line the parser quotes), and a
malformed request is one line naming why, not a traceback quoting the request line."""

from __future__ import annotations

import logging
import re
import sys

from aiohttp.http_exceptions import HttpProcessingError

_TOKEN = re.compile(r"(token(?:=|%3d))[^&\s'\"#\\]*", re.IGNORECASE)


def redact(text: str) -> str:
    return _TOKEN.sub(r"\1***", text)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):  # the client's doing: one line, the reason only
            reason = (error.message or "").strip().splitlines()
            return redact(f"panda-tui serve: {record.getMessage()}: bad request "
                          f"({reason[0].rstrip(':') if reason else error.code})")
        return redact(super().format(record))


def log_to_stderr() -> None:
    """serve's own and aiohttp's warnings and errors, on stderr, masked."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("panda-tui serve: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
