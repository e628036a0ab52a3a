"""This scheduler's hold on the database: the lease, taken once, renewed, released."""

from __future__ import annotations

from panda_tui.clock import Clock
from panda_tui.store import lease, state
from panda_tui.store.db import Database
from panda_tui.text import iso


class LeaseHeld(Exception):
    def __init__(self, holder: lease.Holder):
        super().__init__(f"another scheduler holds this database: {lease.shown_owner(holder.owner)} "
                         f"(last heartbeat {iso(holder.heartbeat_at)})")
        self.holder = holder


class Ownership:
    def __init__(self, db: Database, clock: Clock, role: str, ttl: float = lease.TTL):
        self.db = db
        self.clock = clock
        self.owner = lease.make_owner(role)
        self.ttl = ttl
        self.held = False
        self.previous_heartbeat: float | None = None  # the last sign of life of the scheduler before us

    def acquire(self) -> None:
        """Take the lease, or raise LeaseHeld naming the live holder."""
        old = lease.holder(self.db.conn)
        holder = lease.try_acquire(self.db.conn, self.owner, self.clock.now(), self.ttl)
        if holder is not None:
            raise LeaseHeld(holder)
        if old is None or old.owner != self.owner:  # an adopted claim keeps the heartbeat from before it
            self.previous_heartbeat = old.heartbeat_at if old else None
        self.held = True

    def adopt(self, claim: lease.Claim) -> None:
        """Hold a lease this process claimed before its scheduler was built; acquire() then renews it."""
        self.owner, self.previous_heartbeat = claim.owner, claim.previous_heartbeat

    def renew(self) -> bool:
        """False: someone else holds the lease now."""
        with self.db.transaction() as conn:
            self.held = lease.heartbeat(conn, self.owner, self.clock.now())
        return self.held

    def holder(self) -> str | None:
        current = lease.holder(self.db.conn)
        return current.owner if current else None

    def release(self) -> None:
        if self.held:
            now = self.clock.now()
            with self.db.transaction() as conn:
                lease.release(conn, self.owner)
                state.put_last_scheduler(conn, self.owner, now)  # "last seen"
            self.held = False
