"""`python -m panda_tui` and the `panda-tui` command."""

from __future__ import annotations

import gc
import os
import sys


def run() -> None:
    # The start-up makes many objects that live as long as the process: collecting them is wasted work. The
    # console collects again after its first screen, every other command at once (cli.resume_gc).
    gc.disable()
    from panda_tui.cli.console_args import console_options
    options = console_options(sys.argv[1:], os.environ)
    if options is None:
        from panda_tui.cli import main
        main()
        return
    from panda_tui.cli.console_cmd import open_console  # the console alone: no click (cli/console_args.py)
    try:
        open_console(**options)
    except (EOFError, KeyboardInterrupt):  # as click ends a command interrupted
        print("\nAborted!", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    run()
