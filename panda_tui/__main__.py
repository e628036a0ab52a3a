"""`python -m panda_tui` and the `panda-tui` command."""

from __future__ import annotations

import gc


def run() -> None:
    # The start-up makes many objects that live as long as the process: collecting them is wasted work. The
    # console collects again after its first screen, every other command at once (cli.resume_gc).
    gc.disable()
    from panda_tui.cli import main
    main()


if __name__ == "__main__":
    run()
