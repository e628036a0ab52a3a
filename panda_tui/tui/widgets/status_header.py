"""The top line: scheduler mode, Docker engines, counts that matter, and the clock with its zone."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from panda_tui.text import safe
from panda_tui.readmodel.snapshot import Snapshot


class StatusHeader(Static):
    mode: reactive[str] = reactive("embedded")
    snapshot: reactive[Snapshot | None] = reactive(None, always_update=True)
    now: reactive[float] = reactive(0.0)

    def render(self) -> Text:
        narrow = (self.size.width or 80) < 110
        text = Text(no_wrap=True, overflow="ellipsis")
        clock = datetime.fromtimestamp(self.now).astimezone()
        text.append(f" {clock:%H:%M:%S} {safe(clock.tzname())} ", style="bold reverse")
        if not narrow:
            text.append(" panda-tui", style="bold")
        mode_style = {"embedded": "bold", "attached": "bold cyan", "read-only": "bold yellow"}.get(self.mode, "bold")
        text.append(f" {self.mode} ", style=mode_style)
        snap = self.snapshot
        if snap is not None:
            if self.mode == "attached" and not snap.holder:
                text.append("· no scheduler! ", style="bold red")
            text.append(f"· ✗ {snap.failing} failing ", style="bold red" if snap.failing else "dim")
            text.append(f"· ▶ {snap.running} running ", style="cyan" if snap.running else "dim")
            text.append(f"· ! {snap.missed_24h} missed{'' if narrow else '/24h'} ",
                        style="yellow" if snap.missed_24h else "dim")
            for host, info in sorted(snap.engines.items()):
                label = "docker" if host == "local" else f"docker {safe(host)}"
                if info.get("up"):
                    text.append(f"· {label} ✓ up ", style="green")
                else:
                    text.append(f"· {label} ✗ DOWN ", style="bold red")
            if snap.undelivered_alerts:
                text.append(f"· ✉ {snap.undelivered_alerts} alerts undelivered ", style="bold red")
            if snap.config_errors:
                text.append("· jobs.toml refused ", style="bold red")
        return text
