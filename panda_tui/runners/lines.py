"""Turn chunks of bytes into whole lines (a chunk may end mid-line; the last line may lack a newline)."""

from __future__ import annotations

from typing import Callable

MAX_LINE = 64 * 1024  # longer lines are cut into pieces of this size, so memory stays bounded


class LineAssembler:
    def __init__(self, emit: Callable[[str], None], max_line: int = MAX_LINE):
        self._emit = emit
        self._buf = bytearray()
        self.max_line = max_line

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._buf += chunk
        if b"\n" not in chunk and len(self._buf) < self.max_line:
            return
        parts = self._buf.split(b"\n")
        self._buf = bytearray(parts.pop())
        for part in parts:
            self._emit_bytes(part)
        while len(self._buf) >= self.max_line:
            piece, self._buf = self._buf[: self.max_line], self._buf[self.max_line:]
            self._emit_bytes(bytes(piece))

    def close(self) -> None:
        """Emit a final line that had no newline."""
        if self._buf:
            self._emit_bytes(bytes(self._buf))
            self._buf = bytearray()

    def _emit_bytes(self, raw: bytes) -> None:
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        self._emit(raw.decode("utf-8", "replace"))
