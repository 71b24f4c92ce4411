//! Helpers shared by the deployment checks: where the repository is, and
//! running the project's own scripts (image builds, chart rendering,
//! the Podman cluster) from tests.
use std::path::PathBuf;
use std::time::Duration;

use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// The six services, each an image, a chart section and two cluster replicas.
pub const SERVICES: [&str; 6] = [
    "routing",
    "conversations",
    "blocking",
    "scheduling",
    "reporting",
    "notifications",
];

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// Asks `grpc.health.v1/Check` of the server at `addr` (`host:port`) for
/// `service` (`""`: readiness; `liveness`); an error while it does not
/// answer yet.
pub async fn health(addr: &str, service: &str) -> anyhow::Result<ServingStatus> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(3))
        .connect()
        .await?;
    let reply = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await?
        .into_inner();
    Ok(reply.status())
}

// --- Podman (container images, OPS-3) ---------------------------------------

pub mod podman;
