"""A crontab line's five time fields, read exactly as Debian's cron (3.0pl1) reads them, and written back
as an expression panda-tui's schedule (cronsim) reads the same way.

Debian's grammar, per field: a list of ranges split by ","; a range is "*", N, or N-M (numbers, or three-letter
names in the month and weekday fields, any case), optionally followed by "/STEP". Its quirks matter here:
- "N/STEP" (a step without a range) is refused; cronsim would read it as N-max/STEP;
- a range whose end is below its start ("22-2", "fri-sun": sun is 0) matches nothing, silently;
- whatever follows a complete range up to the next blank is skipped ("5#2" is read as 5);
- a field that starts with "*" is a wildcard: it decides day-of-month/day-of-week AND or OR, and which
  jobs the daylight-saving rules treat as fixed-time. So a rewritten field keeps its leading "*".
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")  # as cron's own table: sun is 0 (and 7)


@dataclass(frozen=True)
class Spec:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()


SPECS = (Spec("minute", 0, 59), Spec("hour", 0, 23), Spec("day-of-month", 1, 31),
         Spec("month", 1, 12, MONTHS), Spec("day-of-week", 0, 7, DAYS))

# Fields cronsim reads exactly as Debian's cron does: plain numbers, names and ranges, with steps after a
# range or "*". Anything else is rewritten as an explicit list.
_ITEM = r"(?:\*|(?:\d+|[a-z]{3})(?:-(?:\d+|[a-z]{3}))?)"
_PLAIN = re.compile(rf"{_ITEM}(?:/\d+)?(?:,{_ITEM}(?:/\d+)?)*", re.IGNORECASE)


class FieldError(ValueError):
    """The field as Debian's cron would refuse it (the line is ignored there) or never match it."""


@dataclass(frozen=True)
class Field:
    spec: Spec
    text: str
    values: frozenset[int]
    star: bool  # starts with "*": cron's wildcard flag
    skipped: str = ""  # what cron skips after the last range ("#2" in "5#2")
    plain: bool = True  # cronsim reads the text as written exactly as cron does

    def expression(self) -> str:
        """This field for cronsim: the text as written when cronsim reads it alike, else a list."""
        return self.text if self.plain else _canonical(self)


@functools.lru_cache(maxsize=4096)  # a crontab repeats its fields ("*", "0"): each is read once
def parse_field(text: str, spec: Spec) -> Field:
    reader = _Reader(text, spec)
    values: set[int] = set()
    while True:
        values |= reader.range()
        if reader.peek() != ",":
            break
        reader.pos += 1
    skipped = text[reader.pos:]
    if spec.name == "day-of-week" and values & {0, 7}:
        values |= {0, 7}
    if not values:
        hint = " (a range that ends below its start is empty; sun is 0, so fri-sun is too: write 5-7)" \
            if reader.reversed else ""
        raise FieldError(f"{spec.name} {text!r} matches nothing: cron never runs this line{hint}")
    plain = not skipped and not reader.reversed and bool(_PLAIN.fullmatch(text))
    return Field(spec, text, frozenset(values), text.startswith("*"), skipped, plain)


class _Reader:
    def __init__(self, text: str, spec: Spec):
        self.text, self.spec, self.pos = text, spec, 0
        self.reversed = False  # a range like "22-2": cron sets nothing, cronsim refuses it

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def range(self) -> set[int]:
        spec = self.spec
        if self.peek() == "*":
            self.pos += 1
            first, last = spec.low, spec.high
        else:
            first = self.number(spec.names)
            if self.peek() == "/":
                raise FieldError(f"{spec.name} {self.text!r}: a step needs a range or * before it "
                                 f"(Debian's cron refuses it; write {first}-{spec.high}/… )")
            if self.peek() != "-":
                self.check(first)
                return {first}
            self.pos += 1
            last = self.number(spec.names)
        step = 1
        if self.peek() == "/":
            self.pos += 1
            step = self.number(())
            if step <= 0:
                raise FieldError(f"{spec.name} {self.text!r}: a step must be at least 1")
        self.check(first)
        self.check(last)
        self.reversed |= last < first
        return set(range(first, last + 1, step))  # empty when last < first, as in cron

    def number(self, names: tuple[str, ...]) -> int:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos].isascii() and self.text[self.pos].isalnum():
            self.pos += 1
        word = self.text[start:self.pos]
        if word.lower() in names:
            return names.index(word.lower()) + self.spec.low
        if word.isdigit():
            return int(word)
        what = f"{word!r} is not a number" + (" or a three-letter name" if names else "")
        raise FieldError(f"{self.spec.name} {self.text!r}: {what}" if word else
                         f"{self.spec.name} {self.text!r}: expected a number at {self.text[start:] or 'the end'!r}")

    def check(self, value: int) -> None:
        if not self.spec.low <= value <= self.spec.high:
            raise FieldError(f"{self.spec.name} {self.text!r}: {value} is outside "
                             f"{self.spec.low}-{self.spec.high}")


def _canonical(field: Field) -> str:
    spec = field.spec
    values = sorted(field.values - ({7} if spec.name == "day-of-week" else set()))
    if field.star:
        span = spec.high - spec.low + 1
        if values == list(range(spec.low, spec.high + 1)) or (spec.name == "day-of-week" and len(values) == 7):
            return "*"
        rest = [v for v in values if v != spec.low]
        return f"*/{span}" + ("," + _ranges(rest) if rest else "")  # "*/span" is the lowest value alone
    return _ranges(values)


def _ranges(values: list[int]) -> str:
    parts: list[str] = []
    start: int | None = None
    prev: int | None = None
    for v in [*values, None]:
        if start is not None and prev is not None and (v is None or v != prev + 1):
            parts.append(str(start) if start == prev else f"{start}-{prev}")
            start = None
        if v is not None and start is None:
            start = v
        prev = v
    return ",".join(parts)


def parse_fields(texts: list[str]) -> list[Field]:
    """The five fields of a line; FieldError names the first bad one."""
    return [parse_field(text, spec) for text, spec in zip(texts, SPECS)]


def expression(fields: list[Field]) -> str:
    return " ".join(f.expression() for f in fields)


def matches(fields: list[Field], minute: int, hour: int, day: int, month: int, weekday: int) -> bool:
    """Whether cron runs the line at this wall-clock minute (weekday 0 = Sunday), as its find_jobs does."""
    m, h, dom, mon, dow = fields
    if minute not in m.values or hour not in h.values or month not in mon.values:
        return False
    if dom.star or dow.star:
        return day in dom.values and weekday in dow.values
    return day in dom.values or weekday in dow.values


def fixed_time(fields: list[Field]) -> bool:
    """Debian's "fixed-time" job: neither minute nor hour starts with "*" (its DST rules differ)."""
    return not fields[0].star and not fields[1].star
