"""A real browser (Debian's chromium, driven by Playwright) against a real `panda-tui serve`."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest

from tests.integration.helpers import Daemon, ledger, wait_until
from tests.integration.web_server import TOKEN, Served
from tests.jobfiles import job, write_jobs

CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def _missing() -> str | None:
    if not shutil.which("chromium"):
        return "Debian's chromium is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright; its own browser download is not needed)"
    return None


@pytest.fixture(scope="module")
def driver():
    reason = _missing()
    if reason:
        if os.environ.get("PANDA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"PANDA_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(driver):
    chromium = driver.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


class Tab:
    """A page that records what its websockets receive: the console's terminal output, as sent."""

    def __init__(self, browser, **context):
        if not context.get("no_viewport"):
            context.setdefault("viewport", {"width": 1200, "height": 700})
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.frames: list[bytes] = []
        self.sent: list[str] = []
        self.sockets: list[str] = []
        self.responses: list[tuple[str, int]] = []
        self.page.on("websocket", self._socket)
        self.page.on("response", lambda r: self.responses.append((r.url, r.status)))

    def _socket(self, ws) -> None:
        self.sockets.append(ws.url)
        ws.on("framereceived", lambda payload: self.frames.append(
            payload if isinstance(payload, bytes) else payload.encode()))
        ws.on("framesent", lambda payload: self.sent.append(payload if isinstance(payload, str) else ""))

    def received(self) -> bytes:
        return b"".join(self.frames)

    def wait_for_text(self, *words: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not all(w.encode() in self.received() for w in words):
            if time.monotonic() > deadline:
                raise AssertionError(f"the console never showed {words}; got {len(self.received())} bytes")
            self.page.wait_for_timeout(100)

    def press(self, key: str) -> None:
        """A key into the terminal (xterm reads keys from its hidden textarea, which must have the focus)."""
        self.page.focus(".xterm-helper-textarea")
        self.page.keyboard.press(key)

    def close(self) -> None:
        self.context.close()


def running(pid: int) -> bool:
    """The process exists and has not exited (a zombie has)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def jobs(tmp_path):
    return write_jobs(tmp_path, job("nightly-backup", schedule="0 3 * * *"), job("orders-sync", schedule="@hourly"))


def test_with_the_token_the_console_renders_the_jobs_and_closes_with_the_tab(browser, jobs):
    server = Served(*jobs)
    tab = Tab(browser)
    try:
        entry = tab.page.goto(f"{server.url}/?token={TOKEN}")
        assert entry.status == 200 and tab.page.url == server.url + "/"  # the token left the address bar
        tab.wait_for_text("nightly-backup", "orders-sync", "read-only")
        cookie = next(c for c in tab.context.cookies() if c["name"] == "panda_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and TOKEN not in cookie["value"]
        assert len(server.consoles()) == 1
        tab.press("t")  # read-only: the console refuses, nothing is asked of anyone
        tab.wait_for_text("served without --allow-control")
        assert ledger(server.db, "nightly-backup") == []
    finally:
        tab.close()
    try:
        wait_until(lambda: server.consoles() == [], 20, what="the console process to end with its tab")
    finally:
        server.stop()


def test_without_the_token_nothing_of_the_console_arrives(browser, jobs):
    server = Served(*jobs)
    tab = Tab(browser)
    try:
        answer = tab.page.goto(server.url + "/")
        assert answer.status == 401
        assert "needs the token" in tab.page.content()
        tab.page.goto(server.url + "/?token=a-wrong-guess-of-some-length")
        tab.page.wait_for_timeout(500)
        assert tab.sockets == [] and tab.frames == []
        assert all(status == 401 for _, status in tab.responses), tab.responses
        assert not any("textual.js" in url for url, _ in tab.responses)
        assert server.consoles() == []
    finally:
        tab.close()
        server.stop()


def test_with_control_allowed_a_key_in_the_browser_triggers_a_run(browser, tmp_path):
    cfg, db = write_jobs(tmp_path, job("greet", command="echo hello from the browser"))
    daemon = Daemon(cfg, db)
    wait_until(lambda: "lease_acquired" in daemon.output(), 20, what="daemon start")
    server = Served(cfg, db, "--allow-control", "--max-consoles", "1")
    tab, second = Tab(browser), Tab(browser)
    try:
        tab.page.goto(f"{server.url}/?token={TOKEN}")
        tab.wait_for_text("greet", "attached")
        tab.press("t")
        run = wait_until(lambda: [r for r in ledger(db, "greet") if r.status == "succeeded"], 20, what="the run")[0]
        assert run.trigger == "manual"
        # one console is the cap here: a second tab is told so, and gets one once the first is closed
        refused = second.page.goto(f"{server.url}/?token={TOKEN}")
        assert refused.status == 503 and "consoles are open" in second.page.content()
        tab.close()
        wait_until(lambda: server.consoles() == [], 20, what="the first console to end")
        assert second.page.goto(server.url + "/").status == 200
        second.wait_for_text("greet")
        # stopping the server ends the consoles of the tabs still open, and tells the tabs
        consoles = server.consoles()
        assert len(consoles) == 1
        assert server.stop() == 0
        # serve has told them to quit; they end on their own time (and a zombie is reaped by init, when it does)
        wait_until(lambda: not [pid for pid in consoles if running(pid)], 30, what="the consoles to end with serve")
        second.page.wait_for_selector("body.-closed", timeout=10_000)
    finally:
        second.close()
        server.stop()
        daemon.stop()



# What the page lays out and what xterm.js draws into: the terminal's box, and each canvas's CSS width beside
# the width of its backing store (the pixels the renderer draws glyphs into, at devicePixelRatio).
GEOMETRY = """() => ({
  ratio: devicePixelRatio, viewport: innerWidth,
  screen: document.querySelector('.xterm-screen').getBoundingClientRect().width,
  canvases: [...document.querySelectorAll('.xterm-screen canvas')].map(
    c => ({backing: c.width, css: c.getBoundingClientRect().width, layer: c.className})),
})"""


def assert_drawn_to_fit(tab: Tab, scale: float) -> int:
    """The console's columns fill the viewport and are drawn where they are laid out; returns their number."""
    sizes = [json.loads(m)[1] for m in tab.sent if m.startswith('["resize"')]
    assert sizes, tab.sent
    cols = sizes[-1]["width"]  # what the console was told, and lays itself out for
    shown = tab.page.evaluate(GEOMETRY)
    width = shown["viewport"]
    assert shown["ratio"] == scale, shown
    cell = shown["screen"] / cols  # xterm's cell in CSS pixels: the terminal box holds cols of them
    # the fit used the width: the columns fill the viewport, and one more would not fit
    assert cols * cell <= width < (cols + 1) * cell, (cols, cell, shown)
    assert cols >= width // 10, (cols, shown)  # 16 px Roboto Mono is 9 to 10 CSS pixels a column
    for canvas in shown["canvases"]:
        # drawn at the ratio it is laid out at: a device cell lands as `cell` CSS pixels, so the right edge of
        # the last column is where the layout put it, inside the viewport (before the fix: backing == css)
        assert abs(canvas["backing"] - canvas["css"] * scale) <= 2, (canvas, shown)
        drawn_cell = cell * scale / (canvas["backing"] / canvas["css"])
        assert cols * drawn_cell <= width + 1, (cols, drawn_cell, shown)
    return cols


@pytest.mark.parametrize(("width", "height", "scale", "phone"), [(1200, 700, 2, False), (390, 844, 3, True)],
                         ids=["desktop-2x", "phone-3x"])
def test_at_an_emulated_high_density_the_console_is_drawn_at_its_size_and_every_column_fits(
        browser, jobs, width, height, scale, phone):
    """Chromium's device emulation (as here, and in DevTools' device toolbar) reports a devicePixelRatio that
    ResizeObserver's device-pixel box does not follow; xterm.js drew at the one into canvases sized by the
    other, so the console came out 2x/3x and cropped (13 of 41 columns showed on a 3x phone)."""
    server = Served(*jobs)
    tab = Tab(browser, viewport={"width": width, "height": height}, device_scale_factor=scale, is_mobile=phone,
              has_touch=phone)
    try:
        tab.page.goto(f"{server.url}/?token={TOKEN}")
        tab.wait_for_text("nightly-backup", "orders-sync")
        assert_drawn_to_fit(tab, scale)
    finally:
        tab.close()
        server.stop()


def test_on_a_screen_of_2x_the_page_leaves_xterm_alone(driver, jobs):
    """A ratio that comes from the screen (chromium's own scale factor, no emulation): the device-pixel box
    agrees with it, and the console is drawn as xterm.js sized it."""
    chromium = driver.chromium.launch(executable_path=shutil.which("chromium"),
                                      args=[*CHROMIUM_ARGS, "--force-device-scale-factor=2", "--window-size=1000,700"])
    server = Served(*jobs)
    tab = Tab(chromium, no_viewport=True)
    try:
        tab.page.goto(f"{server.url}/?token={TOKEN}")
        tab.wait_for_text("nightly-backup", "orders-sync")
        assert assert_drawn_to_fit(tab, 2) > 90
    finally:
        tab.close()
        chromium.close()
        server.stop()
