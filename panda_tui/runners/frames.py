"""Docker's multiplexed log stream (containers' logs and attach, services' logs): 8-byte headers (stream,
length), then the payload."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

_HEADER = struct.Struct(">BxxxL")


def parse_frames(read: Callable[[int], bytes]) -> Iterator[tuple[int, bytes]]:
    """(stream, bytes) until `read` returns nothing; consecutive frames of one stream are joined, so one
    feed hands on many lines."""
    buf = b""
    unpack = _HEADER.unpack_from
    while True:
        chunk = read(256 * 1024)
        if not chunk:
            return
        buf = buf + chunk if buf else chunk
        pos, end = 0, len(buf)
        run_stream: int | None = None
        run_parts: list[bytes] = []
        while end - pos >= 8:
            stream, length = unpack(buf, pos)
            if end - pos < 8 + length:
                break
            if stream != run_stream and run_parts and run_stream is not None:
                yield run_stream, b"".join(run_parts)
                run_parts = []
            run_stream = stream
            run_parts.append(buf[pos + 8:pos + 8 + length])
            pos += 8 + length
        if run_parts and run_stream is not None:
            yield run_stream, b"".join(run_parts)
        buf = buf[pos:]
