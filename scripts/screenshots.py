"""Regenerate screenshots/ from the real app, driven with Pilot over a demo store it fills itself, and the
console as `panda-tui serve` shows it in a real browser (Debian's chromium, driven by Playwright).

    python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from panda_tui.tui.app import PandaApp  # noqa: E402
from panda_tui.tui.demo import JOBS_TOML, NOW, demo_config, fill, fill_alarms  # noqa: E402
from panda_tui.tui.marks import Marks  # noqa: E402

# (name, size, keys, which store, colour)
SHOTS = [
    ("main", (120, 34), [], "demo", True),
    ("failing-job-errors", (120, 34), ["enter"], "demo", True),
    ("help", (120, 34), ["question_mark"], "demo", True),
    ("main-80x24", (80, 24), [], "demo", True),
    ("main-80x24-no-color", (80, 24), [], "demo", False),
    ("alarms-80x24", (80, 24), [], "alarms", True),
    ("diff-80x24", (80, 24), ["tab", "d"], "demo", True),  # `d` on db-backup's failed run
    ("main-60x20", (60, 20), [], "demo", True),
]


async def shoot(db: str, name: str, size: tuple[int, int], keys: list[str], colour: bool) -> Path:
    if not colour:
        os.environ["NO_COLOR"] = "1"  # read by Textual when the app is made
    try:
        app = PandaApp(demo_config(), db, mode="attached", clock=lambda: NOW, marks=Marks(colour=colour))
    finally:
        os.environ.pop("NO_COLOR", None)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.main is not None and app.main.jobs.rows_shown)
        await until(pilot, lambda: app.main.query_one("#logpane").log_widget.window)
        for key in keys:
            await pilot.press(key)
            if key != "tab":  # tab moves between panes; the other keys open a screen
                await until(pilot, lambda: app.screen is not app.main)
                await pilot.pause(0.5)  # the pushed screen's first read
        await pilot.pause()
        out = ROOT / "screenshots" / f"{name}.svg"
        app.save_screenshot(str(out))
    return out


async def until(pilot, cond, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if cond():
            return
        await pilot.pause(0.05)
    raise RuntimeError("the console did not get there")


def write_demo_toml(path: str) -> None:
    with open(path, "w") as fh:
        for name, fields in JOBS_TOML["jobs"].items():
            fh.write(f"[jobs.{name}]\n")
            for key, value in fields.items():
                fh.write(f"{key} = {'true' if value is True else 'false' if value is False else json.dumps(value)}\n")
            fh.write("\n")


def shoot_browser(tmp: str) -> Path | None:
    """The served console, read-only, in chromium at 1200×700: a demo store written as of now (the served
    console is a real process on the real clock)."""
    if not shutil.which("chromium"):
        print("skipped the browser screenshot: Debian's chromium is not installed", file=sys.stderr)
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("skipped the browser screenshot: playwright is not installed", file=sys.stderr)
        return None
    cfg, db, token = f"{tmp}/jobs.toml", f"{tmp}/served.db", "screenshot-token-0123456789"
    write_demo_toml(cfg)
    fill(db, time.time())
    env = {**os.environ, "PANDA_WEB_TOKEN": token, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen([sys.executable, "-m", "panda_tui", "serve", "--config", cfg, "--db", db, "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        port = next(int(m.group(1)) for line in server.stdout if (m := re.search(r"127\.0\.0\.1:(\d+)/", line)))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=[
                "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync"])
            page = browser.new_page(viewport={"width": 1200, "height": 700})
            received: list[bytes] = []
            page.on("websocket", lambda ws: ws.on("framereceived", lambda data: received.append(
                data if isinstance(data, bytes) else data.encode())))
            page.goto(f"http://127.0.0.1:{port}/?token={token}")
            deadline = time.monotonic() + 30
            while b"orders-sync" not in b"".join(received) and time.monotonic() < deadline:
                page.wait_for_timeout(100)
            page.focus(".xterm-helper-textarea")
            page.wait_for_timeout(6500)  # past the read-only notice, which would hide the log pane
            out = ROOT / "screenshots" / "serve-browser.png"
            page.screenshot(path=str(out))
            browser.close()
        return out
    finally:
        server.terminate()
        server.wait(30)


async def console_shots(tmp: str) -> None:
    stores = {"demo": f"{tmp}/demo.db", "alarms": f"{tmp}/alarms.db"}
    fill(stores["demo"])
    fill_alarms(stores["alarms"])
    for name, size, keys, store, colour in SHOTS:
        print(await shoot(stores[store], name, size, keys, colour))


def main() -> None:
    (ROOT / "screenshots").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(console_shots(tmp))
        if shot := shoot_browser(tmp):  # Playwright's sync API: outside any asyncio loop
            print(shot)


if __name__ == "__main__":
    main()
