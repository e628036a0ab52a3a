"""One round trip, three askers. The console's keys, the CLI's control commands and the API's POSTs all ask
through store.control.ask, and each tells the four ways it can end in its own words: done (the scheduler's
outcome), refused (the scheduler's reason), no answer (a scheduler holds the lease but does not answer: a
hung loop), no scheduler. The scheduler's side is scripted on the real store, so that each way is certain."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import httpx
import pytest

from panda_tui.readmodel.running import RunningConfig
from panda_tui.store import connect, control, lease
from panda_tui.tui.app import PandaApp
from tests.integration.web_server import Served
from tests.jobfiles import job, write_jobs
from tests.procs import spawn
from tests.tui.conftest import until

DONE, REFUSED, SILENT, NONE = "done", "refused", "silent", "no scheduler"
OUTCOME = "tick triggered: run 7 started"
REASON = 'no job named "tick" in the running config'
T = TypeVar("T")


class ScriptedScheduler:
    """Holds the lease and heartbeats as a scheduler does, and answers every request `done` (OUTCOME) or
    `refused` (REASON), or takes none (`silent`)."""

    def __init__(self, db: str, reply: str):
        self.conn = connect(db)
        self.owner, self.reply = lease.make_owner("daemon"), reply
        now = time.time()
        self._write(lambda: lease.record(self.conn, self.owner, now, now, lease.TTL))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _write(self, fn: Callable[[], T]) -> T:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn()
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return result

    def _serve(self) -> None:
        while not self._stop.wait(0.05):
            self._write(lambda: lease.heartbeat(self.conn, self.owner, time.time()))
            if self.reply == SILENT:
                continue
            taken = self._write(lambda: control.take_pending(self.conn, time.time()))
            for req in taken:
                outcome, error = (OUTCOME, None) if self.reply == DONE else (None, REASON)
                self._write(lambda: control.complete(self.conn, req.id, time.time(), outcome, error))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._write(lambda: lease.release(self.conn, self.owner))
        self.conn.close()


EXPECTED = {  # reply: (console severity and words, CLI exit code and words, API status and words)
    DONE: (("information", OUTCOME), (0, OUTCOME), (200, OUTCOME)),
    REFUSED: (("error", REASON), (1, f"error: {REASON}"), (409, REASON)),
    SILENT: (("error", "the scheduler did not answer within 10 s"), (1, "the scheduler did not answer within 10 s"),
             (504, "the scheduler did not answer within 10 s")),
    NONE: (("error", "no scheduler is running: start `panda-tui daemon`, or open a console with `panda-tui --embed`"
                     " to run one there"),
           (1, "no scheduler is running on"), (503, "no scheduler is running on this database")),
}


@pytest.mark.slow
@pytest.mark.parametrize("reply", [DONE, REFUSED, SILENT, NONE])
async def test_console_cli_and_api_tell_each_way_a_control_request_ends(tmp_path, reply):
    cfg, db = write_jobs(tmp_path, job("tick"))
    connect(db).close()
    scheduler = ScriptedScheduler(db, reply) if reply != NONE else None
    served = Served(cfg, db, "--allow-control")
    answers: dict[str, object] = {}
    try:  # the three ask at once: a silent scheduler makes each wait out the same 10 s
        cli = spawn([sys.executable, "-m", "panda_tui", "trigger", "tick", "--config", cfg, "--db", db],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        api = threading.Thread(target=lambda: answers.update(api=httpx.post(
            f"{served.url}/api/jobs/tick/trigger", headers=served.auth, timeout=60)))
        api.start()
        app = PandaApp(RunningConfig(cfg), db, mode="attached")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.main and app.main.jobs.rows_shown == ["tick"])
            said = len(app.notices)
            await pilot.press("t")
            await until(pilot, lambda: len(app.notices) > said, 20, what="the console's answer")
            console = app.notices[said]
        out, err = cli.communicate(timeout=60)
        api.join(60)
    finally:
        served.stop()
        if scheduler is not None:
            scheduler.stop()
    (severity, words), (code, cli_words), (status, api_words) = EXPECTED[reply]
    assert console[0] == severity and console[1].startswith(words), console
    assert cli.returncode == code and cli_words in (out if code == 0 else err), (out, err)
    response = answers["api"]
    assert isinstance(response, httpx.Response) and response.status_code == status, response
    assert api_words in response.json().get("outcome" if status == 200 else "error", ""), response.text
