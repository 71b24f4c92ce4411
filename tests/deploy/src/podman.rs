//! Podman from tests: running the CLI, names unique to a test run, and a
//! guard that removes every container and network a test made, also when
//! the test fails (its `Drop` runs while a panic unwinds).
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};

/// Runs `podman ARGS` and returns its trimmed standard output; a non-zero
/// exit is an error carrying podman's standard error.
pub async fn podman(args: &[&str]) -> anyhow::Result<String> {
    let out = tokio::process::Command::new("podman")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .context("podman could not be started (run `make images`, which installs it)")?;
    if !out.status.success() {
        bail!(
            "podman {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Fails with the way to build them when any of `images` is not in the local
/// image store: a test needing images never passes by skipping.
pub async fn require_images(images: &[&str]) -> anyhow::Result<()> {
    let mut missing = Vec::new();
    for image in images {
        if podman(&["image", "exists", image]).await.is_err() {
            missing.push(*image);
        }
    }
    if !missing.is_empty() {
        bail!(
            "images missing: {}; run `make images` first",
            missing.join(", ")
        );
    }
    Ok(())
}

/// A short name unique to this test run (process id and clock), so parallel
/// runs on one machine never share a container or network.
pub fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}-{:x}", std::process::id(), nanos % 0xffff_ffff)
}

/// Containers and networks made by one test, removed (`podman rm -f`,
/// `podman network rm -f`) when the guard is dropped.
#[derive(Debug, Default)]
pub struct Cleanup {
    containers: Vec<String>,
    networks: Vec<String>,
}

impl Cleanup {
    /// Creates an empty guard.
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates a network owned by this guard.
    pub async fn network(&mut self, name: &str) -> anyhow::Result<()> {
        self.networks.push(name.to_string());
        podman(&["network", "create", name]).await.map(|_| ())
    }

    /// Runs `podman run -d --name NAME ARGS` and owns the container (also
    /// when the start fails half-way).
    pub async fn run(&mut self, name: &str, args: &[&str]) -> anyhow::Result<()> {
        self.containers.push(name.to_string());
        let mut all = vec!["run", "-d", "--name", name];
        all.extend_from_slice(args);
        podman(&all).await.map(|_| ())
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if !self.containers.is_empty() {
            let _ = std::process::Command::new("podman")
                .args(["rm", "-f", "-t", "0"])
                .args(&self.containers)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        for network in &self.networks {
            let _ = std::process::Command::new("podman")
                .args(["network", "rm", "-f", network])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// The host address (`127.0.0.1:PORT`) Podman published for `port/tcp` of
/// a container started with `-p 127.0.0.1::PORT` (Podman picks a free port,
/// so parallel tests never race for one).
pub async fn published(container: &str, port: u16) -> anyhow::Result<String> {
    let out = podman(&["port", container, &format!("{port}/tcp")]).await?;
    out.lines()
        .next()
        .map(|l| l.trim().replace("0.0.0.0", "127.0.0.1"))
        .filter(|l| !l.is_empty())
        .with_context(|| format!("{container} publishes no {port}/tcp"))
}

/// The last lines of a container's log (standard output and error), for
/// failure messages.
pub async fn log_tail(container: &str, lines: usize) -> String {
    let out = tokio::process::Command::new("podman")
        .args(["logs", "--tail", &lines.to_string(), container])
        .stdin(Stdio::null())
        .output()
        .await;
    match out {
        Ok(out) => format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => format!("(no log: {e})"),
    }
}

/// Polls `check` every 200 ms until it returns `Ok(true)` or `within` has
/// passed; the last error (or "still false") is the failure.
pub async fn wait_until<F, Fut>(what: &str, within: Duration, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    let deadline = Instant::now() + within;
    loop {
        let last = match check().await {
            Ok(true) => return Ok(()),
            Ok(false) => "still false".to_string(),
            Err(e) => format!("{e:#}"),
        };
        if Instant::now() >= deadline {
            bail!("{what}: not within {within:?} ({last})");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
