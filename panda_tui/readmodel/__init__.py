"""What consoles, the CLI and the web API show, read from the store: job health, snapshots, trends."""
