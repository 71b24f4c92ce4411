#!/usr/bin/env bash
# `make run`: PostgreSQL, NATS and the development SMTP relay up (mail lands
# in .livedesk/mail/new, one .eml per message), the six services started in
# the background (logs in .livedesk/logs, pids in .livedesk/pids), then the
# walking-skeleton demo. `make stop` stops the services and the relay.
set -euo pipefail
cd "$(dirname "$0")/.."
state=.livedesk
mkdir -p "$state/logs" "$state/pids"

echo "[run] building the services and livedeskctl (first build takes a few minutes)"
cargo build --quiet --bins

./scripts/stop-suite.sh >/dev/null 2>&1 || true
# After the stop: it also stops the SMTP relay a previous run started.
./scripts/dev-services.sh
# Email goes to the local relay (scripts/smtp-server.py on port 2525).
export LIVEDESK_NOTIFICATIONS__SMTP_URL="${LIVEDESK_NOTIFICATIONS__SMTP_URL:-smtp://127.0.0.1:2525}"
export LIVEDESK_NOTIFICATIONS__SMTP_FROM="${LIVEDESK_NOTIFICATIONS__SMTP_FROM:-livedesk@livedesk.localhost}"
# A local suite: the services verify and livedeskctl signs with the public
# development secret. Services refuse that secret unless told so explicitly.
export LIVEDESK_AUTH_ALLOW_DEV_SECRET=true
export LIVEDESK_CTL_DEV=true
for svc in routing blocking scheduling conversations reporting notifications; do
  LIVEDESK_LOG_FORMAT="${LIVEDESK_LOG_FORMAT:-pretty}" nohup "target/debug/livedesk-$svc" serve >"$state/logs/$svc.log" 2>&1 &
  echo $! >"$state/pids/$svc.pid"
  echo "[run] started livedesk-$svc (pid $!, log $state/logs/$svc.log)"
done
if ! target/debug/livedeskctl wait-ready --timeout-seconds 60; then
  echo "[run] a service did not become ready; last log lines:"
  tail -n 5 "$state"/logs/*.log
  exit 1
fi
echo "[run] playing the demo"
target/debug/livedeskctl demo
echo "[run] mail sent by the suite: $state/mail/new (one .eml per message, named after its Message-ID)"
echo "[run] the suite keeps running: 'make demo' plays again, 'make stop' stops it"
