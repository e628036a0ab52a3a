"""How a log line is marked, without an app: search matches as the search found them."""

from __future__ import annotations

from rich.text import Text

from panda_tui.tui.marks import Marks
from panda_tui.tui.widgets.log_lines import LineHighlighter


def matched(query: str, line: str) -> list[str]:
    highlighter = LineHighlighter(Marks())
    highlighter.query = query
    text = Text(line)
    highlighter.highlight(text)
    return [line[span.start:span.end] for span in text.spans if span.style == Marks().style("match")]


def test_matches_are_marked_smart_case_as_the_search_finds_them():
    line = "  errors=0 Error ERROR"
    assert matched("error", line) == ["error", "Error", "ERROR"]  # no capital: any case
    assert matched("ERROR", line) == ["ERROR"]  # a capital: this case only, as the store's search
