from __future__ import annotations

import gc

gc.disable()  # start-up makes many objects that live as long as the process: collecting them is wasted work
# (the console takes it up after its first screen, every other command at once: cli.resume_gc)

from panda_tui.cli import main  # noqa: E402

main()
