"""Alerts and heartbeat pings: decided from the ledger, queued in a durable outbox, delivered over HTTP."""
