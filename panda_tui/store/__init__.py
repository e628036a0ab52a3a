"""SQLite is the single source of truth: the runs ledger, logs, control requests, lease, outbox."""

from __future__ import annotations

from panda_tui.store.db import StoreError, connect, data_version, db_id, default_db_path

__all__ = ["StoreError", "connect", "data_version", "db_id", "default_db_path"]
