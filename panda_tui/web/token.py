"""Where the token comes from: PANDA_WEB_TOKEN, a token file, or a new random one shown once."""

from __future__ import annotations

import os
import secrets
import stat

from panda_tui.files import FileRefused, read_regular

ENV = "PANDA_WEB_TOKEN"
MIN_LENGTH = 16
MAX_FILE = 4096  # a token is tens of characters: a larger file is not one


class TokenError(Exception):
    """A token that cannot be used; the message is one line for the user."""


def resolve_token(token_file: str | None) -> tuple[str, str]:
    """(token, where it came from). The variable is removed from this process's environment, so the console
    subprocesses never inherit it."""
    from_env = os.environ.pop(ENV, None)
    if token_file:
        return _check(_read(token_file), f"--token-file {token_file}"), "file"
    if from_env is not None:
        return _check(from_env.strip(), ENV), "env"
    return secrets.token_urlsafe(32), "generated"


def _read(path: str) -> str:
    """The file's text: a regular file of at most MAX_FILE bytes (the checks jobs.toml gets: a FIFO or a
    device is refused, never waited on or read without end)."""
    try:
        info = os.stat(path)
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise TokenError(f"--token-file {path}: readable by others (mode {stat.S_IMODE(info.st_mode):o}); "
                             f"chmod 600 {path}")
        return read_regular(path, MAX_FILE).decode("utf-8").strip()
    except FileRefused as exc:
        raise TokenError(f"--token-file {path}: {exc}") from None
    except OSError as exc:
        raise TokenError(f"--token-file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise TokenError(f"--token-file {path}: not UTF-8 text") from None


def _check(token: str, where: str) -> str:
    if len(token) < MIN_LENGTH or any(c.isspace() for c in token) or not token.isprintable():
        raise TokenError(f"{where}: the token must be at least {MIN_LENGTH} printable characters without spaces "
                         "(e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
    return token
