"""Resolve secrets at run time, and mask their values in everything that is stored or shown."""

from __future__ import annotations

import base64
import os
import re
import stat
from collections.abc import Iterable, Mapping

from panda_tui.config import Config, Job

MIN_MASKED = 4
MASK = "***"


class SecretError(Exception):
    """A secret that cannot be resolved; the message names the file, job or name."""


def read_secrets_file(path: str) -> dict[str, str]:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise SecretError(f"{path}: secrets file not found") from None
    except OSError as exc:
        raise SecretError(f"{path}: cannot read secrets file: {exc.strerror}") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        mode = stat.S_IMODE(info.st_mode)
        raise SecretError(f"{path}: secrets file is readable by group or others (mode {mode:04o}); "
                          f"refusing it: run chmod 600 {path}")
    values: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for number, raw in enumerate(fh, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.removeprefix("export ").partition("=")
            if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()):
                raise SecretError(f"{path}: line {number}: expected KEY=VALUE")
            values[key.strip()] = _unquote(value.strip())
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
    """Replaces secret values (whole, per line of a multi-line value, and base64-encoded) by ***."""

    def __init__(self, values: Iterable[str]):
        needles: set[str] = set()
        for value in values:
            for part in [value, *value.splitlines()]:
                part = part.strip("\r")
                if len(part) >= MIN_MASKED:
                    needles.add(part)
                    needles.update(_b64_forms(part))
        ordered = sorted(needles, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)


def _b64_forms(value: str) -> set[str]:
    raw = value.encode()
    out = set()
    for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = enc.decode()
        for form in (text, text.rstrip("=")):  # padded first: the longer match wins
            if len(form) >= MIN_MASKED:
                out.add(form)
    return out
