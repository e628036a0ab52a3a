"""The header's words: alarms first, then counts, then the mode, the clock last; fitted to the width by
giving way in an order that keeps the meaning (RUNGS), in plain words at every width, and never dropping an
alarm or the clock's seconds."""

from __future__ import annotations

from dataclasses import dataclass

from panda_tui.readmodel.health import HealthState
from panda_tui.readmodel.scheduler_health import role_of
from panda_tui.readmodel.snapshot import Snapshot
from panda_tui.text import ago, iso, safe
from panda_tui.tui.marks import Marks

SEP = " · "
# The header gives way rung by rung, only as far as the width needs: the name first, engines that are up, the
# count glyphs (the words stay: `4 failing`), a refused jobs.toml's shorter words (the notice line and `?` say
# the error whole: the counts matter more than `jobs.`), the quiet zeros, the clock's zone (never its seconds),
# the mode;
# then the alarms' shorter words, the running and acked counts (the rows show ▶ and acked; never `1 unwatched`),
# missed's window,
# the alarms' shortest.
NAME, UP, GLYPHS, REFUSAL, ZEROS, ZONE, MODE, ALARM_WORDS, RUNNING, WINDOW, ALARM_SHORTEST = range(10, 21)
ONE_BY_ONE = 10  # below this rung (Part.short: 1 calm parts, 2 the clock, 3 alarms) parts shorten one at a
# time, the rightmost first; at a rung from here on, every part that gives way there does so at once
DROPPED = 100  # Part.drop N gives way at rung DROPPED - N, after every shortening: the highest N first


@dataclass(frozen=True)
class Part:
    long: str
    short: str
    style: str = ""
    alarm: bool = False
    drop: int = 0  # 0: kept whatever the width; else dropped in this order (highest first) when short of room
    last_to_shorten: bool = False  # shortened only after every other calm part (the clock)
    steps: tuple[tuple[int, str], ...] = ()  # (rung, words) in rising rungs, instead of short/drop: the header's

    def at(self, rung: int) -> str:
        """Its words once the fitting has climbed to `rung` ("": it gave way)."""
        words = self.long
        for step, text in self.steps or self._steps():
            if step <= rung:
                words = text
        return words

    def _steps(self) -> tuple[tuple[int, str], ...]:
        """Calm parts shorten first, then the clock, then alarms; drops come after every shortening."""
        shorten = ((3 if self.alarm else 2 if self.last_to_shorten else 1), self.short)
        return (shorten, (DROPPED - self.drop, "")) if self.drop else (shorten,)


def parts(snap: Snapshot | None, mode: str, now: float, clock: str, marks: Marks,
          died: str | None = None) -> list[Part]:
    """Every part the header could show, in order. `died`: the error the embedded scheduler's loop died of."""
    out: list[Part] = []
    alarm = marks.style("alarm")
    if died:
        first = safe(died.strip().splitlines()[0] if died.strip() else "unknown error")
        out.append(_alarm(f"scheduler died: {first}", "scheduler died", style=alarm))
    if snap is not None:
        out += _alarms(snap, now, marks, alarm)
        out += _counts(snap, marks)
        out += _engines_up(snap, now, marks)
    out.append(Part(mode, mode, "bold", steps=((MODE, ""),)))
    out.append(Part("panda-tui", "", "bold", steps=((NAME, ""),)))
    out.append(Part(clock, "", "bold reverse", steps=((ZONE, clock.split(" ")[0]),)))  # HH:MM:SS, whatever the width
    return out


def _alarm(long: str, short: str, shortest: str | None = None, style: str = "", early: int = ALARM_WORDS) -> Part:
    """An alarm: never dropped; its plain shorter words when the width needs them (from rung `early`)."""
    steps = ((early, short),) + (((ALARM_SHORTEST, shortest),) if shortest else ())
    return Part(long, short, style, alarm=True, steps=steps)


def alarm_lines(snap: Snapshot | None, died: str | None = None) -> list[str]:
    """What the header's alarms stand for, whole: for the help screen, where there is room."""
    out = [f"the scheduler this console runs died: {died.strip()}"] if died else []
    if snap is None:
        return out
    if not snap.holder:
        out.append("no scheduler is running: nothing runs on time until one starts")
    if words := stopping_words(snap, snap.taken_at):
        out.append(f"{words}; then it stops them, and nothing runs on time until a scheduler starts")
    for host, info in sorted(snap.docker_hosts.items()):
        if info.get("up"):
            continue
        stale = ""
        if not snap.holder:  # nobody checks the engine now: say how old the word is
            age = f"checked {ago(snap.taken_at - info['checked_at'])} ago, " if info.get("checked_at") else ""
            stale = f" (stale: {age}no scheduler is checking it)"
        out.append(f"docker {host}: {info.get('error') or 'down'}{stale}")
    out += [f"jobs.toml refused: {line}" for line in snap.config_errors]
    if snap.store_full:
        out.append(f"the store is at its size limit ([store] max_size, keep_free): runs' further output is "
                   f"dropped, the oldest logs pruned (since {iso(snap.store_full.get('since') or 0)})")
    if snap.undelivered_alerts:
        out.append(f"{snap.undelivered_alerts} alerts not delivered yet: `panda-tui alerts` lists them")
    return out


