"""Whether a Docker engine on a unix socket answers, with the standard library alone. The engine check
runs every 5 s for as long as a container job exists; loading the Docker SDK (~10 MB, ~0.2 s of CPU) for it
would make every daemon with a nightly container job pay all day for one run. Remote engines (tcp://,
ssh://) are pinged through the SDK, which knows their TLS and SSH settings."""

from __future__ import annotations

import os
import socket
from urllib.parse import quote
from collections.abc import Mapping

DEFAULT_SOCKET = "/var/run/docker.sock"


def unix_socket(host: str | None, environ: Mapping[str, str] = os.environ) -> str | None:
    """The socket path of an engine reached over a unix socket (as the SDK would resolve `host`), or None."""
    url = host or environ.get("DOCKER_HOST") or f"unix://{DEFAULT_SOCKET}"
    if url.startswith("unix://"):
        return url[len("unix://"):] or DEFAULT_SOCKET
    return None


def ping(path: str, timeout: float) -> None:
    """GET /_ping; raises OSError (TimeoutError, FileNotFoundError, ...) unless the engine answers 200."""
    status, head = _get(path, "/_ping", timeout)
    if status != b"200":
        raise ConnectionError(f"the engine answered /_ping with {head[:60].decode('latin-1')!r}")


def image_present(path: str, image: str, timeout: float) -> bool:
    """Whether the engine holds `image` (GET /images/NAME/json: 200 or 404); OSError when it does not say."""
    status, head = _get(path, f"/images/{quote(image, safe='')}/json", timeout)
    if status not in (b"200", b"404"):
        raise ConnectionError(f"the engine answered an image look-up with {head[:60].decode('latin-1')!r}")
    return status == b"200"


def _get(path: str, target: str, timeout: float) -> tuple[bytes, bytes]:
    """(status code, the answer's first bytes) of GET `target` on the engine's socket."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n".encode())
        head = b""
        while b"\r\n" not in head and len(head) < 4096:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
    status = head.split(b"\r\n", 1)[0].split()
    return (status[1] if len(status) > 1 else b""), head
