#!/usr/bin/env bash
# Makes sure PostgreSQL (127.0.0.1:5432), NATS with JetStream
# (127.0.0.1:4222) and the development SMTP relay (127.0.0.1:2525,
# scripts/smtp-server.py storing mail in .livedesk/mail) answer: starts them
# when installed, installs them from Debian packages when absent and running
# as root, otherwise says what is missing. Idempotent; used by `make run`,
# `make test` and `.ci/run`.
set -euo pipefail

PG_HOST=127.0.0.1 PG_PORT=5432 NATS_PORT=4222 SMTP_PORT=2525
state_dir="${LIVEDESK_STATE_DIR:-$(pwd)/.livedesk}"

say() { printf '[dev-services] %s\n' "$*"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
  return 1
}
can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

ensure_postgres() {
  if port_open "$PG_PORT"; then say "PostgreSQL is up on $PG_HOST:$PG_PORT"; return; fi
  if ! command -v pg_ctlcluster >/dev/null && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    if can_install; then
      say "installing PostgreSQL from Debian packages"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
      # Local development only: let the `postgres` role connect over
      # loopback without a password, as the default URLs expect.
      for hba in /etc/postgresql/*/main/pg_hba.conf; do
        grep -q '^host all all 127.0.0.1/32 trust' "$hba" || sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
      done
    else
      say "PostgreSQL is not running and not installed: install PostgreSQL 15 (e.g. 'apt-get install postgresql') or point LIVEDESK_TEST_DATABASE_URL / LIVEDESK_<SERVICE>__DATABASE_URL at a server"
      exit 1
    fi
  fi
  say "starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  fi
  wait_port "$PG_PORT" || { say "PostgreSQL did not come up on port $PG_PORT"; exit 1; }
  say "PostgreSQL is up"
}

ensure_nats() {
  if port_open "$NATS_PORT"; then say "NATS is up on 127.0.0.1:$NATS_PORT"; return; fi
  local bin
  bin=$(command -v nats-server || { [ -x /usr/sbin/nats-server ] && echo /usr/sbin/nats-server; } || true)
  if [ -z "$bin" ]; then
    if can_install; then
      say "installing nats-server from Debian packages"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q nats-server >/dev/null
      bin=$(command -v nats-server || echo /usr/sbin/nats-server)
    else
      say "NATS is not running and nats-server is not installed: install it (Debian package nats-server, or a release binary) or set LIVEDESK_NATS_URL / LIVEDESK_TEST_NATS_URL"
      exit 1
    fi
  fi
  local store=/var/lib/nats-server log=/var/log/nats-server.log
  if [ ! -w "$(dirname "$store")" ]; then store="$state_dir/nats"; log="$state_dir/nats-server.log"; fi
  mkdir -p "$store"
  say "starting nats-server with JetStream (store $store)"
  if command -v start-stop-daemon >/dev/null; then
    start-stop-daemon --start --oknodo --background --exec "$bin" -- -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$store" -l "$log"
  else
    nohup "$bin" -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$store" -l "$log" >/dev/null 2>&1 &
  fi
  wait_port "$NATS_PORT" || { say "NATS did not come up on port $NATS_PORT"; exit 1; }
  say "NATS is up"
}

# A Python 3 that can import aiosmtpd (Debian's python3-aiosmtpd installs
# for /usr/bin/python3, which may not be the first python3 on PATH).
aiosmtpd_python() {
  local py
  for py in /usr/bin/python3 python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import aiosmtpd' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  return 1
}

ensure_smtp() {
  if port_open "$SMTP_PORT"; then say "SMTP relay is up on 127.0.0.1:$SMTP_PORT"; return; fi
  local py
  if ! py=$(aiosmtpd_python); then
    if can_install; then
      say "installing python3-aiosmtpd from Debian packages"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-aiosmtpd >/dev/null \
        || python3 -m pip install --quiet aiosmtpd
    else
      say "the SMTP relay needs aiosmtpd: install it (Debian package python3-aiosmtpd, or 'pip install aiosmtpd')"
      exit 1
    fi
    py=$(aiosmtpd_python) || { say "aiosmtpd is still not importable"; exit 1; }
  fi
  local here mail="$state_dir/mail" log="$state_dir/logs/smtp-server.log"
  here=$(cd "$(dirname "$0")" && pwd)
  mkdir -p "$mail" "$state_dir/logs" "$state_dir/pids"
  say "starting the development SMTP relay (mail in $mail)"
  nohup "$py" "$here/smtp-server.py" --host 127.0.0.1 --port "$SMTP_PORT" --dir "$mail" >"$log" 2>&1 &
  echo $! >"$state_dir/pids/smtp-server.pid"
  wait_port "$SMTP_PORT" || { say "the SMTP relay did not come up on port $SMTP_PORT (log $log)"; exit 1; }
  say "SMTP relay is up"
}

ensure_postgres
ensure_nats
ensure_smtp
