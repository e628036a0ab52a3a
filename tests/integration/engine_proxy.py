"""A TCP proxy on 127.0.0.1 in front of the Docker Engine's unix socket, which can cut connections:
a remote engine, or a proxy, that drops a stream mid-run."""

from __future__ import annotations

import socket
import struct
import threading


class EngineProxy:
    def __init__(self, engine_socket: str = "/var/run/docker.sock"):
        self.engine_socket = engine_socket
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"tcp://127.0.0.1:{self.server.getsockname()[1]}"
        self.cut_attach_after: int | None = None  # bytes of an attach response to pass, then cut
        self.reset = False  # cut with RST rather than FIN
        self.cuts = 0
        self.refuse_after_cut = False  # then new connections are dropped: the engine is gone for good
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.server.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if self.refuse_after_cut and self.cuts:
                client.close()
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        engine = socket.socket(socket.AF_UNIX)
        engine.connect(self.engine_socket)
        state = {"attached": False}  # a kept-alive connection becomes an attach stream on that request
        threading.Thread(target=self._upstream, args=(client, engine, state), daemon=True).start()
        self._downstream(engine, client, state)

    def _upstream(self, client: socket.socket, engine: socket.socket, state: dict) -> None:
        try:
            while data := client.recv(65536):
                if b"/attach?" in data:
                    state["attached"] = True
                engine.sendall(data)
        except OSError:
            pass
        self._close(client, engine)

    def _downstream(self, engine: socket.socket, client: socket.socket, state: dict) -> None:
        passed = 0
        try:
            while data := engine.recv(65536):
                limit = self.cut_attach_after if state["attached"] else None
                if limit is not None and passed + len(data) > limit:
                    client.sendall(data[:limit - passed])
                    self.cuts += 1
                    break
                client.sendall(data)
                passed += len(data) if state["attached"] else 0
        except OSError:
            pass
        self._close(client, engine)

    def _close(self, *socks: socket.socket) -> None:
        for sock in socks:
            if self.reset:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
