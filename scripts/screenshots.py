"""Regenerate screenshots/ from the real app, driven with Pilot over a demo store it fills itself.

    python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from panda_tui.tui.app import PandaApp  # noqa: E402
from panda_tui.tui.demo import NOW, demo_config, fill  # noqa: E402

SHOTS = [
    ("main", (120, 34), []),
    ("failing-job-errors", (120, 34), ["enter"]),
    ("help", (120, 34), ["question_mark"]),
    ("main-80x24", (80, 24), []),
]


async def shoot(db: str, name: str, size: tuple[int, int], keys: list[str]) -> Path:
    app = PandaApp(demo_config(), db, mode="attached", clock=lambda: NOW)
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.8)
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.8)
        out = ROOT / "screenshots" / f"{name}.svg"
        app.save_screenshot(str(out))
    return out


async def main() -> None:
    (ROOT / "screenshots").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/demo.db"
        fill(db)
        for name, size, keys in SHOTS:
            print(await shoot(db, name, size, keys))


if __name__ == "__main__":
    asyncio.run(main())
