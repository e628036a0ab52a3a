"""What changed since the job's last good run, for one run: `d` on a run in the history or in a log. The
read model compares (readmodel.run_diff.diff_for_run); this screen only lays it out, read on a worker."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from panda_tui.readmodel.run_diff import describe, diff_for_run
from panda_tui.store import connect, ledger
from panda_tui.text import safe
from panda_tui.tui.marks import Marks


class DiffScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "back"), Binding("q", "app.pop_screen", "back", show=False),
                Binding("d", "app.pop_screen", "back", show=False)]

    DEFAULT_CSS = """
    DiffScreen #diff-title { height: 1; background: $primary-darken-3; padding: 0 1; }
    DiffScreen #diff-body { height: 1fr; padding: 0 1; }
    """

    def __init__(self, db_path: str, run_id: int, marks: Marks | None = None, why: str | None = None) -> None:
        """`why`: why this run of the job (`newest failure (flapping 4/10 failed)`), said in the title."""
        super().__init__()
        self.db_path = db_path
        self.run_id = run_id
        self.why = why
        self.marks = marks or Marks()
        self.lines: list[str] = []  # what it says, as plain lines (for tests and probes)

    def compose(self) -> ComposeResult:
        yield Static(self._title(None), id="diff-title")
        with VerticalScroll(id="diff-body"):
            yield Static("reading both runs…", id="diff-text")
        yield Footer(compact=True, show_command_palette=False)

    def _title(self, job: str | None) -> str:
        """`db-backup run 40 · newest failure · what changed since the last good run`."""
        run = f"{safe(job)} run {self.run_id}" if job else f"run {self.run_id}"
        why = f"{self.marks.sep}{self.why.split(' (')[0]}" if self.why else ""
        return f"{run}{why}{self.marks.sep}what changed since the last good run"

    def on_mount(self) -> None:
        self.query_one("#diff-body").focus()
        self._read()

    @work(thread=True, exclusive=True, exit_on_error=False, group="diff")
    def _read(self) -> None:
        conn = connect(self.db_path, readonly=True)
        try:
            run = ledger.get(conn, self.run_id)
            diff = diff_for_run(conn, self.run_id) if run is not None else None
            lines = describe(diff) if diff is not None else [f"run {self.run_id} is no longer in the store"]
        except Exception as exc:  # a store that cannot be read now: said in a line, not a traceback
            run, lines = None, [f"could not compare run {self.run_id}: {exc}"]
        finally:
            conn.close()
        self.app.call_from_thread(self._show, lines, run.job if run is not None else None)

    def _show(self, lines: list[str], job: str | None) -> None:
        self.lines = lines
        m = self.marks
        if job:
            self.query_one("#diff-title", Static).update(Text(self._title(job), style="bold"))
        text, in_log = Text(), False
        for line in lines:
            if not line.startswith("  "):  # a heading: the two runs, "new in the log:", a note
                in_log = line.startswith(("new in the log", "its log"))
                style = "bold"
            else:  # a change (config, image, host, exit code, duration), or a log line that is new
                style = m.style("stderr") if in_log else m.style("missed")
            text.append(safe(line) + "\n", style=style)
        self.query_one("#diff-text", Static).update(text)
