#!/usr/bin/env bash
# A Livedesk cluster on this machine with Podman: PostgreSQL, NATS and two
# replicas of every service image on one container network, the way the
# Helm chart runs them (migrations first by the `migrate` subcommand, then
# the replicas with migrations off; service-to-service calls go to a DNS
# name that resolves to both replicas, as a headless Service does).
#
#   scripts/cluster.sh up                 start everything, wait until every replica is SERVING
#   scripts/cluster.sh replace SVC N      replace replica N (1|2) of SVC: SIGTERM, wait, start anew
#   scripts/cluster.sh urls               print LIVEDESK_CTL_<SERVICE>_URL lines (both replicas each)
#   scripts/cluster.sh down               remove the containers and the network
#
# Each replica's gRPC port is published on 127.0.0.1 (routing 18011/18012,
# conversations 18021/18022, blocking 18031/18032, scheduling 18041/18042,
# reporting 18051/18052, notifications 18061/18062), its metrics port on the
# same numbers plus 1000 (19011 ...), PostgreSQL on 127.0.0.1:18001
# (all below the ephemeral range 32768-60999, where an outgoing connection
# could hold the port: CI failed once on exactly that, and below the
# 20000-32000 the test kit reserves from).
# The cluster's HS256 secret is in .livedesk/cluster/secret.
# Email: scripts/smtp-server.py runs on the host, bound to the container
# network's gateway address on port 18025 (only the containers reach it);
# notifications sends there and the mail lands in .livedesk/cluster/mail/new.
set -euo pipefail
cd "$(dirname "$0")/.."

NET=livedesk-cluster
TAG="${LIVEDESK_IMAGE_TAG:-0.1.0}"
SERVICES=(routing blocking scheduling conversations reporting notifications)
state=.livedesk/cluster
HEALTH="${LIVEDESK_HEALTH_PROBE:-target/debug/livedesk-health}"
mkdir -p "$state"

say() { printf '[cluster] %s\n' "$*"; }
index_of() {
  case "$1" in
    routing) echo 1 ;; conversations) echo 2 ;; blocking) echo 3 ;;
    scheduling) echo 4 ;; reporting) echo 5 ;; notifications) echo 6 ;;
    *) say "unknown service $1"; exit 2 ;;
  esac
}
host_port() { echo $((18000 + $(index_of "$1") * 10 + $2)); }
metrics_port() { echo $((19000 + $(index_of "$1") * 10 + $2)); }
upper() { echo "$1" | tr '[:lower:]' '[:upper:]'; }

secret() {
  [ -s "$state/secret" ] || head -c 32 /dev/urandom | base64 | tr -d '\n=/+' >"$state/secret"
  cat "$state/secret"
}

# The environment of every container of SVC (migration job and replicas).
service_env() {
  local svc=$1 up
  up=$(upper "$svc")
  echo "LIVEDESK_${up}__DATABASE_URL=postgres://postgres@postgres:5432/livedesk_${svc}"
  echo "LIVEDESK_NATS_URL=nats://nats:4222"
  echo "LIVEDESK_AUTH_HS256_SECRET=$(secret)"
  echo "LIVEDESK_DB_MAX_CONNECTIONS=5"
  echo "LIVEDESK_PEER_DNS_REFRESH_SECONDS=2"
  echo "LIVEDESK_SHUTDOWN_GRACE_SECONDS=10"
  echo "LIVEDESK_LOG_FORMAT=json"
  if [ "$svc" = notifications ]; then
    echo "LIVEDESK_NOTIFICATIONS__SMTP_URL=smtp://$(smtp_host):$SMTP_PORT"
    echo "LIVEDESK_NOTIFICATIONS__SMTP_FROM=livedesk@livedesk.localhost"
  fi
  case "$svc" in
    conversations)
      echo "LIVEDESK_CONVERSATIONS__BLOCKING_URL=http://blocking:50051"
      echo "LIVEDESK_CONVERSATIONS__SCHEDULING_URL=http://scheduling:50051"
      # Data-subject exports ask every service for its share (PRV-1).
      echo "LIVEDESK_CONVERSATIONS__ROUTING_URL=http://routing:50051"
      echo "LIVEDESK_CONVERSATIONS__REPORTING_URL=http://reporting:50051"
      echo "LIVEDESK_CONVERSATIONS__NOTIFICATIONS_URL=http://notifications:50051" ;;
    blocking) echo "LIVEDESK_BLOCKING__CONVERSATIONS_URL=http://conversations:50051" ;;
    scheduling) echo "LIVEDESK_SCHEDULING__ROUTING_URL=http://routing:50051"; echo "LIVEDESK_SCHEDULING__BLOCKING_URL=http://blocking:50051" ;;
  esac
}

SMTP_PORT=18025
# The address of the host on the cluster network (its gateway), where the
# SMTP relay listens.
smtp_host() {
  podman network inspect "$NET" -f '{{range .Subnets}}{{.Gateway}}{{end}}'
}

start_smtp() {
  local py host
  py=$(for p in /usr/bin/python3 python3; do
         command -v "$p" >/dev/null && "$p" -c 'import aiosmtpd' 2>/dev/null && { echo "$p"; break; }
       done) || true
  [ -n "$py" ] || { say "aiosmtpd is missing: run scripts/dev-services.sh (installs python3-aiosmtpd)"; exit 1; }
  host=$(smtp_host)
  [ -n "$host" ] || { say "no gateway address on network $NET"; exit 1; }
  mkdir -p "$state/mail"
  nohup "$py" scripts/smtp-server.py --host "$host" --port "$SMTP_PORT" --dir "$state/mail" \
    >"$state/smtp-server.log" 2>&1 &
  echo $! >"$state/smtp-server.pid"
  wait_for "the SMTP relay on $host:$SMTP_PORT" bash -c "exec 3<>/dev/tcp/$host/$SMTP_PORT"
}

