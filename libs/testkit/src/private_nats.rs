//! A private `nats-server` process for tests that stop the broker: they
//! must never stop the shared server other tests use.
use std::path::PathBuf;
use std::process::Stdio;

use tokio::process::{Child, Command};

/// A JetStream-enabled NATS server on a free loopback port, with its own
/// store directory (kept across `stop`/`start` so streams survive).
#[derive(Debug)]
pub struct PrivateNats {
    pub port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl PrivateNats {
    /// Starts `nats-server` (from `LIVEDESK_TEST_NATS_SERVER`, `PATH`, or
    /// `/usr/sbin/nats-server`) and waits until it accepts connections.
    pub async fn start() -> anyhow::Result<Self> {
        let port = crate::reserve_port()?;
        let store =
            std::env::temp_dir().join(format!("livedesk-nats-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&store)?;
        let mut me = Self {
            port,
            store,
            child: None,
        };
        me.resume().await?;
        Ok(me)
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub(crate) fn binary() -> String {
        if let Ok(b) = std::env::var("LIVEDESK_TEST_NATS_SERVER") {
            return b;
        }
        for dir in std::env::var("PATH")
            .unwrap_or_default()
            .split(':')
            .chain(["/usr/sbin", "/usr/local/bin"])
        {
            let p = std::path::Path::new(dir).join("nats-server");
            if p.exists() {
                return p.to_string_lossy().into_owned();
            }
        }
        "nats-server".into()
    }

    /// Starts the server again on the same port and store.
    pub async fn resume(&mut self) -> anyhow::Result<()> {
        let child = Command::new(Self::binary())
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-js", "-sd"])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot run nats-server ({e}); install it (Debian package nats-server) or set LIVEDESK_TEST_NATS_SERVER"))?;
        self.child = Some(child);
        let addr = format!("127.0.0.1:{}", self.port);
        crate::eventually(10, "private nats-server to accept connections", || {
            let addr = addr.clone();
            async move { tokio::net::TcpStream::connect(addr).await.ok().map(|_| ()) }
        })
        .await
    }

    /// Stops the server (SIGKILL: an outage, not a goodbye).
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut c) = self.child.take() {
            c.kill().await?;
            c.wait().await?;
        }
        Ok(())
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.store);
    }
}
