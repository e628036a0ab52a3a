"""Turn chunks of bytes into whole lines (a chunk may end mid-line; the last line may lack a newline)."""

from __future__ import annotations

import time
from typing import Callable, Protocol

from panda_tui.store.pieces import PIECE_BYTES
from panda_tui.text import char_boundary

MAX_LINE = PIECE_BYTES  # a line that grows longer while it waits for its newline is stored in pieces

Cut = Callable[[bytes, int], int]


def plain_cut(data: bytes, limit: int) -> int:
    """At the limit, moved back so no UTF-8 character is split."""
    return char_boundary(data, min(limit, len(data)))


class LineAssembler:
    """`cut` decides where a piece of an overlong line may end: the run's log sink supplies one that never
    cuts through a secret, so a value masked whole is masked in pieces too."""

    def __init__(self, emit: Callable[[list[str]], None], max_line: int = MAX_LINE, cut: Cut = plain_cut,
                 hold: int = 0):
        self._emit = emit
        self._buf = bytearray()
        self.max_line = max_line
        self._cut = cut
        # A piece is cut only once the bytes after it have arrived (the next character, and `hold` more for
        # a secret): where it ends then depends on the data alone, never on how it was chunked, so a
        # stream read twice is cut the same way twice.
        self._cut_at = max_line + hold + 1

    def feed(self, chunk: bytes) -> None:
        """Hand every whole line in `chunk` (plus what was pending) to emit, as one list."""
        if not chunk:
            return
        if b"\n" not in chunk and len(self._buf) + len(chunk) < self._cut_at:
            self._buf += chunk
            return
        data = bytes(self._buf) + chunk if self._buf else chunk
        whole, newline, rest = data.rpartition(b"\n")
        lines = _texts(whole) if newline else []
        while len(rest) >= self._cut_at:
            cut = self._cut(rest, self.max_line)
            if cut <= 0:
                break
            lines.append(_text(rest[:cut]))
            rest = rest[cut:]
        self._buf = bytearray(rest)
        if lines:
            self._emit(lines)

    def close(self) -> None:
        """Emit a final line that had no newline."""
        if self._buf:
            self._emit([_text(bytes(self._buf))])
            self._buf = bytearray()


def _texts(whole: bytes) -> list[str]:
    """Whole lines (without their newlines) decoded at once, not one call per line: a newline byte never
    belongs to a multi-byte character, so this reads each line as _text would."""
    text = whole.decode("utf-8", "replace")
    lines = text.split("\n")
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines


def _text(raw: bytes) -> str:
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    return raw.decode("utf-8", "replace")


class LineSink(Protocol):
    """Where a run's lines go (the run's RunLog): it masks secrets, and says where a piece may be cut."""

    def lines_of(self, stream: str, texts: list[str], ts: float | None = None) -> None: ...

    def cut_point(self, data: bytes, limit: int) -> int: ...

    @property
    def hold(self) -> int: ...


STREAMS = {1: "out", 2: "err"}  # the stream numbers of Docker's multiplexed log frames


class Replay:
    """The stdout and stderr of a run read from its start, perhaps more than once (a stream that broke and
    is read again, a log followed on after a restart). Each pass counts its whole lines per stream and hands
    the sink only those past what was stored before (`skip`, and what earlier passes saw), so the stored
    log stays whole and without duplicates."""

    def __init__(self, sink: LineSink, skip: tuple[int, int] = (0, 0)):
        self.sink = sink
        self.skip = {"out": skip[0], "err": skip[1]}
        self.seen = {"out": 0, "err": 0}
        self._assemblers = self._fresh()

    def _fresh(self) -> dict[int, LineAssembler]:
        return {n: LineAssembler(self._emitter(name), cut=self.sink.cut_point, hold=self.sink.hold)
                for n, name in STREAMS.items()}

    def _emitter(self, name: str) -> Callable[[list[str]], None]:
        def emit(texts: list[str]) -> None:
            drop = max(0, min(self.skip[name] - self.seen[name], len(texts)))
            self.seen[name] += len(texts)
            if drop < len(texts):
                self.sink.lines_of(name, texts[drop:] if drop else texts, time.time())
        return emit

    def feed(self, stream: int, data: bytes) -> None:
        assembler = self._assemblers.get(stream)
        if assembler is not None:
            assembler.feed(data)

    def again(self) -> None:
        """Start a new pass from the stream's beginning: the lines seen so far are skipped, and a line this
        pass had only begun is dropped (the next pass reads it whole)."""
        for name, count in self.seen.items():
            self.skip[name] = max(self.skip[name], count)
        self.seen = {"out": 0, "err": 0}
        self._assemblers = self._fresh()

    def finish(self) -> None:
        """The stream is complete: a last line without a newline is kept."""
        for assembler in self._assemblers.values():
            assembler.close()
