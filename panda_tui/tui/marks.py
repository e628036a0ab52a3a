"""How the console marks states: glyphs, sparkline bars and text styles, for colour terminals, for NO_COLOR
and 16-colour consoles (failures and errors stand out by bold, reverse or underline, never by dimming),
and an ASCII fallback for terminals that cannot show the glyphs."""

from __future__ import annotations

import os
from dataclasses import dataclass

from panda_tui.text import glyph

BARS = "▁▂▃▄▅▆▇█"
ASCII_TEXT = str.maketrans({"↑": "up", "↓": "down", "←": "left", "→": "right", "✓": "+", "✗": "X", "▶": "*",
                            "‖": "=", "–": "-", "·": "|", "×": "x", "›": ">", "⊘": "K", "⏱": "T", "↷": ">",
                            "≈": "~", "↻": "R", "⇄": "e"})
ASCII_BARS = "_.-:=+*#"

COLOUR = {
    "failing": "bold red", "missed": "bold yellow", "running": "bold cyan", "paused": "magenta",
    "disabled": "", "ok": "green", "new": "", "quiet": "dim",
    "flapping": "bold yellow", "retrying": "yellow", "external": "",
    "failed": "bold red", "timed_out": "bold red", "killed": "yellow", "lost": "bold red",  # a kill: no failure
    "skipped": "yellow", "succeeded": "green", "queued": "cyan",
    "stderr": "red", "error_word": "bold white on red", "panda": "italic cyan", "match": "reverse", "current": "bold underline",
    "alarm": "bold white on red", "slow": "bold yellow", "spark_ok": "green", "spark_failed": "bold red",
}
# Without colour, what must be seen is bold, reversed or underlined; nothing that matters is dimmed.
PLAIN = {
    "failing": "bold reverse", "missed": "bold underline", "running": "bold", "paused": "underline",
    "disabled": "", "ok": "", "new": "", "quiet": "",
    "flapping": "bold underline", "retrying": "underline", "external": "",
    "failed": "bold reverse", "timed_out": "bold reverse", "killed": "underline", "lost": "bold reverse",
    "skipped": "underline", "succeeded": "", "queued": "",
    "stderr": "bold", "error_word": "bold reverse", "panda": "italic", "match": "reverse underline", "current": "bold underline",
    "alarm": "bold reverse", "slow": "bold underline", "spark_ok": "", "spark_failed": "bold",
}


@dataclass(frozen=True)
class Marks:
    colour: bool = True
    ascii: bool = False

    def style(self, what: str) -> str:
        return (COLOUR if self.colour else PLAIN).get(str(what), "")

    def glyph(self, word: str) -> str:
        return glyph(word, self.ascii)

    @property
    def bars(self) -> str:
        return ASCII_BARS if self.ascii else BARS

    def text(self, words: str) -> str:
        """Words written with glyphs (help, hints), as an ASCII terminal can show them."""
        return words.translate(ASCII_TEXT) if self.ascii else words

    @property
    def current(self) -> str:
        """Marks the search match n/N went to, beside the stream mark."""
        return ">" if self.ascii else "▶"

    @property
    def sep(self) -> str:
        """Between the parts of a header or title."""
        return " | " if self.ascii else " · "

    @property
    def cut(self) -> str:
        """Ends a line cut at a pane's edge."""
        return ">" if self.ascii else "…"

    @property
    def none(self) -> str:
        """A cell with nothing to say yet."""
        return "-" if self.ascii else "–"


def detect(ascii_flag: bool = False) -> Marks:
    """NO_COLOR (any value) turns colour off, and so does the 16-colour Linux console (TERM=linux), where
    red on black barely shows: failures then stand out in reverse video, errors in bold (README). --ascii,
    PANDA_ASCII=1 or a locale that is not UTF-8 turn the glyphs into ASCII."""
    colour = "NO_COLOR" not in os.environ and os.environ.get("TERM") != "linux"
    return Marks(colour=colour, ascii=ascii_flag or os.environ.get("PANDA_ASCII") == "1" or not utf8_locale())


def utf8_locale() -> bool:
    """Whether the terminal's locale is UTF-8: LC_ALL, else LANG, as the user set them (Python itself may
    set LC_CTYPE to C.UTF-8 at start, so that one tells nothing). Neither set: assume UTF-8."""
    name = os.environ.get("LC_ALL") or os.environ.get("LANG")
    return name is None or "utf" in name.lower()
