"""A real HTTP server on 127.0.0.1 that records requests and can be told to fail or hang."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class Recorder:
    def __init__(self):
        self.requests: list[dict] = []
        self.mode = "ok"  # ok | fail | hang
        self.fail_times = 0  # answer 500 this many times, then ok
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _handler(self):
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parsed = urlparse(self.path)
                with recorder.lock:
                    recorder.requests.append({
                        "method": self.command, "path": parsed.path, "query": parse_qs(parsed.query),
                        "headers": dict(self.headers), "json": json.loads(raw) if raw else None,
                        "at": time.monotonic()})
                    mode = recorder.mode
                    if recorder.fail_times > 0:
                        recorder.fail_times -= 1
                        mode = "fail"
                if mode == "hang":
                    time.sleep(30)
                code = 500 if mode == "fail" else 200
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if code == 200 else b"boom")

            do_GET = do_POST = _handle

        return Handler

    def close(self):
        self._server.shutdown()
