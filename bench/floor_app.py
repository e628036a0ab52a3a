"""The floor for the first screen: the smallest Textual app that shows the sample's six job names in a
DataTable (Header, DataTable, Footer). bench/launch.py launches it in turns with the console."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header

JOBS = ["hello", "disk-report", "flaky-export", "slow-report", "tmp-cleanup", "nightly-backup"]


class Floor(App):
    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("job", "schedule", "last", "next")
        for name in JOBS:
            table.add_row(name, "", "", "")


if __name__ == "__main__":
    Floor().run()
