"""panes.tcss: the rules of what the first frame does not show, parsed after it instead of before it (app.tcss
holds the first frame's). The main screen reads it as it mounts its panes; the screens opened from there name
it as their CSS_PATH, so that one opened first (a test, a key pressed at once) still has its rules."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

PANES_CSS = Path(__file__).with_name("panes.tcss")


def read_pane_css(app: App) -> None:
    """Add panes.tcss to the app's rules, once, under the name Textual gives a screen's CSS_PATH (so that a
    screen naming it finds it read), and without parsing again the rules already parsed (as a screen's
    CSS_PATH read first would)."""
    name = str(PANES_CSS)
    if not app.stylesheet.has_source(name):
        app.stylesheet.add_source(PANES_CSS.read_text(encoding="utf-8"), read_from=(name, ""))
