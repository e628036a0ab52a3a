"""panda-tui: run and watch scheduled jobs on one server."""

from __future__ import annotations

__version__ = "0.1.0"
