"""Coming from cron: import a crontab as jobs.toml, and `exec` to record runs cron starts."""
