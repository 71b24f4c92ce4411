#!/usr/bin/env bash
# Stops the services `make run` started (SIGTERM: they drain and flush)
# and the development SMTP relay (its pid is in .livedesk/pids too; the
# mail it stored stays in .livedesk/mail).
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
