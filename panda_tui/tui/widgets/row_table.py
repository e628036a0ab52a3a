"""A table of rows keyed by name or id: g / G and Home / End move the cursor to the first and last row,
and cells are written only when their text changed, so a quiet screen sends almost nothing over SSH."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
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
    ]
    _hold_refresh = False

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False
        self._drawn: dict[tuple[str, str], tuple] = {}  # (row key, column) -> what the cell shows

    def refresh(self, *regions, **kwargs):
        """DataTable.update_cell repaints the whole table; write_cells repaints only the cell instead."""
        if self._hold_refresh:
            return self
        return super().refresh(*regions, **kwargs)

    def action_first_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=0, animate=False)

    def action_last_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)

    def write_cells(self, row: str, columns: list[str], cells: tuple) -> int:
        """Update the cells of `row` that changed; returns how many did."""
        changed = 0
        for column, value in zip(columns, cells):
            key = cell_key(value)
            if self._drawn.get((row, column)) != key:
                self._drawn[(row, column)] = key
                self._hold_refresh = True
                try:
                    self.update_cell(row, column, value)
                finally:
                    self._hold_refresh = False
                self.refresh_coordinate(Coordinate(self.get_row_index(row), self.get_column_index(column)))
                changed += 1
        return changed

    def add_drawn_row(self, row: str, columns: list[str], cells: tuple) -> None:
        self.add_row(*cells, key=row)
        for column, value in zip(columns, cells):
            self._drawn[(row, column)] = cell_key(value)

    def clear_rows(self, columns: bool = False) -> None:
        self.clear(columns=columns)
        self._drawn = {}
