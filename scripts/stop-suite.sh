#!/usr/bin/env bash
# Stops the services `make run` started (SIGTERM: they drain and flush).
set -uo pipefail
cd "$(dirname "$0")/.."
for pidfile in .livedesk/pids/*.pid; do
  [ -e "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    echo "[stop] stopped $(basename "$pidfile" .pid)"
  fi
  rm -f "$pidfile"
done
