"""What `enter` and `d` open for a job (not a run the user chose in the history): the run that explains its
state when that is about failures (readmodel/explaining.py), else its newest run; read on a worker, opened
with why it was chosen (the log's and the diff's titles say it)."""

from __future__ import annotations

from textual import work

from panda_tui.readmodel.explaining import RunToOpen, run_to_open
from panda_tui.readmodel.health import JobHealth
from panda_tui.store import connect
from panda_tui.tui.screens.acting import ActingScreen


class OpeningScreen(ActingScreen):
    def job_health(self, name: str) -> JobHealth | None:
        """The job's health as last read (the screen with the job list says)."""
        return None

    @work(thread=True, exclusive=True, exit_on_error=False, group="open")
    def _open_logs_for_job(self, name: str) -> None:
        """A job in trouble opens the run that explains it (its newest failure, errors only), saying so in
        the log's title; any other its newest run."""
        from panda_tui.tui.screens.logs import LogScreen
        chosen = self._run_to_open(name)
        if chosen is None:
            self.app.call_from_thread(self.notify, f"{name} has no runs with logs yet", markup=False)
            return
        self.app.call_from_thread(self.app.push_screen, LogScreen(
            self.services.db_path, chosen.run.id, errors_only=chosen.errors_only, marks=self.services.marks,
            why=chosen.why))

    @work(thread=True, exclusive=True, exit_on_error=False, group="open")
    def _diff_for_job(self, name: str, shown: int | None) -> None:
        """A job in trouble: its run that explains it (as enter opens); else `shown`, the run in the log pane."""
        chosen = self._run_to_open(name)
        if chosen is not None and (chosen.why or shown is None):
            self.app.call_from_thread(self._open_diff, chosen.run.id, chosen.why)
        elif shown is not None:
            self.app.call_from_thread(self._open_diff, shown)
        else:
            self.app.call_from_thread(self.notify, f"{name} has no runs with logs yet", markup=False)

    def _open_diff(self, run_id: int, why: str | None = None) -> None:
        from panda_tui.tui.screens.diff import DiffScreen  # imported when first used: not on the first screen
        self.app.push_screen(DiffScreen(self.services.db_path, run_id, marks=self.services.marks, why=why))

    def _run_to_open(self, name: str) -> RunToOpen | None:
        """Blocking (a worker)."""
        conn = connect(self.services.db_path, readonly=True)
        try:
            return run_to_open(conn, name, self.job_health(name))
        finally:
            conn.close()
