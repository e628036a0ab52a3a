"""Any channel through Apprise (mailto://, slack://, ntfy://, pagerduty://, ...): checked at load, sent off the
event loop. An http(s) URL stays our own webhook (format json or slack); every other scheme is Apprise's.

Apprise is imported only when a target needs it (0.2 s and its 100+ plugins)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from panda_tui.config.channel_check import load_apprise
from panda_tui.secrets import SECRET_REF, Redactor, SecretError

RESOLVING = {"pagerduty"}  # schemes that can resolve what they raised: trigger and resolve share a dedup key
FULL_TEXT = {"mailto", "mailtos"}  # e-mail gets the whole answer; phone pushes and chats the short one


def is_apprise(url: str) -> bool:
    return not re.match(r"(?i)https?://", url)


def scheme(url: str) -> str:
    return url.split("://", 1)[0].lower()


def expand(url: str, pool: Mapping[str, str]) -> tuple[str, Redactor]:
    """${secret:NAME} replaced by its value (in memory only), and a Redactor for those values."""
    (expanded,), mask = expand_all([url], pool)
    return expanded, mask


def expand_all(texts: list[str], pool: Mapping[str, str]) -> tuple[list[str], Redactor]:
    """expand() over several texts (a webhook's URL and its headers), with one Redactor for them all."""
    used: list[str] = []

    def one(match: re.Match[str]) -> str:
        if match.group(1) not in pool:
            raise SecretError(f"alert secret {match.group(1)} is not set")
        used.append(pool[match.group(1)])
        return pool[match.group(1)]

    return [SECRET_REF.sub(one, text) for text in texts], Redactor(used)


def with_dedup(url: str, job: str | None, event: str) -> str:
    """A resolving target's URL for one event: the job's one dedup key, and trigger or resolve."""
    if scheme(url) not in RESOLVING or job is None:
        return url
    action = "resolve" if event == "recovered" else "trigger"
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}action={action}&dedup=panda-tui-{re.sub(r'[^A-Za-z0-9_.-]', '-', job)}"


def send(url: str, title: str, body: str, failure: bool, timeout: float) -> str | None:
    """Send one message (blocking: call it in a worker thread). None when it went through, else why not."""
    apprise = load_apprise()
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return f"Apprise cannot use this {scheme(url)}:// URL"
    kind = apprise.NotifyType.FAILURE if failure else apprise.NotifyType.SUCCESS
    result = notifier.notify(body=body, title=title, notify_type=kind, timeout=timeout)
    if result:
        return None
    if getattr(result, "status", None) == 5:  # AppriseResultStatus.TIMEOUT
        return f"no answer within {timeout:g}s"
    words = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
    return "; ".join(words)[:300] or f"{scheme(url)}:// did not accept the message"
