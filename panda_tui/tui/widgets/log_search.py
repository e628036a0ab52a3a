"""Search over the whole run, not the window the pane holds: the box, the matches (found by a query on the
store), n / N through them, and the first error line."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events, work
from textual.message import Message
from textual.worker import get_current_worker

from panda_tui.store import connect, log_queries
from panda_tui.text import safe
from panda_tui.tui.widgets.search_box import SearchBox


class LogSearch(SearchBox):
    @dataclass
    class Moved(Message):
        """The line to bring into view (None: only the counter changed)."""

        seq: int | None

    @dataclass
    class Found(Message):
        run_id: int
        pattern: str
        seqs: list[int]
        done: bool = True  # False: the first matches, while the rest of the run is still being read

    def __init__(self, db_path: str, **kwargs) -> None:
        super().__init__(label="search this run's whole log", placeholder="words to find (a capital letter matches "
                         "case; enter: find, esc: close)", **kwargs)
        self.db_path = db_path
        self.pattern = ""
        self.matches: list[int] = []  # seqs of the whole run's matches
        self.match_index = -1
        self.scanning = False  # the matches so far; the rest of the run is still being read
        self._run_id: int | None = None
        self.errors_only = False  # the search looks among the error lines only (the errors-only view's)
        self._announce = False  # say what the search found once it is done (it restarted as the view changed)

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            self.close()
            event.stop()

    @property
    def current(self) -> int | None:
        """The seq of the match n / N went to."""
        return self.matches[self.match_index] if self.matches and self.match_index >= 0 else None

    def start(self, run_id: int | None, pattern: str, errors_only: bool, announce: bool = False) -> None:
        """Look for `pattern` in the run (in its error lines only, with `errors_only`); "" clears the search.
        `announce`: say what it found once done (the view changed under it: the notice said of the other one)."""
        self.pattern, self.matches, self.match_index, self._run_id = pattern, [], -1, run_id
        self.errors_only, self._announce = errors_only, announce
        self.scanning = bool(pattern and run_id is not None)
        if pattern and run_id is not None:
            self._find(run_id, pattern, errors_only)

    @work(thread=True, exclusive=True, exit_on_error=False, group="log-search")
    def _find(self, run_id: int, pattern: str, errors_only: bool) -> None:
        """The run a stretch at a time: the first match is shown at once, the count follows."""
        worker = get_current_worker()
        conn = connect(self.db_path, readonly=True)
        found: list[int] = []
        try:
            for seqs in log_queries.match_chunks(conn, run_id, pattern, errors_only):
                if worker.is_cancelled:
                    return
                if seqs and not found:
                    self.post_message(self.Found(run_id, pattern, list(seqs), done=False))
                found += seqs
            self.post_message(self.Found(run_id, pattern, found))
        finally:
            conn.close()

    def on_log_search_found(self, message: Found) -> None:
        if message.run_id != self._run_id or message.pattern != self.pattern:
            return  # a search since replaced this one
        first = not self.matches
        self.matches, self.scanning = message.seqs, not message.done
        if self.matches and first:
            self.jump(1)
        elif self.matches or not message.done:
            self.post_message(self.Moved(None))  # the count grew
        else:
            self.notify(f"no match for {self.pattern!r} {self.where}", markup=False)
            self.post_message(self.Moved(None))
        if self.matches and message.done and self._announce:
            self._announce = False
            count = f"{len(self.matches)}{'+' if len(self.matches) >= log_queries.MAX_FOUND else ''}"
            self.notify(f"{count} matching line{'s' if len(self.matches) != 1 else ''} for {self.pattern!r} "
                        f"{self.where}", markup=False)

    @property
    def where(self) -> str:
        """Where the search looked: the errors-only view searches its error lines, not the whole run."""
        return "among the errors (e: all lines)" if self.errors_only else "in the whole run"

    def jump(self, step: int) -> None:
        if not self.matches:
            self.notify("no search: press / first" if not self.pattern else "no match", markup=False)
            return
        self.match_index = (self.match_index + step) % len(self.matches)
        self.post_message(self.Moved(self.matches[self.match_index]))

    @work(thread=True, exclusive=True, exit_on_error=False, group="log-search")
    def first_error(self, run_id: int) -> None:
        conn = connect(self.db_path, readonly=True)
        try:
            seqs = log_queries.error_seqs(conn, run_id, limit=1)
        finally:
            conn.close()
        if seqs:
            self.post_message(self.Moved(seqs[0]))
        else:
            self.app.call_from_thread(self.notify, "no error line in this run", markup=False)

    def counter(self, short: bool = False) -> str:
        """For the pane's title: `matching line 3/17`, short `3/17`."""
        if not self.pattern:
            return ""
        if not self.matches and self.scanning:
            return "searching…" if short else f"searching the whole run for {safe(self.pattern)!r}…"
        if not self.matches:
            return "no match" if short else f"no match for {safe(self.pattern)!r}"
        more = "+" if len(self.matches) >= log_queries.MAX_FOUND else "…" if self.scanning else ""
        at = f"{self.match_index + 1}/{len(self.matches)}{more}" if self.match_index >= 0 else f"{len(self.matches)}{more}"
        return at if short else f"matching line {at}"
