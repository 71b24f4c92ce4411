//! A private three-node (or n-node) NATS cluster with JetStream, for tests
//! of what replicated streams survive: a node killed (SIGKILL) while
//! events are published must lose none that JetStream acknowledged.
use std::path::PathBuf;
use std::process::Stdio;

use tokio::process::{Child, Command};

/// One node: its client and cluster ports, store and process.
#[derive(Debug)]
struct Node {
    name: String,
    port: u16,
    cluster_port: u16,
    store: PathBuf,
    child: Option<Child>,
}

/// `n` `nats-server` processes routed to each other, each with JetStream
/// on its own store (kept across `kill`/`restart`).
#[derive(Debug)]
pub struct PrivateNatsCluster {
    nodes: Vec<Node>,
}

impl PrivateNatsCluster {
    /// Starts `n` nodes and waits until every one accepts connections and
    /// the cluster has a JetStream meta leader.
    pub async fn start(n: usize) -> anyhow::Result<Self> {
        let id = uuid::Uuid::now_v7().simple().to_string();
        let mut nodes = Vec::with_capacity(n);
        for i in 0..n {
            let store = std::env::temp_dir().join(format!("livedesk-natsc-{id}-{i}"));
            std::fs::create_dir_all(&store)?;
            nodes.push(Node {
                name: format!("n{i}"),
                port: crate::reserve_port()?,
                cluster_port: crate::reserve_port()?,
                store,
                child: None,
            });
        }
        let mut me = Self { nodes };
        for i in 0..n {
            me.spawn(i)?;
        }
        for i in 0..n {
            me.wait_accepting(i).await?;
        }
        me.wait_meta_leader().await?;
        Ok(me)
    }

    /// A proxy in front of every node, in node order, so a test can cut a
    /// client off the cluster ([`crate::TcpProxy::cut`]) while the nodes
    /// stay up.
    pub async fn proxies(&self) -> anyhow::Result<Vec<crate::TcpProxy>> {
        let mut out = Vec::with_capacity(self.nodes.len());
        for n in &self.nodes {
            out.push(crate::TcpProxy::start(([127, 0, 0, 1], n.port).into()).await?);
        }
        Ok(out)
    }

    /// Every node's URL: `async_nats::connect(cluster.urls())` fails over
    /// between them.
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("nats://127.0.0.1:{}", n.port))
            .collect()
    }

    /// The index of the node called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    fn spawn(&mut self, i: usize) -> anyhow::Result<()> {
        let routes = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, n)| format!("nats-route://127.0.0.1:{}", n.cluster_port))
            .collect::<Vec<_>>()
            .join(",");
        let node = &self.nodes[i];
        let child = Command::new(crate::PrivateNats::binary())
            .args(["-a", "127.0.0.1", "-p", &node.port.to_string()])
            .args(["-n", &node.name, "-js", "--no_advertise", "-sd"])
            .arg(&node.store)
            .args(["--cluster_name", "livedesk-test"])
            .args(["--cluster", &format!("nats://127.0.0.1:{}", node.cluster_port)])
            .args(["--routes", &routes])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot run nats-server ({e}); install it (Debian package nats-server) or set LIVEDESK_TEST_NATS_SERVER"))?;
        self.nodes[i].child = Some(child);
        Ok(())
    }

    async fn wait_accepting(&self, i: usize) -> anyhow::Result<()> {
        let addr = format!("127.0.0.1:{}", self.nodes[i].port);
        crate::eventually(20, "a cluster node to accept connections", || {
            let addr = addr.clone();
            async move { tokio::net::TcpStream::connect(addr).await.ok().map(|_| ()) }
        })
        .await
    }

    /// Waits until JetStream answers through the cluster (a meta leader
    /// is elected).
    async fn wait_meta_leader(&self) -> anyhow::Result<()> {
        let url = self.urls();
        crate::eventually(30, "the cluster's JetStream meta leader", || {
            let url = url.clone();
            async move {
                // The account info request answers (without an error) only
                // once JetStream is up across the cluster. Read as text:
                // the client's typed decoder does not know every field a
                // clustered 2.9 server sends.
                let client = async_nats::connect(url).await.ok()?;
                let reply = client.request("$JS.API.INFO", "".into()).await.ok()?;
                let text = String::from_utf8_lossy(&reply.payload).into_owned();
                (text.contains("account_info_response") && !text.contains("\"error\""))
                    .then_some(())
            }
        })
        .await
    }

    /// Node `i` down (SIGKILL) for `hold`, then up again: a fault run's
    /// node crash.
    pub async fn kill_for(&mut self, i: usize, hold: std::time::Duration) -> anyhow::Result<()> {
        self.kill(i).await?;
        tokio::time::sleep(hold).await;
        self.restart(i).await
    }

    /// Every node down (SIGKILL) for `hold`, then up again.
    pub async fn kill_all_for(&mut self, hold: std::time::Duration) -> anyhow::Result<()> {
        for i in 0..self.nodes.len() {
            self.kill(i).await?;
        }
        tokio::time::sleep(hold).await;
        for i in 0..self.nodes.len() {
            self.restart(i).await?;
        }
        Ok(())
    }

    /// Kills node `i` (SIGKILL: a crash, no goodbye).
    pub async fn kill(&mut self, i: usize) -> anyhow::Result<()> {
        if let Some(mut c) = self.nodes[i].child.take() {
            c.kill().await?;
            c.wait().await?;
        }
        Ok(())
    }

    /// Starts node `i` again on its ports and store and waits until it
    /// accepts connections (it then catches up with the others by itself).
    pub async fn restart(&mut self, i: usize) -> anyhow::Result<()> {
        self.spawn(i)?;
        self.wait_accepting(i).await
    }
}

impl Drop for PrivateNatsCluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            if let Some(c) = n.child.as_mut() {
                let _ = c.start_kill();
            }
            let _ = std::fs::remove_dir_all(&n.store);
        }
    }
}