stop_smtp() {
  if [ -s "$state/smtp-server.pid" ]; then
    kill -TERM "$(cat "$state/smtp-server.pid")" 2>/dev/null || true
    rm -f "$state/smtp-server.pid"
  fi
}

env_args() { service_env "$1" | sed 's/^/--env\n/'; }

wait_for() { # what, command...
  local what=$1; shift
  for _ in $(seq 1 240); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  say "$what did not come up"; return 1
}

start_replica() {
  local svc=$1 n=$2 up
  up=$(upper "$svc")
  mapfile -t envs < <(env_args "$svc")
  podman run -d --name "ldc-$svc-$n" --network "$NET" --network-alias "$svc" \
    --label livedesk.cluster=1 \
    -p "127.0.0.1:$(host_port "$svc" "$n"):50051" -p "127.0.0.1:$(metrics_port "$svc" "$n"):9090" \
    "${envs[@]}" --env "LIVEDESK_${up}__MIGRATE_ON_START=false" \
    "localhost/livedesk/$svc:$TAG" serve >/dev/null
}

wait_serving() {
  local svc=$1 n=$2 port
  port=$(host_port "$svc" "$n")
  for _ in $(seq 1 240); do
    if health_ok "$port"; then return 0; fi
    if [ "$(podman inspect -f '{{.State.Running}}' "ldc-$svc-$n" 2>/dev/null)" != true ]; then
      say "ldc-$svc-$n exited:"; podman logs --tail 20 "ldc-$svc-$n" || true; return 1
    fi
    sleep 0.5
  done
  say "ldc-$svc-$n is not SERVING"; podman logs --tail 20 "ldc-$svc-$n" || true; return 1
}

health_ok() { # grpc.health.v1 Check through the published port
  "$HEALTH" "127.0.0.1:$1" >/dev/null 2>&1
}

up() {
  ./scripts/podman-setup.sh
  [ -x "$HEALTH" ] || cargo build --quiet -p livedesk-deploy-tests --bin livedesk-health
  for image in postgres:15 nats:2.9 $(printf '%s:'"$TAG"' ' "${SERVICES[@]}"); do
    podman image exists "localhost/livedesk/$image" || { say "localhost/livedesk/$image is missing: run 'make images'"; exit 1; }
  done
  down >/dev/null 2>&1 || true
  podman network create "$NET" >/dev/null
  podman run -d --name ldc-postgres --network "$NET" --network-alias postgres --label livedesk.cluster=1 \
    -p 127.0.0.1:18001:5432 localhost/livedesk/postgres:15 >/dev/null
  podman run -d --name ldc-nats --network "$NET" --network-alias nats --label livedesk.cluster=1 \
    localhost/livedesk/nats:2.9 >/dev/null
  wait_for "PostgreSQL" bash -c 'podman exec ldc-postgres pg_isready -h 127.0.0.1 -U postgres'
  wait_for "NATS" bash -c 'podman logs ldc-nats 2>&1 | grep -q "Server is ready"'
  # The bridge (and its gateway address) exists once a container is on it.
  start_smtp
  say "PostgreSQL and NATS are up; migrating (as the Helm hook Jobs do)"
  for svc in "${SERVICES[@]}"; do
    mapfile -t envs < <(env_args "$svc")
    podman run --rm --network "$NET" "${envs[@]}" "localhost/livedesk/$svc:$TAG" migrate >/dev/null \
      || { say "migrating $svc failed"; exit 1; }
  done
  for svc in "${SERVICES[@]}"; do for n in 1 2; do start_replica "$svc" "$n"; done; done
  for svc in "${SERVICES[@]}"; do for n in 1 2; do wait_serving "$svc" "$n"; done; done
  say "12 replicas SERVING"
}

replace() {
  local svc=$1 n=$2 t0
  t0=$(date +%s%N)
  # SIGTERM as the kubelet sends it; the replica drains and exits by itself.
  podman stop -t 30 "ldc-$svc-$n" >/dev/null
  podman rm -f "ldc-$svc-$n" >/dev/null
  start_replica "$svc" "$n"
  wait_serving "$svc" "$n"
  say "replaced ldc-$svc-$n in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

urls() {
  for svc in "${SERVICES[@]}"; do
    echo "LIVEDESK_CTL_$(upper "$svc")_URL=http://127.0.0.1:$(host_port "$svc" 1),http://127.0.0.1:$(host_port "$svc" 2)"
  done
}

down() {
  local ids
  stop_smtp
  ids=$(podman ps -aq --filter label=livedesk.cluster=1 || true)
  # Teardown: no drain to wait for (SIGTERM, then SIGKILL after 1 s).
  [ -n "$ids" ] && podman rm -f -t 1 $ids >/dev/null
  podman network exists "$NET" && podman network rm -f "$NET" >/dev/null
  return 0
}

case "${1:-}" in
  up) up ;;
  replace) replace "$2" "$3" ;;
  urls) urls ;;
  down) down ;;
  *) sed -n '2,22p' "$0"; exit 2 ;;
esac
