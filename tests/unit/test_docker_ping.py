"""The engine check without the Docker SDK: which engines it pings itself, and what it makes of answers."""

from __future__ import annotations

import socket
import threading

import pytest

from panda_tui.runners import docker_ping
from panda_tui.runners.docker import DockerRunner


@pytest.mark.parametrize("host, environ, expected", [
    (None, {}, "/var/run/docker.sock"),
    (None, {"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}, "/run/user/1000/docker.sock"),
    ("unix:///srv/engine.sock", {"DOCKER_HOST": "tcp://10.0.0.5:2376"}, "/srv/engine.sock"),
    (None, {"DOCKER_HOST": "tcp://10.0.0.5:2376"}, None),
    ("ssh://ops@builder", {}, None),
])
def test_unix_engines_are_pinged_without_the_sdk_remote_ones_with_it(host, environ, expected):
    assert docker_ping.unix_socket(host, environ) == expected


def serve(path: str, answer: bytes | None) -> socket.socket:
    """A unix socket that answers each connection with `answer` (None: accepts and says nothing)."""
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen()

    def loop() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.recv(4096)
            if answer is not None:
                conn.sendall(answer)
                conn.close()
    threading.Thread(target=loop, daemon=True).start()
    return server


@pytest.mark.parametrize("answer, up, error", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK", True, None),
    (b"HTTP/1.1 500 Internal Server Error\r\n\r\n", False, "docker engine unreachable: the engine answered"),
    (None, False, "docker engine unreachable: the engine did not answer in time"),
])
def test_what_an_engine_answers(tmp_path, monkeypatch, answer, up, error):
    monkeypatch.setattr("panda_tui.runners.docker.API_TIMEOUT", 0.3)
    server = serve(str(tmp_path / "engine.sock"), answer)
    try:
        ok, said = DockerRunner(f"unix://{tmp_path}/engine.sock", "db").ping()
    finally:
        server.close()
    assert ok is up and (said or "").startswith(error or "")


def test_no_socket_says_so(tmp_path):
    assert DockerRunner(f"unix://{tmp_path}/none.sock", "db").ping() == (
        False, "docker engine unreachable: no engine socket (is dockerd running?)")
