# syntax=docker/dockerfile:1
#
# Container images of the six Livedesk services (OPS-3), one target per service:
#
#   docker build --target routing -t livedesk/routing:0.1.0 .
#
# (`make images` builds all six with Podman, plus PostgreSQL and NATS images for
# tests and trials.) The six targets share one build stage, so the workspace is
# compiled once and each image only adds its binary to a small runtime base.
#
# The builder and base images are build arguments: with a registry the public
# rust and debian-slim images are used; a machine that cannot pull gets the
# project's own (scripts/images.sh passes localhost/livedesk/rust-builder and
# localhost/livedesk/debian, made with debootstrap and the local toolchain).
ARG BUILDER_IMAGE=docker.io/library/rust:1.95-bookworm
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

# ---------------------------------------------------------------------------
# planner: reduces the workspace to its manifests, lock file and empty target
# stubs. This stage reruns on any source change, but its output only changes
# when a manifest or Cargo.lock does, which is what keys the dependency layer.
FROM ${BUILDER_IMAGE} AS planner
WORKDIR /src
COPY . .
RUN sh docker/cargo-recipe.sh /recipe

# ---------------------------------------------------------------------------
# build: dependencies first (cached while manifests and Cargo.lock stay the
# same), then the project's libraries, then the services. Only the six
# service binaries are built; tools and test crates stay stubs (they are
# workspace members, so their manifests must be there for `--locked` to hold).
FROM ${BUILDER_IMAGE} AS build
WORKDIR /src
ENV CARGO_TERM_COLOR=never \
    CARGO_INCREMENTAL=0
COPY --from=planner /recipe/ ./
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    cargo build --release --locked \
        -p livedesk-routing -p livedesk-conversations -p livedesk-blocking \
        -p livedesk-scheduling -p livedesk-reporting -p livedesk-notifications

# The libraries next, in their own layer (the services are still stubs, so
# the features resolved are exactly those of the final build): a change in
# one service then recompiles only the services.
COPY proto/ proto/
COPY libs/ libs/
# COPY keeps the sources' modification times, which may be older than the
# stubs' build: touching them makes cargo rebuild the project's crates.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    find proto libs -type f -exec touch {} + \
    && cargo build --release --locked \
        -p livedesk-routing -p livedesk-conversations -p livedesk-blocking \
        -p livedesk-scheduling -p livedesk-reporting -p livedesk-notifications

COPY services/ services/
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    find services -type f -exec touch {} + \
    && cargo build --release --locked \
        -p livedesk-routing -p livedesk-conversations -p livedesk-blocking \
        -p livedesk-scheduling -p livedesk-reporting -p livedesk-notifications \
    && mkdir -p /out \
    && for s in routing conversations blocking scheduling reporting notifications; do \
        cp "target/release/livedesk-$s" /out/; \
    done

# ---------------------------------------------------------------------------
# runtime: what every service image shares. CA certificates only (for TLS to
# PostgreSQL, NATS, SMTP or object storage), a numeric non-root user created in
# /etc/passwd (Kubernetes' runAsNonRoot can only verify a numeric USER), and
# /var/lib/livedesk as the one writable directory.
FROM ${BASE_IMAGE} AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 livedesk \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/livedesk \
        --shell /usr/sbin/nologin livedesk \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/livedesk /var/lib/livedesk/attachments
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=
LABEL org.opencontainers.image.vendor="Livedesk" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /var/lib/livedesk
USER 10001:10001
# gRPC (with grpc.health.v1) and Prometheus metrics
EXPOSE 50051 9090

# ---------------------------------------------------------------------------
# One target per service. Each sets its own listen addresses (only keys under
# a service's own LIVEDESK_<SERVICE>__ prefix are read, and unknown ones there
# are refused, so nothing of another service may appear) and an exec-form
# ENTRYPOINT, which cannot expand a build argument. CMD follows ENTRYPOINT
# in each: setting ENTRYPOINT clears a CMD inherited from the stage before.

