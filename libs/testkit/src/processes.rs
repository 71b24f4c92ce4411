//! The six services as processes (their own binaries), several replicas
//! each, peers balanced over every replica: what a fault run SIGKILLs and
//! what the benchmark measures the memory of. In-process services
//! ([`crate::spawn`]) share one address space and cannot be killed apart.
use std::path::{Path, PathBuf};

/// Every service, in the order replicas are started.
pub const SERVICES: [&str; 6] = [
    "routing",
    "blocking",
    "scheduling",
    "conversations",
    "reporting",
    "notifications",
];

/// Each service's peers: `(the peer's key in the caller's config, the peer)`.
const PEERS: [(&str, &str, &str); 8] = [
    ("conversations", "BLOCKING", "blocking"),
    ("conversations", "SCHEDULING", "scheduling"),
    ("conversations", "ROUTING", "routing"),
    ("conversations", "REPORTING", "reporting"),
    ("conversations", "NOTIFICATIONS", "notifications"),
    ("blocking", "CONVERSATIONS", "conversations"),
    ("scheduling", "ROUTING", "routing"),
    ("scheduling", "BLOCKING", "blocking"),
];

/// What a process suite runs on.
pub struct Layout {
    /// Where `livedesk-<service>` binaries are ([`bin_dir_beside`]).
    pub bin_dir: PathBuf,
    /// Replicas of `service` (at least 1).
    pub replicas: Box<dyn Fn(&str) -> usize + Send>,
    /// The database URL `service` connects to.
    pub database_url: Box<dyn Fn(&str) -> String + Send>,
    /// `LIVEDESK_NATS_URL` of `service` (one server or a list).
    pub nats_url: Box<dyn Fn(&str) -> String + Send>,
    /// Every other variable, the same for every replica
    /// (`LIVEDESK_SUBJECT_PREFIX`, the auth secret, …).
    pub common: Vec<(String, String)>,
    /// Where each replica's log goes (`<service>-<n>.log`).
    pub logs: PathBuf,
}

/// One replica of one service.
#[derive(Debug)]
pub struct Replica {
    pub service: &'static str,
    /// 1, 2, …
    pub n: usize,
    pub port: u16,
    pub log: PathBuf,
    env: Vec<(String, String)>,
    child: Option<tokio::process::Child>,
}

impl Replica {
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The running process' id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(tokio::process::Child::id)
    }

    fn spawn(&mut self, bin_dir: &Path) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let child =
            tokio::process::Command::new(bin_dir.join(format!("livedesk-{}", self.service)))
                .arg("serve")
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .envs(self.env.iter().cloned())
                .stdout(log.try_clone()?)
                .stderr(log)
                .kill_on_drop(true)
                .spawn()?;
        self.child = Some(child);
        Ok(())
    }

    /// SIGKILL: no drain, no flush; whatever was in flight is cut.
    pub async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.start_kill();
            let _ = c.wait().await;
        }
    }

    /// Waits (up to `secs`) until it answers SERVING; the error names its
    /// log.
    pub async fn wait_serving(&self, secs: u64) -> anyhow::Result<()> {
        let url = self.url();
        crate::eventually(
            secs,
            &format!(
                "{}-{} serving (log {})",
                self.service,
                self.n,
                self.log.display()
            ),
            || {
                let url = url.clone();
                async move { serving(&url).await.then_some(()) }
            },
        )
        .await
    }
}

/// Whether the server at `url` answers SERVING.
pub async fn serving(url: &str) -> bool {
    let Ok(endpoint) = tonic::transport::Endpoint::from_shared(url.to_owned()) else {
        return false;
    };
    let Ok(channel) = endpoint.connect().await else {
        return false;
    };
    crate::health::health_status(channel, "").await == Some(crate::health::ServingStatus::Serving)
}

