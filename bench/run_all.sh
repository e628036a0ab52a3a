#!/usr/bin/env bash
# Every benchmark, one after another (never in parallel: they would disturb each other).
set -euo pipefail
cd "$(dirname "$0")"
for b in dispatch run_overhead ingest scale console tail metrics console_bytes launch daemon_rss contention import_crontab serve_followers swarm_start answer_facts alerts; do
  python3 "$b.py"
done
