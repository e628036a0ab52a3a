"""Resolve secrets at run time, and mask their values in everything that is stored or shown."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus

from panda_tui.config import Config, Job
from panda_tui.files import FileRefused, read_regular
from panda_tui.text import char_boundary

MIN_MASKED = 4
MASK = "***"
MAX_SECRETS_BYTES = 1024 * 1024
SECRET_REF = re.compile(r"\$\{secret:([A-Za-z_][A-Za-z0-9_]*)\}")  # in alert URLs and headers


class SecretError(Exception):
    """A secret that cannot be resolved; the message names the file, job or name."""


def read_secrets_file(path: str) -> dict[str, str]:
    try:
        info = os.stat(path)
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO) and stat.S_ISREG(info.st_mode):
            mode = stat.S_IMODE(info.st_mode)
            raise SecretError(f"{path}: secrets file is readable by group or others (mode {mode:04o}); "
                              f"refusing it: run chmod 600 {path}")
        raw = read_regular(path, MAX_SECRETS_BYTES)
    except FileNotFoundError:
        raise SecretError(f"{path}: secrets file not found") from None
    except FileRefused as exc:
        raise SecretError(f"{path}: secrets file {exc}") from None
    except OSError as exc:
        raise SecretError(f"{path}: cannot read secrets file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SecretError(f"{path}: secrets file is not UTF-8 text (byte {exc.start})") from None
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()):
            raise SecretError(f"{path}: line {number}: expected KEY=VALUE")
        values[key.strip()] = _unquote(value.strip()).rstrip("\r\n")  # a value never ends in a line break
    return values


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
        return value.encode().decode("unicode_escape") if "\\" in value else value
    return value


def available(config: Config, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every value a secret name could take: the secrets file, then the environment."""
    values = dict(environ if environ is not None else os.environ)
    if config.secrets_file:
        values = {**values, **read_secrets_file(config.secrets_file)}
    return values


def resolve(job: Job, pool: Mapping[str, str]) -> dict[str, str]:
    missing = [name for name in job.secrets if name not in pool]
    if missing:
        raise SecretError(f'job "{job.name}": secrets: {", ".join(missing)} not set '
                          "(in the scheduler's environment or the secrets_file)")
    return {name: pool[name] for name in job.secrets}


def reachable_mask(config: Config, environ: Mapping[str, str] | None = None) -> Redactor:
    """A Redactor for every secret the config can reach (jobs' secrets and alert headers), for the texts
    that are not one run's log: the decision log, alert errors. Unreadable secrets mask nothing."""
    try:
        pool = available(config, environ)
    except SecretError:
        pool = dict(environ if environ is not None else os.environ)
    names = {name for job in config.jobs.values() for name in job.secrets}
    names |= {ref for target in config.alerts.values() for value in (target.url, *target.headers.values())
              for ref in SECRET_REF.findall(value)}
    return Redactor(pool[name] for name in names if name in pool)


def secret_warnings(config: Config, environ: Mapping[str, str] | None = None) -> list[str]:
    pool = available(config, environ)
    out: list[str] = []
    for job in config.jobs.values():
        for name in job.secrets:
            if name not in pool:
                out.append(f'job "{job.name}": secrets: {name} is not set here; runs will fail until it is')
            elif len(pool[name]) < MIN_MASKED:
                out.append(f'job "{job.name}": secrets: {name} is shorter than {MIN_MASKED} characters '
                           "and will not be masked in logs")
    return out


class Redactor:
    """Replaces secret values by *** in every form a job or a tool may print them in: as they are, each line
    of a multi-line value, JSON-escaped, URL-encoded (%20 and + forms), and base64 (standard and URL-safe) at
    each of the three byte alignments a value can have inside a longer encoded text."""

    def __init__(self, values: Iterable[str]):
        needles: set[str] = set()
        for value in values:
            for part in {value, *value.splitlines()}:
                part = part.strip("\r")
                if len(part) >= MIN_MASKED:
                    needles.update(n for n in forms(part) if len(n) >= MIN_MASKED)
        ordered = sorted(needles, key=len, reverse=True)  # the longest form wins where forms overlap
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        self._bytes = re.compile(b"|".join(re.escape(n.encode()) for n in ordered)) if ordered else None
        self.hold = max((len(n.encode()) for n in ordered), default=1) - 1  # bytes an unfinished match may span

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)

    def safe_cut(self, data: bytes, limit: int) -> int:
        """Where a line too long to keep may be cut, at or before `limit`: never inside a secret, and never
        before the bytes of one that may not have arrived whole yet (they wait for the next piece)."""
        cut = min(limit, len(data) - self.hold) if self._bytes is not None else min(limit, len(data))
        if cut <= 0:
            return 0
        if self._bytes is not None:
            for match in self._bytes.finditer(data, max(0, cut - self.hold - 1), cut + self.hold + 1):
                if match.start() < cut < match.end():
                    cut = match.start() if match.start() > 0 else match.end()
                    break
        return char_boundary(data, cut)


def forms(value: str) -> set[str]:
    """Every text a secret value may turn into on its way to a log line."""
    out = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    for encoded in (quote(value, safe=""), quote(value), quote_plus(value)):
        out.update((encoded, re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), encoded)))
    out.update(_b64_forms(value.encode()))
    return out


def _b64_forms(raw: bytes) -> set[str]:
    """The whole encoding (padded and not), and the stable core of the value at each alignment: the
    characters that depend on the value's bytes alone, whatever comes before or after it."""
    out: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode()
        out.update((whole, whole.rstrip("=")))
        for before in range(3):  # bytes of other data in the value's first 3-byte group
            rest = raw[(3 - before) % 3:]
            whole_groups = rest[:len(rest) // 3 * 3]
            if whole_groups:
                out.add(encode(whole_groups).decode())
    return out