FROM runtime AS routing
LABEL org.opencontainers.image.title="livedesk-routing" \
      org.opencontainers.image.description="Livedesk routing: agents, queues, offers, assignment"
COPY --from=build /out/livedesk-routing /usr/local/bin/livedesk-routing
ENV LIVEDESK_ROUTING__GRPC_ADDR=0.0.0.0:50051 \
    LIVEDESK_ROUTING__METRICS_ADDR=0.0.0.0:9090
ENTRYPOINT ["/usr/local/bin/livedesk-routing"]
CMD ["serve"]

FROM runtime AS conversations
LABEL org.opencontainers.image.title="livedesk-conversations" \
      org.opencontainers.image.description="Livedesk conversations: messages, attachments, transcripts"
COPY --from=build /out/livedesk-conversations /usr/local/bin/livedesk-conversations
ENV LIVEDESK_CONVERSATIONS__GRPC_ADDR=0.0.0.0:50051 \
    LIVEDESK_CONVERSATIONS__METRICS_ADDR=0.0.0.0:9090 \
    LIVEDESK_CONVERSATIONS__ATTACHMENTS_DIR=/var/lib/livedesk/attachments
ENTRYPOINT ["/usr/local/bin/livedesk-conversations"]
CMD ["serve"]

FROM runtime AS blocking
LABEL org.opencontainers.image.title="livedesk-blocking" \
      org.opencontainers.image.description="Livedesk blocking: blocked visitors and block checks"
COPY --from=build /out/livedesk-blocking /usr/local/bin/livedesk-blocking
ENV LIVEDESK_BLOCKING__GRPC_ADDR=0.0.0.0:50051 \
    LIVEDESK_BLOCKING__METRICS_ADDR=0.0.0.0:9090
ENTRYPOINT ["/usr/local/bin/livedesk-blocking"]
CMD ["serve"]

FROM runtime AS scheduling
LABEL org.opencontainers.image.title="livedesk-scheduling" \
      org.opencontainers.image.description="Livedesk scheduling: business hours, holidays, time zones"
COPY --from=build /out/livedesk-scheduling /usr/local/bin/livedesk-scheduling
ENV LIVEDESK_SCHEDULING__GRPC_ADDR=0.0.0.0:50051 \
    LIVEDESK_SCHEDULING__METRICS_ADDR=0.0.0.0:9090
ENTRYPOINT ["/usr/local/bin/livedesk-scheduling"]
CMD ["serve"]

FROM runtime AS reporting
LABEL org.opencontainers.image.title="livedesk-reporting" \
      org.opencontainers.image.description="Livedesk reporting: statistics and CSV exports"
COPY --from=build /out/livedesk-reporting /usr/local/bin/livedesk-reporting
ENV LIVEDESK_REPORTING__GRPC_ADDR=0.0.0.0:50051 \
    LIVEDESK_REPORTING__METRICS_ADDR=0.0.0.0:9090
ENTRYPOINT ["/usr/local/bin/livedesk-reporting"]
CMD ["serve"]

FROM runtime AS notifications
LABEL org.opencontainers.image.title="livedesk-notifications" \
      org.opencontainers.image.description="Livedesk notifications: realtime streams and email"
COPY --from=build /out/livedesk-notifications /usr/local/bin/livedesk-notifications
ENV LIVEDESK_NOTIFICATIONS__GRPC_ADDR=0.0.0.0:50051 \
    LIVEDESK_NOTIFICATIONS__METRICS_ADDR=0.0.0.0:9090
ENTRYPOINT ["/usr/local/bin/livedesk-notifications"]
CMD ["serve"]

# ---------------------------------------------------------------------------
# The default target (no --target) would otherwise silently be the last
# service: fail with the usage instead.
FROM runtime AS choose-a-service
USER root
RUN echo "choose the image with --target routing|conversations|blocking|scheduling|reporting|notifications" >&2 \
    && exit 1
