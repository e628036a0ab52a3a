from __future__ import annotations

from panda_tui.cli import main

main()
