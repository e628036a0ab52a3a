"""The header's words: alarms first, then counts, then the mode, the clock last; fitted to the width by
shortening words before dropping anything, and never dropping an alarm."""

from __future__ import annotations

from dataclasses import dataclass

from panda_tui.readmodel.health import HealthState
from panda_tui.readmodel.snapshot import Snapshot
from panda_tui.text import ago, iso, safe
from panda_tui.tui.marks import Marks

SEP = " · "


@dataclass(frozen=True)
class Part:
    long: str
    short: str
    style: str = ""
    alarm: bool = False
    drop: int = 0  # 0: kept whatever the width; else dropped in this order (highest first) when short of room
    last_to_shorten: bool = False  # shortened only after every other calm part (the clock)


def parts(snap: Snapshot | None, mode: str, now: float, clock: str, marks: Marks,
          died: str | None = None) -> list[Part]:
    """Every part the header could show, in order. `died`: the error the embedded scheduler's loop died of."""
    out: list[Part] = []
    alarm = marks.style("alarm")
    if died:
        first = safe(died.strip().splitlines()[0] if died.strip() else "unknown error")
        out.append(Part(f"scheduler died: {first}", "sched died!", alarm, alarm=True))
    if snap is not None:
        out += _alarms(snap, now, marks, alarm)
        out += _counts(snap, marks)
        out += _engines_up(snap, now, marks)
    out.append(Part(mode, mode, "bold", drop=3))
    out.append(Part("panda-tui", "", "bold", drop=4))
    out.append(Part(clock, clock[:5], "bold reverse", last_to_shorten=True))
    return out


def alarm_lines(snap: Snapshot | None, died: str | None = None) -> list[str]:
    """What the header's alarms stand for, whole: for the help screen, where there is room."""
    out = [f"the scheduler this console runs died: {died.strip()}"] if died else []
    if snap is None:
        return out
    if not snap.holder:
        out.append("no scheduler is running: nothing runs on time until one starts")
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


def _alarms(snap: Snapshot, now: float, marks: Marks, style: str) -> list[Part]:
    out = []
    if not snap.holder:
        seen = f" (last seen {ago(now - snap.heartbeat_at)} ago)" if snap.heartbeat_at else ""
        short = f" {ago(now - snap.heartbeat_at)}" if snap.heartbeat_at else ""
        long = snap.daemon_gone.words(now) if snap.daemon_gone is not None else f"no scheduler!{seen}"
        out.append(Part(long, f"no sched!{short}", style, alarm=True))
    down = sorted(host for host, info in snap.docker_hosts.items() if not info.get("up"))
    if down and snap.holder:
        names = ", ".join("docker" if h == "local" else f"docker {safe(h)}" for h in down)
        short = "docker ✗" if len(down) == 1 else f"{len(down)} engines ✗"
        out.append(Part(f"{names} {marks.glyph('failed')} DOWN", short.replace("✗", marks.glyph("failed")),
                        style, alarm=True))
    if snap.config_errors:
        out.append(Part("jobs.toml refused", f"toml {marks.glyph('failed')}", style, alarm=True))
    if snap.store_full:
        out.append(Part("store full: logs dropped", "store full!", style, alarm=True))
    if snap.undelivered_alerts:
        n = snap.undelivered_alerts
        out.append(Part(f"{n} alert{'s' if n != 1 else ''} undelivered", f"{n} undeliv.", style, alarm=True))
    return out


def _counts(snap: Snapshot, marks: Marks) -> list[Part]:
    return [_count(snap.failing, HealthState.FAILING, "failing", marks),
            _count(snap.running, HealthState.RUNNING, "running", marks),
            _count(snap.missed_24h, HealthState.MISSED, "missed/24h", marks),
            *([_count(snap.flapping, HealthState.FLAPPING, "flapping", marks)] if snap.flapping else [])]


def _count(n: int, state: HealthState, words: str, marks: Marks) -> Part:
    """A count with its state's glyph; a zero says so quietly, with no alarm glyph, and gives way first."""
    if not n:
        return Part(f"0 {words}", "", marks.style("quiet"))
    return Part(f"{marks.glyph(state)} {n} {words}", f"{marks.glyph(state)}{n}", marks.style(state))


def _engines_up(snap: Snapshot, now: float, marks: Marks) -> list[Part]:
    """Engines that answered, and what is known of engines while no scheduler watches them (stale)."""
    out = []
    for host, info in sorted(snap.docker_hosts.items()):
        label = "docker" if host == "local" else f"docker {safe(host)}"
        if not snap.holder:
            age = f" {ago(now - info['checked_at'])} ago" if info.get("checked_at") else ""
            state = "up" if info.get("up") else "down"
            out.append(Part(f"{label} {state}? (stale{age})", f"{label}?", marks.style("quiet"), drop=2))
        elif info.get("up"):
            out.append(Part(f"{label} {marks.glyph('ok')} up", f"{label} {marks.glyph('ok')}",
                            marks.style("ok"), drop=2))
    return out


def fit(candidates: list[Part], width: int) -> list[tuple[str, str]]:
    """(text, style) of the parts, as long as the width allows: shorten the calm parts, then the alarms,
    then drop what may be dropped; never an alarm."""
    chosen = [p.long for p in candidates]
    shown = [True] * len(candidates)

    def total() -> int:
        texts = [t for t, s in zip(chosen, shown) if s and t]
        return sum(len(t) for t in texts) + len(SEP) * max(0, len(texts) - 1) + 2

    for stage in ((False, False), (False, True), (True, False)):  # calm parts, then the clock, then alarms
        for i in reversed(range(len(candidates))):
            if total() <= width:
                break
            if (candidates[i].alarm, candidates[i].last_to_shorten) == stage:
                chosen[i] = candidates[i].short
    for level in sorted({p.drop for p in candidates if p.drop}, reverse=True):
        if total() <= width:
            break
        for i, part in enumerate(candidates):
            if part.drop == level:
                shown[i] = False
    return [(t, p.style) for t, p, s in zip(chosen, candidates, shown) if s and t]
