#!/usr/bin/env bash
# `make test-containers`: the end-to-end tests with PostgreSQL and NATS
# started by testcontainers through Podman's Docker-compatible socket, from
# the project's own images (`make images` builds them; nothing is pulled).
# The shared servers' URLs are removed from the environment so testkit takes
# the container path, and the run fails if no container was started.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/podman-setup.sh
export DOCKER_HOST="${DOCKER_HOST:-unix:///run/podman/podman.sock}"
for image in "${LIVEDESK_TEST_POSTGRES_IMAGE:-localhost/livedesk/postgres:15}" \
             "${LIVEDESK_TEST_NATS_IMAGE:-localhost/livedesk/nats:2.9}"; do
  podman image exists "$image" || { echo "[test-containers] $image is missing: run 'make images'"; exit 1; }
done

label=livedesk.test=testkit
cleanup() {
  # Each test process keeps its containers until it exits (process-wide
  # values are never dropped): remove them all, whatever the outcome.
  local ids
  ids=$(podman ps -aq --filter "label=$label" || true)
  [ -n "$ids" ] && podman rm -f $ids >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

before=$(date +%s)
# The whole workspace's build with a filter, not `-p`: one package alone
# unifies features differently and would rebuild every dependency.
runner=(cargo test -p livedesk-e2e --no-fail-fast)
if cargo nextest --version >/dev/null 2>&1; then
  runner=(cargo nextest run --workspace -E 'package(livedesk-e2e)' --no-fail-fast)
fi
env -u LIVEDESK_TEST_DATABASE_URL -u LIVEDESK_TEST_NATS_URL "${runner[@]}" "$@"

started=$(podman ps -aq --filter "label=$label" | wc -l)
echo "[test-containers] $started test containers were started by testcontainers in $(( $(date +%s) - before )) s"
if [ "$started" -eq 0 ]; then
  echo "[test-containers] no container was started: the tests did not take the testcontainers path"
  exit 1
fi
