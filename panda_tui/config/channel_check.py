"""Is a target's URL one Apprise can use? Checked at load (importing Apprise only for a config that has one)."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

SECRET_REF = re.compile(r"\$\{secret:([A-Za-z_][A-Za-z0-9_]*)\}")


def scheme(url: str) -> str:
    return url.split("://", 1)[0].lower()


def load_apprise():
    import apprise
    log = logging.getLogger("apprise")  # its log lines may quote a URL: they reach us through its results only
    if not log.handlers:
        log.addHandler(logging.NullHandler())
        log.propagate = False
    return apprise


def check_url(url: str, with_apprise: bool = True) -> str | None:
    """Why Apprise cannot use `url` (without quoting it: it may hold a password), or None. Without Apprise,
    only its shape is checked."""
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://\S*$", url):
        return f"expected an http(s):// webhook or an Apprise URL such as mailto://, slack://, ntfy://, got {_shown(url)}"
    if not with_apprise:
        return None
    probe = SECRET_REF.sub("secretvalue", url)  # the values are not needed to check the shape
    apprise = load_apprise()
    if apprise.Apprise.instantiate(probe) is None:
        known = _known_schemes(apprise)
        if scheme(url) not in known:
            return f"{scheme(url)}:// is not a channel Apprise knows (see https://github.com/caronc/apprise/wiki)"
        return f"Apprise cannot use this {scheme(url)}:// URL (check its form on https://github.com/caronc/apprise/wiki)"
    return None


def _known_schemes(apprise) -> set[str]:
    out: set[str] = set()
    for schema in apprise.Apprise().details()["schemas"]:
        for key in ("protocols", "secure_protocols"):
            value = schema.get(key) or ()
            out.update([value] if isinstance(value, str) else value)
    return {s.lower() for s in out if s}


def _shown(url: str) -> str:
    """A URL fit for a message: no user, no password, no query."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname or ''}..." if parts.scheme else repr(url[:20])
    except ValueError:
        return "an unreadable URL"
