//! Helpers shared by the deployment checks: where the repository is, and
//! running the project's own scripts (image builds, chart rendering,
//! the Podman cluster) from tests.
use std::path::PathBuf;

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

// --- Podman (container images, OPS-3) ---------------------------------------

pub mod podman;
