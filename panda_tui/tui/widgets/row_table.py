"""A table of rows keyed by name or id: g / G and Home / End move the cursor to the first and last row,
and cells are written only when their text changed, so a quiet screen sends almost nothing over SSH."""

from __future__ import annotations

from typing import Self

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region
from textual.widgets import DataTable


def cell_key(value) -> tuple:
    """What a cell shows, comparable: its text and its styles."""
    if isinstance(value, Text):
        return value.plain, str(value.style), tuple((s.start, s.end, str(s.style)) for s in value.spans)
    return (str(value),)


class RowTable(DataTable):
    BINDINGS = [
        Binding("g,home", "first_row", "first", show=False),
        Binding("G,end", "last_row", "last", show=False),
        Binding("slash", "screen.filter", "filter", show=False, priority=True),  # the screen's filter, if any
        Binding("enter", "select_cursor", "logs", key_display="⏎"),  # the row's logs (the screen says which)
    ]
    _hold_refresh = False

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False
        self._drawn: dict[tuple[str, str], tuple] = {}  # (row key, column) -> what the cell shows

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False,
                recompose: bool = False) -> Self:
        """DataTable.update_cell (Textual 8.2) ends with a refresh of the whole table, and the public API
        has no way to set a cell without it: a whole table's worth of output over SSH for one changed cell.
        write_cells holds that one refresh and repaints the cell's own region instead."""
        if self._hold_refresh:
            return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def action_first_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=0, animate=False)

    def action_last_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)

    def write_cells(self, row: str, columns: list[str], cells: tuple) -> int:
        """Update the cells of `row` that changed, repainting only those; returns how many did."""
        changed = 0
        spans = None
        for index, (column, value) in enumerate(zip(columns, cells)):
            key = cell_key(value)
            if self._drawn.get((row, column)) != key:
                self._drawn[(row, column)] = key
                self._hold_refresh = True
                try:
                    self.update_cell(row, column, value)
                finally:
                    self._hold_refresh = False
                spans = spans or self._column_spans()
                self._refresh_cell(self.get_row_index(row), *spans[index])
                changed += 1
        return changed

    def _column_spans(self) -> list[tuple[int, int]]:
        spans, x = [], 0
        for column in self.ordered_columns:
            width = column.get_render_width(self)
            spans.append((x, width))
            x += width
        return spans

    def _refresh_cell(self, row_index: int, x: int, width: int) -> None:
        """refresh_coordinate in O(1) (it sums the heights of every row above): our rows are one line."""
        region = Region(x, row_index + (self.header_height if self.show_header else 0), width, 1)
        if self.window_region.overlaps(region):
            self.refresh(region.translate(-self.scroll_offset))

    def add_drawn_row(self, row: str, columns: list[str], cells: tuple) -> None:
        self.add_row(*cells, key=row)
        for column, value in zip(columns, cells):
            self._drawn[(row, column)] = cell_key(value)

    def clear_rows(self, columns: bool = False) -> None:
        self.clear(columns=columns)
        self._drawn = {}
