"""Turn chunks of bytes into whole lines (a chunk may end mid-line; the last line may lack a newline)."""

from __future__ import annotations

from typing import Callable

MAX_LINE = 64 * 1024  # longer lines are cut into pieces of this size, so memory stays bounded


class LineAssembler:
    def __init__(self, emit: Callable[[list[str]], None], max_line: int = MAX_LINE):
        self._emit = emit
        self._buf = bytearray()
        self.max_line = max_line

    def feed(self, chunk: bytes) -> None:
        """Hand every whole line in `chunk` (plus what was pending) to emit, as one list."""
        if not chunk:
            return
        if b"\n" not in chunk and len(self._buf) + len(chunk) < self.max_line:
            self._buf += chunk
            return
        data = bytes(self._buf) + chunk if self._buf else chunk
        parts = data.split(b"\n")
        rest = parts.pop()
        while len(rest) >= self.max_line:
            parts.append(rest[: self.max_line])
            rest = rest[self.max_line:]
        self._buf = bytearray(rest)
        self._emit([_text(p) for p in parts])

    def close(self) -> None:
        """Emit a final line that had no newline."""
        if self._buf:
            self._emit([_text(bytes(self._buf))])
            self._buf = bytearray()


def _text(raw: bytes) -> str:
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    return raw.decode("utf-8", "replace")
