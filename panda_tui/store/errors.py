"""What went wrong with the store, decided in one place: SQLite says it in words and result codes."""

from __future__ import annotations

import sqlite3
from enum import StrEnum


class Trouble(StrEnum):
    BUSY = "busy"  # another writer holds the database: waiting helps
    FULL = "full"  # the disk (or a quota) is full: waiting for room helps
    READ_ONLY = "read_only"  # this process may not write the file: waiting does not help
    CORRUPT = "corrupt"  # not a database, malformed, its tables gone: waiting does not help
    UNAVAILABLE = "unavailable"  # the file cannot be opened at all
    OTHER = "other"  # an I/O error or anything else: tried again, as a passing trouble

    @property
    def fatal(self) -> bool:
        """A store in this state will not recover by waiting: a scheduler stops (and is restarted)."""
        return self in (Trouble.READ_ONLY, Trouble.CORRUPT, Trouble.UNAVAILABLE)


_CODES = {"SQLITE_BUSY": Trouble.BUSY, "SQLITE_LOCKED": Trouble.BUSY, "SQLITE_FULL": Trouble.FULL,
          "SQLITE_READONLY": Trouble.READ_ONLY, "SQLITE_CORRUPT": Trouble.CORRUPT,
          "SQLITE_NOTADB": Trouble.CORRUPT, "SQLITE_CANTOPEN": Trouble.UNAVAILABLE}
_WORDS = ((("locked", "busy"), Trouble.BUSY), (("disk is full", "full"), Trouble.FULL),
          (("readonly", "read-only"), Trouble.READ_ONLY),
          (("malformed", "not a database", "no such table"), Trouble.CORRUPT),
          (("unable to open",), Trouble.UNAVAILABLE))


def classify(exc: BaseException) -> Trouble:
    """The kind of trouble an sqlite3 error (or its message) stands for."""
    name = getattr(exc, "sqlite_errorname", None)
    if isinstance(name, str):
        for prefix, trouble in _CODES.items():
            if name == prefix or name.startswith(prefix + "_"):
                return trouble
    text = str(exc).lower()
    for words, trouble in _WORDS:
        if any(word in text for word in words):
            return trouble
    return Trouble.OTHER


def is_fatal(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.DatabaseError) and classify(exc).fatal


def explain(path: str, exc: BaseException) -> str:
    """One line for the user: the path, what the trouble means, SQLite's own words."""
    text = str(exc)
    trouble = classify(exc)
    if trouble == Trouble.CORRUPT and "not a database" in text.lower():
        return f"{path}: not a panda-tui database (not SQLite); refusing to touch it"
    if trouble == Trouble.READ_ONLY:
        return f"{path}: database is read-only for this user ({text})"
    if trouble == Trouble.FULL:
        return f"{path}: disk is full ({text})"
    if trouble == Trouble.UNAVAILABLE:
        return f"{path}: cannot open database ({text}); check the directory exists and is writable"
    if trouble == Trouble.BUSY:
        return f"{path}: database is locked by another writer ({text})"
    return f"{path}: database error: {text}"
