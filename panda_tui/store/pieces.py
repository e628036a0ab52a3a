"""A line longer than PIECE_BYTES is stored in pieces, one row each (runners.lines cuts it while it waits for
its newline). A reader shows such a line once: the first piece, with `more` counting the bytes of them all."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

from panda_tui.store.logs import LogLine

PIECE_BYTES = 64 * 1024  # runners.lines.MAX_LINE: every piece but a line's last is this long
_FULL = PIECE_BYTES - 3  # a cut moved back to a UTF-8 character's start is at most 3 bytes short
# A row longer than PIECE_BYTES is a whole line (its newline came in the chunk that made it that long: it was
# never cut). A line whose own length falls in the 4 bytes of a piece reads as going on (rare); a piece cut
# short before a secret (see Redactor.safe_cut) reads as a line of its own.


def _going_on(size: int) -> bool:
    return _FULL <= size <= PIECE_BYTES


def stored_bytes(line: LogLine) -> int:
    """The stored row's size in bytes (a row read cut holds its first characters and counts the rest)."""
    return len(line.text.encode("utf-8", "replace")) + line.more


def fold(lines: Sequence[LogLine], going: LogLine | None = None) -> tuple[list[LogLine], bool]:
    """The rows with each line's pieces as one (its first piece, `more` grown by the bytes of the others,
    `upto` the seq of its last piece), and whether the last line may go on after these rows (a full piece).
    `going`: a line folded before whose last piece was full, which these rows may continue."""
    out: list[LogLine] = [going] if going is not None else []
    going_on = going is not None
    for line in lines:
        size = stored_bytes(line)
        if continues(out[-1] if out else None, going_on, line):
            out[-1] = replace(out[-1], more=out[-1].more + size, upto=line.seq)
        else:
            out.append(line)
        going_on = _going_on(size)
    return out, going_on


def continues(before: LogLine | None, going_on: bool, line: LogLine) -> bool:
    """Whether `line` is the next piece of `before` (a row or a folded line; `going_on`: its last piece was
    full): the one test the pane, `s` and `panda-tui logs` join pieces by."""
    return going_on and before is not None and before.stream == line.stream and line.seq == last_seq(before) + 1


class Joiner:
    """Row by row, in seq order and across pages: whether each row goes on the line before it (so a writer
    adds it without a newline, and a long line is written whole without being held)."""

    def __init__(self) -> None:
        self.before: LogLine | None = None
        self.going_on = False

    def goes_on(self, line: LogLine) -> bool:
        joined = continues(self.before, self.going_on, line)
        self.before, self.going_on = line, _going_on(stored_bytes(line))
        return joined


def joined(lines: Iterable[LogLine]) -> Iterator[tuple[LogLine, bool]]:
    """Each row with whether it goes on the line before it (see Joiner)."""
    joiner = Joiner()
    for line in lines:
        yield line, joiner.goes_on(line)


def last_seq(line: LogLine) -> int:
    """The seq of the line's last piece (its own, for a line stored whole)."""
    return max(line.seq, line.upto)


def holds(line: LogLine, seq: int) -> bool:
    """Whether `seq` is the line or one of its pieces."""
    return line.seq <= seq <= last_seq(line)


def rest(conn: sqlite3.Connection, line: LogLine) -> LogLine:
    """The line grown by its pieces stored after the rows read (a window that ends inside a long line), read
    as sizes only: the pieces' text stays in SQLite."""
    rows = conn.execute("SELECT seq, stream, length(CAST(text AS BLOB)) FROM logs WHERE run_id=? AND seq>? "
                        "ORDER BY seq", (line.run_id, last_seq(line)))
    more, upto = line.more, last_seq(line)
    for seq, stream, size in rows:
        if seq != upto + 1 or stream != line.stream:
            break
        more, upto = more + size, seq
        if not _going_on(size):
            break
    return replace(line, more=more, upto=upto) if upto != last_seq(line) else line


def open_end(conn: sqlite3.Connection, line: LogLine) -> bool:
    """Whether the line's last stored piece is full: its next piece, once stored, goes on it."""
    row = conn.execute("SELECT length(CAST(text AS BLOB)) FROM logs WHERE run_id=? AND seq=?",
                       (line.run_id, last_seq(line))).fetchone()
    return row is not None and _going_on(row[0])