def stopping_words(snap: Snapshot, now: float) -> str | None:
    """`daemon stopping: waiting for 2 runs, up to 30s` while the scheduler gives its runs their stop_grace."""
    if not snap.stopping or not snap.holder:
        return None
    runs, left = snap.stopping.get("runs", 0), snap.stopping.get("grace", 0) - (now - snap.stopping.get("since", now))
    who = "daemon" if role_of(snap.holder) == "daemon" else "scheduler"
    return f"{who} stopping: waiting for {runs} run{'s' if runs != 1 else ''}, up to {ago(max(0.0, left))}"


def _alarms(snap: Snapshot, now: float, marks: Marks, style: str) -> list[Part]:
    out = []
    if words := stopping_words(snap, now):
        out.append(_alarm(words, words.split(":")[0], "stopping", marks.style("missed")))
    if not snap.holder:
        seen = f" (last seen {ago(now - snap.heartbeat_at)} ago)" if snap.heartbeat_at else ""
        short = f"no scheduler for {ago(now - snap.heartbeat_at)}" if snap.heartbeat_at else "no scheduler"
        long = snap.daemon_gone.words(now) if snap.daemon_gone is not None else f"no scheduler!{seen}"
        out.append(_alarm(long, short, "no scheduler", style))
    down = sorted(host for host, info in snap.docker_hosts.items() if not info.get("up"))
    if down and snap.holder:
        names = ", ".join("docker" if h == "local" else f"docker {safe(h)}" for h in down)
        short = "docker down" if len(down) == 1 else f"{len(down)} engines down"
        out.append(_alarm(f"{names} {marks.glyph('failed')} DOWN", short,
                          None if len(down) == 1 else "engines down", style))
    if snap.config_errors:
        out.append(_alarm("jobs.toml refused", "toml refused", style=style, early=REFUSAL))
    if snap.store_full:
        out.append(_alarm("store full: logs dropped", "store full", style=style))
    if snap.undelivered_alerts:
        n = snap.undelivered_alerts
        out.append(_alarm(f"{n} alert{'s' if n != 1 else ''} undelivered", f"{n} alert{'s' if n != 1 else ''} unsent",
                          "alerts unsent", style))
    return out


def _counts(snap: Snapshot, marks: Marks) -> list[Part]:
    return [_count(snap.failing, HealthState.FAILING, "failing", marks),
            _running(snap, marks),
            _count(snap.missed_24h, HealthState.MISSED, "missed/24h", marks, ((WINDOW, f"{snap.missed_24h} missed"),)),
            *([_count(snap.flapping, HealthState.FLAPPING, "flapping", marks)] if snap.flapping else []),
            *([Part(f"{snap.acked} acked", "", steps=((RUNNING, ""),))] if snap.acked else [])]


def _running(snap: Snapshot, marks: Marks) -> Part:
    """`▶ 1 running`; with no scheduler holding the lease, runs the ledger still has running are followed by
    nobody, as their rows say: `▶ 1 running (unwatched)`, shortened to `1 unwatched` and, like an alarm, never
    dropped (it went with the acked count at 80 columns, leaving `no scheduler for 16s · 1 failing`)."""
    if snap.holder or not snap.running:
        return _count(snap.running, HealthState.RUNNING, "running", marks, ((RUNNING, ""),))
    short = f"{snap.running} unwatched"
    return _count(snap.running, HealthState.RUNNING, "running (unwatched)", marks, ((ZEROS, short),))


def _count(n: int, state: HealthState, words: str, marks: Marks, later: tuple[tuple[int, str], ...] = ()) -> Part:
    """A count with its state's glyph and its word (`✗ 4 failing`); the glyph gives way before the word
    (`4 failing`, never a bare `✗4`). A zero says so quietly, with no glyph, and gives way first."""
    if not n:
        return Part(f"0 {words}", "", marks.style("quiet"), steps=((ZEROS, ""),))
    return Part(f"{marks.glyph(state)} {n} {words}", f"{n} {words}", marks.style(state),
                steps=((GLYPHS, f"{n} {words}"), *later))


def _engines_up(snap: Snapshot, now: float, marks: Marks) -> list[Part]:
    """Engines that answered, and what is known of engines while no scheduler watches them (stale)."""
    out = []
    for host, info in sorted(snap.docker_hosts.items()):
        label = "docker" if host == "local" else f"docker {safe(host)}"
        if not snap.holder:
            age = f" {ago(now - info['checked_at'])} ago" if info.get("checked_at") else ""
            state = "up" if info.get("up") else "down"
            out.append(Part(f"{label} {state}? (stale{age})", f"{label} {state}?", marks.style("quiet"),
                            steps=((UP, f"{label} {state}?"), (MODE, ""))))
        elif info.get("up"):
            out.append(Part(f"{label} {marks.glyph('ok')} up", "", marks.style("ok"), steps=((UP, ""),)))
    return out


def fit(candidates: list[Part], width: int) -> list[tuple[str, str]]:
    """(text, style) of the parts, as long as the width allows: climb the rungs the parts give way at, one at
    a time, until they fit (or none is left); an alarm is never dropped."""
    def total(texts: list[str]) -> int:
        shown = [t for t in texts if t]
        return sum(len(t) for t in shown) + len(SEP) * max(0, len(shown) - 1) + 2

    rungs = sorted({step for p in candidates for step, _ in (p.steps or p._steps())})
    chosen = [p.long for p in candidates]
    for rung in rungs:
        if rung >= ONE_BY_ONE and total(chosen) > width:
            chosen = [p.at(rung) for p in candidates]
        for i in reversed(range(len(candidates)) if rung < ONE_BY_ONE else ()):
            if total(chosen) <= width:
                break
            chosen[i] = candidates[i].at(rung)
    return [(t, p.style) for t, p in zip(chosen, candidates) if t]
