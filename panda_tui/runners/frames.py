"""Docker's multiplexed log stream (containers' logs and attach, services' logs): 8-byte headers (stream,
length), then the payload; and the log endpoints that serve it, opened through public APIs."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

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


def open_log(api: Any, kind: str, ident: str, follow: bool) -> Any:
    """The streaming HTTP response of a container's or a service's log endpoint (kind: "containers" or
    "services"), from the start: stdout and stderr, with their stream numbers.

    The SDK's logs() and service_logs() yield the payloads alone, so stdout and stderr could not be told
    apart; this asks the endpoint through the requests Session that the APIClient is (public requests API),
    with no read timeout (a followed log may be quiet for hours), and raises the SDK's own APIError."""
    import docker.errors
    import requests
    url = f"{api.base_url}/v{api.api_version}/{kind}/{quote(ident, safe='')}/logs"
    response = api.get(url, params={"stdout": 1, "stderr": 1, "follow": int(follow)}, stream=True, timeout=None)
    try:
        response.raise_for_status()
    except requests.exceptions.HTTPError as exc:
        response.close()
        raise docker.errors.create_api_error_from_http_exception(exc) from None
    return response
