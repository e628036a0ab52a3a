"""Scroll bars for terminals that cannot show the glyphs (--ascii): imported only then, as textual.scrollbar is
not otherwise needed before the first frame, which has no scroll bar to draw."""

from __future__ import annotations

from textual.scrollbar import ScrollBarRender


class AsciiScrollBarRender(ScrollBarRender):
    """Scroll bars without the eighth-block glyphs at the thumb's ends: whole cells, by background only."""
    VERTICAL_BARS = [" "] * 8
    HORIZONTAL_BARS = [" "] * 8
