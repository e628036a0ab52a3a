"""How a console relates to the one scheduler of its database; the header says which."""

from __future__ import annotations

from enum import StrEnum


class ConsoleMode(StrEnum):
    EMBEDDED = "embedded"  # no daemon was found: this console runs the scheduler, and quitting stops it
    ATTACHED = "attached"  # another process runs it; keys that act ask it
    READ_ONLY = "read-only"  # keys that act are off
