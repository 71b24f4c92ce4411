#!/usr/bin/env bash
# Builds every container image of Livedesk with Podman, on a machine that can
# pull nothing (see ../shared/CONTAINERS.md):
#
#   localhost/livedesk/debian:bookworm      base, from debootstrap (cached tarball)
#   localhost/livedesk/rust-builder:1.95    base + gcc + this machine's Rust toolchain
#   localhost/livedesk/<service>:0.1.0      the six services (root Dockerfile)
#   localhost/livedesk/postgres:15          PostgreSQL 15 for tests and trials
#   localhost/livedesk/nats:2.9             NATS with JetStream for tests and trials
#
# then prints the image sizes. Idempotent: the base is made once, the builder
# only when the toolchain version changes, and the rest reuse Podman's layer
# cache, so a run with nothing changed takes seconds.
#
# Usage: scripts/images.sh [all|base|builder|services|infra|sizes]
# Environment:
#   LIVEDESK_DEBIAN_MIRROR   Debian mirror for debootstrap (default deb.debian.org)
#   LIVEDESK_IMAGE_VERSION   service image tag (default: the workspace version)
#   LIVEDESK_SERVICES        space-separated subset of services to build
#   LIVEDESK_BUILD_CONTEXT   directory to build the services from (default: this
#                            checkout, with its uncommitted changes)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CACHE_DIR="$ROOT/.livedesk/images"
MIRROR="${LIVEDESK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE_IMAGE=localhost/livedesk/debian:bookworm
BUILDER_IMAGE=localhost/livedesk/rust-builder:1.95
POSTGRES_IMAGE=localhost/livedesk/postgres:15
NATS_IMAGE=localhost/livedesk/nats:2.9
VERSION="${LIVEDESK_IMAGE_VERSION:-$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml)}"
SERVICES="${LIVEDESK_SERVICES:-routing conversations blocking scheduling reporting notifications}"
CONTEXT="${LIVEDESK_BUILD_CONTEXT:-$ROOT}"

log() { printf 'images: %s\n' "$*" >&2; }
die() { printf 'images: error: %s\n' "$*" >&2; exit 1; }

image_exists() { podman image exists "$1"; }