/// The services' binaries beside the running executable: a test binary's
/// `target/<profile>/deps/…` or a tool's `target/<profile>/…`. The error
/// says to build them.
pub fn bin_dir_beside() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let mut dir = exe
        .parent()
        .ok_or_else(|| anyhow::anyhow!("no directory for {}", exe.display()))?
        .to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    for s in SERVICES {
        anyhow::ensure!(
            dir.join(format!("livedesk-{s}")).exists(),
            "livedesk-{s} is not built in {}: run `cargo build --bins` (with `--release` for a release tool) first",
            dir.display()
        );
    }
    Ok(dir)
}

/// The suite: every replica of every service.
#[derive(Debug)]
pub struct ProcessSuite {
    pub replicas: Vec<Replica>,
    bin_dir: PathBuf,
}

impl ProcessSuite {
    /// Starts every replica: the first of each service first (it migrates
    /// its database), and once those serve, the others.
    pub async fn start(plan: Layout) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&plan.logs)?;
        let mut replicas = Vec::new();
        for service in SERVICES {
            for n in 1..=(plan.replicas)(service).max(1) {
                replicas.push(Replica {
                    service,
                    n,
                    port: crate::reserve_port()?,
                    log: plan.logs.join(format!("{service}-{n}.log")),
                    env: Vec::new(),
                    child: None,
                });
            }
        }
        let urls = |service: &str| {
            replicas
                .iter()
                .filter(|r| r.service == service)
                .map(Replica::url)
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut envs = Vec::with_capacity(replicas.len());
        for r in &replicas {
            let upper = r.service.to_ascii_uppercase();
            let mut env = vec![
                (
                    format!("LIVEDESK_{upper}__GRPC_ADDR"),
                    format!("127.0.0.1:{}", r.port),
                ),
                (
                    format!("LIVEDESK_{upper}__METRICS_ADDR"),
                    "127.0.0.1:0".into(),
                ),
                (
                    format!("LIVEDESK_{upper}__DATABASE_URL"),
                    (plan.database_url)(r.service),
                ),
                ("LIVEDESK_NATS_URL".into(), (plan.nats_url)(r.service)),
            ];
            env.extend(
                PEERS
                    .iter()
                    .filter(|(caller, _, _)| *caller == r.service)
                    .map(|(_, key, peer)| (format!("LIVEDESK_{upper}__{key}_URL"), urls(peer))),
            );
            env.extend(plan.common.iter().cloned());
            envs.push(env);
        }
        for (r, env) in replicas.iter_mut().zip(envs) {
            r.env = env;
        }
        let mut suite = Self {
            replicas,
            bin_dir: plan.bin_dir,
        };
        let most = suite.replicas.iter().map(|r| r.n).max().unwrap_or(1);
        for n in 1..=most {
            for r in suite.replicas.iter_mut().filter(|r| r.n == n) {
                r.spawn(&suite.bin_dir)?;
            }
            for r in suite.replicas.iter().filter(|r| r.n == n) {
                r.wait_serving(120).await?;
            }
        }
        Ok(suite)
    }

    /// The comma-separated URLs of `service`'s replicas (clients balance
    /// over them).
    pub fn urls(&self, service: &str) -> String {
        self.replicas
            .iter()
            .filter(|r| r.service == service)
            .map(Replica::url)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The index of replica `n` of `service`.
    pub fn index(&self, service: &str, n: usize) -> Option<usize> {
        self.replicas
            .iter()
            .position(|r| r.service == service && r.n == n)
    }

    /// Starts replica `i` again (after [`Replica::kill`]), not waiting.
    pub fn respawn(&mut self, i: usize) -> anyhow::Result<()> {
        let bin = self.bin_dir.clone();
        self.replicas
            .get_mut(i)
            .ok_or_else(|| anyhow::anyhow!("no replica {i}"))?
            .spawn(&bin)
    }

    /// Waits until every replica serves.
    pub async fn wait_serving(&self, secs: u64) -> anyhow::Result<()> {
        for r in &self.replicas {
            r.wait_serving(secs).await?;
        }
        Ok(())
    }

    /// SIGKILLs every replica.
    pub async fn kill_all(&mut self) {
        for r in &mut self.replicas {
            r.kill().await;
        }
    }
}
