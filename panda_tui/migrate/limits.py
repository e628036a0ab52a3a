"""What an import may write: only what `validate` then accepts. A crontab line that is not UTF-8 cannot go
into a jobs.toml (TOML is UTF-8 text, with no escape for a byte), and a jobs.toml holds at most MAX_JOBS
jobs and MAX_BYTES bytes: the import refuses (exit 2) and says which line, or by how much."""

from __future__ import annotations

from panda_tui.config.load import MAX_BYTES, MAX_JOBS
from panda_tui.files import size_text

SHOWN = 5  # lines named one by one; the rest are counted


class ImportRefused(Exception):
    """The crontab cannot become a jobs.toml that validates; str() is one line per reason."""


def undecodable(label: str, numbered: list[tuple[int, str]]) -> list[str]:
    """One line for each of the given (number, text) lines holding bytes that are not UTF-8 (read with
    surrogateescape), the first SHOWN of them by name."""
    bad = []
    for number, text in numbered:
        index = _first_escaped(text)
        if index is not None:
            bad.append(f"{label}:{number}: not UTF-8 (byte 0x{ord(text[index]) - 0xDC00:02x} at column "
                       f"{index + 1}); a jobs.toml holds UTF-8 text only: convert the crontab first, e.g. "
                       f"`iconv -f latin1 -t utf-8`")
    if len(bad) > SHOWN:
        bad[SHOWN:] = [f"{label}: and {len(bad) - SHOWN} more lines that are not UTF-8"]
    return bad


def _first_escaped(text: str) -> int | None:
    if text.isascii():
        return None
    for index, ch in enumerate(text):
        if "\udc80" <= ch <= "\udcff":
            return index
    return None


def shown(text: str) -> str:
    """Text of ours (a path, a comment) with any undecodable byte written as \\xNN, so it stays UTF-8."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def check_jobs(origin: str, entries: int) -> None:
    """Before any work: more entries than a jobs.toml may hold jobs is refused at once."""
    if entries > MAX_JOBS:
        raise ImportRefused(f"{origin}: {entries:,} entries, and one scheduler runs at most {MAX_JOBS:,} jobs "
                            "(validate refuses a jobs.toml with more): split the crontab, one part per scheduler")


def check_bytes(origin: str, toml: str) -> None:
    _refuse_size(origin, len(toml.encode("utf-8", "surrogateescape")))


def _refuse_size(origin: str, size: int) -> None:
    if size > MAX_BYTES:
        raise ImportRefused(f"{origin}: the jobs.toml would be larger than the {size_text(MAX_BYTES)} validate "
                            "reads (each job repeats the environment lines above it): split the crontab")


class Parts(list):
    """The parts of the jobs.toml being written, refused as soon as they outgrow what validate reads (every
    job repeats the environment lines above it: 20,000 of them over 5,000 jobs would be gigabytes)."""

    def __init__(self, origin: str, parts: list[str]):
        super().__init__(parts)
        self.origin, self.size = origin, sum(map(len, parts))

    def append(self, part: str) -> None:
        super().append(part)
        self.size += len(part)  # characters: never more than the bytes they encode to
        _refuse_size(self.origin, self.size)
