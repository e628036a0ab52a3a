"""systemd's notify protocol (sd_notify(3)) in a few lines, with no dependency on systemd: one datagram of
`KEY=VALUE` lines to the unix socket named by NOTIFY_SOCKET. Without that variable every call is a no-op."""

from __future__ import annotations

import os
import socket
from collections.abc import MutableMapping

# What a service manager hands its main process; taken out of the environment so that nothing started
# from here (a job, a helper) can speak for the scheduler.
VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


class Notifier:
    """Tells the service manager about this process. `watchdog_every` is how often WATCHDOG=1 is due (half
    of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises), or None when no watchdog is set for us."""

    def __init__(self, address: str | None, watchdog_usec: int | None = None):
        self.address = _sockaddr(address) if address else None
        self.watchdog_every = watchdog_usec / 2e6 if watchdog_usec and self.address else None
        self._sock: socket.socket | None = None

    @classmethod
    def from_environ(cls, environ: MutableMapping[str, str] | None = None) -> Notifier:
        """The notifier systemd set up for this process, removing its variables from `environ`."""
        environ = os.environ if environ is None else environ
        address, usec, pid = (environ.pop(name, None) for name in VARIABLES)
        watchdog = int(usec) if usec and usec.isdigit() else None
        if pid is not None and pid != str(os.getpid()):  # meant for another process (we were exec'd)
            watchdog = None
        return cls(address, watchdog)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *assignments: str) -> bool:
        """Send `KEY=VALUE` lines in one datagram. Never raises: a service manager that went away or a
        full socket must not stop the scheduler."""
        if self.address is None:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto("\n".join(assignments).encode(), self.address)
            return True
        except OSError:
            return False

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _sockaddr(address: str) -> str | bytes | None:
    """A path, or an abstract-namespace name written with a leading '@'. Other kinds (vsock:) are ignored."""
    if address.startswith("@"):
        return b"\0" + address[1:].encode()
    return address if address.startswith("/") else None