# base: a minimal Debian bookworm root file system made by debootstrap and
# slimmed the way debian:bookworm-slim is (no docs, man pages, locales, apt
# caches), imported as an image. The tarball is kept so that re-creating the
# image (after `podman system reset`) takes seconds.
build_base() {
    if image_exists "$BASE_IMAGE"; then
        log "$BASE_IMAGE exists"
        return
    fi
    mkdir -p "$CACHE_DIR"
    local tarball="$CACHE_DIR/debian-bookworm-minbase.tar"
    if [[ ! -s "$tarball" ]]; then
        local rootfs="$CACHE_DIR/rootfs.tmp"
        rm -rf "$rootfs"
        log "debootstrap --variant=minbase bookworm from $MIRROR (about a minute)"
        debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$CACHE_DIR/debootstrap.log" 2>&1 \
            || die "debootstrap failed (see $CACHE_DIR/debootstrap.log)"
        cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
        # the same dpkg and apt settings as the official slim images
        cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
        cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
        printf 'Acquire::GzipIndexes "true";\n' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
        printf 'APT::AutoRemove::SuggestsImportant "false";\nAPT::Install-Recommends "false";\n' \
            >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends"
        find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
        rm -rf "$rootfs"/usr/share/{man,info,locale,groff,lintian}/* \
            "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
            "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log "$rootfs"/tmp/*
        tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
        mv "$tarball.tmp" "$tarball"
        rm -rf "$rootfs"
    fi
    log "importing $BASE_IMAGE"
    podman import --quiet --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
        "$tarball" "$BASE_IMAGE" >/dev/null
}

# builder: the base plus a C toolchain and this machine's Rust toolchain (no
# toolchain can be downloaded here) and the machine's CA bundle for cargo's
# downloads. Only what a release build needs is
# copied: rustc, cargo and their libraries, not the 800 MB of docs.
build_builder() {
    command -v rustc >/dev/null || die "rustc not found: the builder image copies this machine's toolchain"
    local sysroot version ca_bundle ca_sum
    sysroot="$(rustc --print sysroot)"
    version="$(rustc --version)"
    ca_bundle="${LIVEDESK_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
    [[ -s "$ca_bundle" ]] || die "no CA bundle at $ca_bundle (set LIVEDESK_CA_BUNDLE)"
    ca_sum="$(sha256sum "$ca_bundle" | cut -c1-16)"
    if image_exists "$BUILDER_IMAGE" &&
        [[ "$(podman image inspect --format '{{index .Labels "dev.livedesk.rustc"}}/{{index .Labels "dev.livedesk.ca"}}' "$BUILDER_IMAGE")" == "$version/$ca_sum" ]]; then
        log "$BUILDER_IMAGE exists ($version)"
        return
    fi
    [[ -x "$sysroot/bin/rustc" && -x "$sysroot/bin/cargo" ]] \
        || die "$sysroot has no bin/rustc and bin/cargo"
    local ctx="$CACHE_DIR/builder-context"
    rm -rf "$ctx"
    mkdir -p "$ctx/toolchain/bin" "$ctx/toolchain/lib"
    log "copying the Rust toolchain from $sysroot ($version)"
    # hard links when the toolchain is on the same file system, else copies
    cp -al "$sysroot/bin/rustc" "$sysroot/bin/cargo" "$sysroot/bin/rustdoc" "$ctx/toolchain/bin/" 2>/dev/null ||
        cp -a "$sysroot/bin/rustc" "$sysroot/bin/cargo" "$sysroot/bin/rustdoc" "$ctx/toolchain/bin/"
    cp -al "$sysroot/lib/." "$ctx/toolchain/lib/" 2>/dev/null || cp -a "$sysroot/lib/." "$ctx/toolchain/lib/"
    # cargo inside trusts what this machine trusts (a TLS-intercepting proxy
    # in front of crates.io has its CA in the machine's bundle)
    cp "$ca_bundle" "$ctx/build-host-ca.crt"
    cp "$ROOT/docker/builder/Dockerfile" "$ctx/Dockerfile"
    podman build --layers --file "$ctx/Dockerfile" \
        --build-arg BASE_IMAGE="$BASE_IMAGE" \
        --label "dev.livedesk.rustc=$version" --label "dev.livedesk.ca=$ca_sum" \
        --tag "$BUILDER_IMAGE" "$ctx"
    rm -rf "$ctx"
}

build_services() {
    local revision source
    revision="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
    source="$(git -C "$ROOT" remote get-url origin 2>/dev/null || echo "")"
    local labels=(--label "org.opencontainers.image.version=$VERSION"
        --label "org.opencontainers.image.revision=$revision")
    [[ -n "$source" ]] && labels+=(--label "org.opencontainers.image.source=$source")
    local svc
    for svc in $SERVICES; do
        log "building localhost/livedesk/$svc:$VERSION"
        podman build --layers --file "$CONTEXT/Dockerfile" --target "$svc" \
            --build-arg BUILDER_IMAGE="$BUILDER_IMAGE" \
            --build-arg BASE_IMAGE="$BASE_IMAGE" \
            --build-arg VERSION="$VERSION" \
            --build-arg REVISION="$revision" \
            --build-arg SOURCE="$source" "${labels[@]}" \
            --tag "localhost/livedesk/$svc:$VERSION" "$CONTEXT"
        relabel "localhost/livedesk/$svc:$VERSION" "$revision"
    done
}

# Podman's layer cache does not see a changed build argument or --label: when
# every step was cached, the image keeps the revision of the build that made
# it. A one-line build on top, with the revision written literally, fixes the
# label (itself cached per revision).
relabel() {
    local image="$1" revision="$2" current
    current="$(podman image inspect --format '{{index .Config.Labels "org.opencontainers.image.revision"}}' "$image")"
    [[ "$current" == "$revision" ]] && return 0
    local ctx="$CACHE_DIR/relabel"
    mkdir -p "$ctx"
    printf 'FROM %s\nLABEL org.opencontainers.image.revision="%s"\n' "$image" "$revision" >"$ctx/Containerfile"
    podman build --quiet --layers --file "$ctx/Containerfile" --tag "$image" "$ctx" >/dev/null
}

build_infra() {
    log "building $POSTGRES_IMAGE"
    podman build --layers --build-arg BASE_IMAGE="$BASE_IMAGE" \
        --tag "$POSTGRES_IMAGE" "$ROOT/docker/postgres"
    log "building $NATS_IMAGE"
    podman build --layers --build-arg BASE_IMAGE="$BASE_IMAGE" \
        --tag "$NATS_IMAGE" "$ROOT/docker/nats"
}

print_sizes() {
    printf '\n%-42s %10s  %s\n' IMAGE SIZE CREATED
    podman images --filter 'reference=localhost/livedesk/*' \
        --format '{{.Repository}}:{{.Tag}} {{.Size}} {{.CreatedSince}}' |
        awk '{ img = $1; size = $2 " " $3; $1 = $2 = $3 = ""; sub(/^ +/, ""); printf "%-42s %10s  %s\n", img, size, $0 }'
}

step="${1:-all}"
case "$step" in
all | base | builder | services | infra) "$ROOT/scripts/podman-setup.sh" ;;
esac
case "$step" in
all)
    build_base
    build_builder
    build_infra
    build_services
    print_sizes
    ;;
base) build_base ;;
builder) build_base && build_builder ;;
services) build_base && build_builder && build_services ;;
infra) build_base && build_infra ;;
sizes) print_sizes ;;
*) die "unknown step '$step' (expected all, base, builder, services, infra or sizes)" ;;
esac
