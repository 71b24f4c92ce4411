#!/usr/bin/env bash
# Prepares Podman on a Debian machine without a Docker engine (see
# ../shared/CONTAINERS.md): installs podman, runc and debootstrap when missing,
# configures the runtime and ulimits that work on this kind of machine, and
# starts Podman's Docker-compatible API socket for Docker clients
# (testcontainers, bollard) at unix:///run/podman/podman.sock.
#
# Idempotent: every step checks first and does nothing when already done.
# Used by `make images` and the other container targets, and by CI.
set -euo pipefail

SOCKET_PATH="${LIVEDESK_PODMAN_SOCKET:-/run/podman/podman.sock}"
CONF=/etc/containers/containers.conf

log() { printf 'podman-setup: %s\n' "$*" >&2; }
die() { printf 'podman-setup: error: %s\n' "$*" >&2; exit 1; }

if [[ "$(id -u)" -ne 0 ]]; then
    die "must run as root (Podman runs containers as root on this kind of machine; \
rootless Podman needs subuid ranges and user namespaces that are not available here). \
Run: sudo $0"
fi

# 1. packages -----------------------------------------------------------------
missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || [[ -x /usr/sbin/runc ]] || missing+=(runc)
command -v debootstrap >/dev/null 2>&1 || [[ -x /usr/sbin/debootstrap ]] || missing+=(debootstrap)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# Container names resolve on a Podman network (the image test and the cluster
# reach postgres, nats and peers by name) only with the CNI dnsname plugin,
# which Debian's podman does not pull in.
[[ -x /usr/lib/cni/dnsname ]] || missing+=(golang-github-containernetworking-plugin-dnsname)
if ((${#missing[@]})); then
    command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install them"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
        apt-get update -qq
        apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
            || die "apt-get install ${missing[*]} failed"
    fi
fi

# 2. containers.conf ----------------------------------------------------------
# Sets KEY = VALUE under [SECTION] of $CONF, keeping every other line: replaces
# an existing (even commented-out) assignment in that section, otherwise adds
# the line right after the section header, or appends the section.
ensure_setting() {
    local section="$1" key="$2" value="$3"
    mkdir -p "$(dirname "$CONF")"
    touch "$CONF"
    if awk -v k="$key" -v v="$value" '
        BEGIN { in_s = 0; found = 0 }
        /^[[:space:]]*\[/ { in_s = ($0 ~ "^[[:space:]]*\\[" section_re "\\][[:space:]]*$") }
        in_s && $0 ~ "^[[:space:]]*" k "[[:space:]]*=" {
            line = $0; sub(/^[[:space:]]*[^=]*=[[:space:]]*/, "", line)
            if (line == v) found = 1
        }
        END { exit found ? 0 : 1 }
    ' section_re="$section" "$CONF"; then
        return 0
    fi
    log "setting $key = $value under [$section] in $CONF"
    local tmp
    tmp="$(mktemp)"
    awk -v k="$key" -v v="$value" -v section_re="$section" '
        BEGIN { in_s = 0; done = 0; seen = 0 }
        /^[[:space:]]*\[/ {
            if (in_s && !done) { print k " = " v; done = 1 }
            in_s = ($0 ~ "^[[:space:]]*\\[" section_re "\\][[:space:]]*$")
            if (in_s) seen = 1
            print
            next
        }
        in_s && !done && $0 ~ "^[[:space:]]*#?[[:space:]]*" k "[[:space:]]*=" {
            print k " = " v; done = 1; next
        }
        { print }
        END {
            if (in_s && !done) { print k " = " v; done = 1 }
            if (!seen) { print ""; print "[" section_re "]"; print k " = " v }
        }
    ' "$CONF" >"$tmp"
    cat "$tmp" >"$CONF"
    rm -f "$tmp"
}
# crun 1.8 (Debian's default) fails with "cgroups in hybrid mode not supported".
ensure_setting engine runtime '"runc"'
# Podman's default ulimits need CAP_SYS_RESOURCE, which this machine lacks.
ensure_setting containers default_ulimits '[]'

# 3. Docker-compatible API socket ---------------------------------------------
socket_answers() {
    curl -fsS --max-time 2 --unix-socket "$SOCKET_PATH" http://d/version >/dev/null 2>&1
}
if ! socket_answers; then
    log "starting podman system service at unix://$SOCKET_PATH"
    mkdir -p "$(dirname "$SOCKET_PATH")"
    rm -f "$SOCKET_PATH"
    state_dir="${LIVEDESK_STATE_DIR:-/tmp}"
    mkdir -p "$state_dir"
    # From `/`: the service outlives this script, and its containers'
    # conmon fails ("write child: broken pipe") once the directory it was
    # started in is gone (a CI clone removed, say).
    (cd / && exec nohup podman system service --time=0 "unix://$SOCKET_PATH" \
        >"$state_dir/podman-service.log" 2>&1 </dev/null) &
    disown || true
    for _ in $(seq 1 100); do
        socket_answers && break
        sleep 0.2
    done
    socket_answers || die "podman API socket did not answer (see $state_dir/podman-service.log)"
fi
log "ready (podman $(podman version --format '{{.Client.Version}}'), DOCKER_HOST=unix://$SOCKET_PATH)"
