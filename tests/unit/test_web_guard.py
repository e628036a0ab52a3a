"""The token guard's pure parts: what is kept, and how failures are limited over time."""

from __future__ import annotations

import os
import subprocess
import sys

from panda_tui.web.auth import FailureLimiter, Guard, cookie_for

TOKEN = "a-token-of-enough-length-1234"


def test_only_hashes_are_kept_and_the_cookie_is_not_the_token():
    guard = Guard(TOKEN)
    assert guard.token_ok(TOKEN) and not guard.token_ok(TOKEN + "x") and not guard.token_ok("")
    assert TOKEN not in repr(vars(guard)) and TOKEN.encode() not in b"".join(vars(guard).values())
    cookie = cookie_for(TOKEN)
    assert cookie != TOKEN and TOKEN not in cookie
    assert guard.cookie_ok(cookie) and not guard.cookie_ok(TOKEN) and not guard.cookie_ok(cookie_for("other-token-0000000"))


def test_failures_past_the_limit_block_the_client_until_the_window_passes():
    now = [1000.0]
    limiter = FailureLimiter(limit=3, window=60, clock=lambda: now[0])
    for _ in range(2):
        limiter.failed("1.2.3.4")
    assert limiter.wait("1.2.3.4") == 0
    limiter.failed("1.2.3.4")
    assert limiter.wait("1.2.3.4") == 60 and limiter.wait("5.6.7.8") == 0
    now[0] += 59.5
    assert limiter.wait("1.2.3.4") == 0.5
    now[0] += 0.5
    assert limiter.wait("1.2.3.4") == 0  # the oldest failure left the window


def test_the_table_of_clients_stays_bounded():
    limiter = FailureLimiter(limit=2, window=60, clock=lambda: 0.0, max_clients=100)
    for i in range(1000):
        limiter.failed(f"10.0.{i // 256}.{i % 256}")
        limiter.failed(f"10.0.{i // 256}.{i % 256}")
    assert limiter.wait("10.0.3.231") > 0  # the newest are remembered
    assert limiter.wait("10.0.0.0") == 0  # the oldest were dropped, not the memory limit


def test_the_cli_and_the_console_do_not_load_the_web_libraries():
    """`serve` imports them when it runs; the daemon and the console never pay for them."""
    code = ("import sys, panda_tui.cli.group, panda_tui.cli.console_cmd, panda_tui.engine.daemon;"
            " bad = [m for m in ('aiohttp', 'textual_serve', 'prometheus_client', 'panda_tui.web') if m in sys.modules];"
            " print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert result.returncode == 0, result.stdout + result.stderr[-500:]


def test_the_web_server_does_not_load_the_console_or_textual():
    code = ("import sys, panda_tui.web.app;"
            " bad = [m for m in sys.modules if m.split('.')[0] == 'textual' or m.startswith('panda_tui.tui')];"
            " print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert result.returncode == 0, result.stdout + result.stderr[-500:]


def test_forwarded_addresses_are_believed_only_from_trusted_proxies_right_to_left():
    from panda_tui.web.auth import Proxies

    chain = Proxies(["127.0.0.1", "10.0.0.0/24"])
    assert Proxies().resolve("127.0.0.1", "203.0.113.9") == "127.0.0.1"  # nobody trusted: the peer
    assert chain.resolve("192.0.2.1", "203.0.113.9") == "192.0.2.1"  # not from a proxy: ignored
    assert chain.resolve("127.0.0.1", "198.51.100.1, 203.0.113.9, 10.0.0.7") == "203.0.113.9"
    assert chain.resolve("127.0.0.1", "garbage, 10.0.0.7") == "10.0.0.7"  # what no proxy vouches for
    assert chain.resolve("127.0.0.1", "") == "127.0.0.1"
