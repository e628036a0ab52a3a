"""The console's first screen comes before the write side: `python -m panda_tui` (headless, in a process of its
own) shows every job before it imports the engine, the runners, the alerts or the Docker SDK, and without click
(cli/console_args.py reads its options); the embedded scheduler it runs is built right after, on the lease the
console held from the start."""

from __future__ import annotations

import json
import subprocess
import sys

from panda_tui.store import connect, lease, state
from tests.conftest import REPO
from tests.jobfiles import job, write_jobs

# Opens the console as `python -m panda_tui` does, headless; when the first screen is shown it notes what is
# imported, then waits for the embedded scheduler to start and quits.
DRIVER = r"""
import json, sys, time
from panda_tui.tui.app import PandaApp  # the console needs it before its first frame in any case
from panda_tui.tui.widgets.job_table import JobTable

report = {}
CFG, DB = sys.argv[1:3]
run, first_shown, show = PandaApp.run, PandaApp.first_screen_shown, JobTable.show

def first_screen_shown(self):
    if "modules" not in report:
        report["modules"] = sorted(m for m in sys.modules if m.startswith(("panda_tui.", "docker", "click")))
        report["jobs"] = list(self.main.jobs.rows_shown) if self.main else []
        report["header"] = self.main.query_one("#header").words if self.main else ""
        self.set_interval(0.05, lambda: started(self))
    first_shown(self)

def started(self):
    if "panda_tui.engine.daemon" in sys.modules and self.services.scheduler.running == 0 and stored_start():
        report["started_after"] = True
        self.exit()

def stored_start():
    from panda_tui.store import connect, state
    conn = connect(DB, readonly=True)
    try:
        return state.get_meta(conn, "scheduler") is not None
    finally:
        conn.close()

def first_rows(self, *args, **kwargs):  # the job list filled for the first frame: what is there by then
    show(self, *args, **kwargs)
    if "at_first_rows" not in report:
        report["at_first_rows"] = sorted(m for m in sys.modules if m.startswith("panda_tui."))
        report["panes_at_first_rows"] = [w.id for w in self.screen.query("#trend, #history, #logpane, #job-filter")]

PandaApp.first_screen_shown = first_screen_shown
JobTable.show = first_rows
PandaApp.run = lambda self, **kw: run(self, headless=True, size=(100, 30))
sys.argv = ["panda-tui", "--config", CFG, "--db", DB]
try:
    import runpy
    runpy.run_module("panda_tui", run_name="__main__")
except SystemExit:
    pass
print(json.dumps(report))
"""


def test_the_first_screen_shows_every_job_before_the_write_side_is_imported(tmp_path):
    cfg, db = write_jobs(tmp_path, job("alpha", "* * * * *"), job("beta"), job("gamma", image="busybox"))
    done = subprocess.run([sys.executable, "-c", DRIVER, cfg, db], capture_output=True, text=True, cwd=REPO,
                          timeout=120)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(report["jobs"]) == ["alpha", "beta", "gamma"], done.stderr
    assert "embedded" in report["header"]  # the console held the lease from the first frame
    loaded = report["modules"]
    assert not [m for m in loaded if m.startswith(("panda_tui.engine", "panda_tui.runners", "panda_tui.alerts",
                                                   "docker", "click"))], loaded
    assert report.get("started_after"), done.stderr  # and its scheduler started right after
    # the first frame is the job list: the panes below it, and their modules, come right after it; so do the
    # question screen and the writers' job specs (with hashlib)
    assert report["panes_at_first_rows"] == [], report
    assert not [m for m in report["at_first_rows"] if m.rsplit(".", 1)[-1] in
                ("log_view", "log_tail", "history_table", "trend_bar", "search_box", "confirm", "specs")
                ], report["at_first_rows"]
    conn = connect(db, readonly=True)
    try:
        assert lease.live_holder(conn) is None  # quitting let the lease go
        assert state.get_meta(conn, "last_scheduler")["owner"].endswith(":console")
    finally:
        conn.close()


def test_the_scheduler_built_on_the_consoles_claim_knows_the_heartbeat_from_before_it(tmp_path):
    """Catch-up counts the slots missed since the previous scheduler's last heartbeat, not since the claim."""
    from panda_tui.cli.embedding import LateScheduler
    from panda_tui.config import load_config
    from panda_tui.engine.daemon import EmbeddedScheduler
    cfg, db = write_jobs(tmp_path, job("a"))
    conn = connect(db)
    lease.record(conn, "elsewhere:4242:0.000:daemon", 100.0, 200.0, 10.0)  # lapsed long ago
    conn.commit()
    conn.close()
    late = LateScheduler.take(load_config(cfg), db)
    assert late is not None and late.claim.previous_heartbeat == 200.0
    assert LateScheduler.take(load_config(cfg), db) is None  # held from the claim on
    built = EmbeddedScheduler(load_config(cfg), db, claim=late.claim)
    try:
        built.acquire()
        assert built.sched.ownership.owner == late.claim.owner
        assert built.sched.ownership.previous_heartbeat == 200.0
    finally:
        built.stop()
