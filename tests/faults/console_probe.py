"""A headless console attached to a store for N seconds; prints its peak RSS and any error as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
import traceback


async def main(cfg: str, db: str, seconds: float) -> dict:
    from panda_tui.config import load_config
    from panda_tui.tui.app import PandaApp
    errors: list[str] = []
    app = PandaApp(load_config(cfg), db, mode="attached")
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            steps = int(seconds / 0.5)
            for i in range(steps):
                await pilot.pause(0.5)
                if i % 4 == 0:
                    await pilot.press("down")
    except Exception:
        errors.append(traceback.format_exc())
    with open("/proc/self/status") as fh:
        peak = next(int(l.split()[1]) / 1024 for l in fh if l.startswith("VmHWM:"))
    return {"peak_rss_mb": peak, "errors": errors}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))))
