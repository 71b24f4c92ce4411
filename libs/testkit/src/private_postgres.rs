//! A private PostgreSQL server for tests that stop the database: they must
//! never stop the shared server other tests use.
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::{Child, Command};

/// A PostgreSQL server (`initdb` + `postgres`, trust authentication) on a
/// reserved loopback port, with its data directory in a temporary
/// directory (kept across [`stop`](Self::stop) / [`resume`](Self::resume)
/// so databases survive).
#[derive(Debug)]
pub struct PrivatePostgres {
    pub port: u16,
    bin: PathBuf,
    dir: PathBuf,
    /// The unprivileged account the server runs as when the tests run as
    /// root (PostgreSQL refuses to run as root).
    user: Option<(u32, u32)>,
    child: Option<Child>,
}

impl PrivatePostgres {
    /// Creates a cluster and starts it, or returns `Ok(None)` (after saying
    /// why on stderr) when no PostgreSQL server binaries are installed: the
    /// caller skips. Binaries are looked for in `LIVEDESK_TEST_POSTGRES_BIN`,
    /// `pg_config --bindir`, and `/usr/lib/postgresql/<version>/bin`
    /// (newest first).
    pub async fn start() -> anyhow::Result<Option<Self>> {
        let Some(bin) = find_binaries() else {
            eprintln!(
                "skipping: no PostgreSQL server binaries (initdb, postgres) found in \
LIVEDESK_TEST_POSTGRES_BIN, `pg_config --bindir` or /usr/lib/postgresql/*/bin; install \
the Debian package postgresql"
            );
            return Ok(None);
        };
        let port = crate::reserve_port()?;
        let dir = std::env::temp_dir().join(format!(
            "livedesk-postgres-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir)?;
        let user = unprivileged_user()?;
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))?;
        }
        let mut me = Self {
            port,
            bin,
            dir,
            user,
            child: None,
        };
        let out = me
            .command("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(me.data())
            .output()
            .await?;
        anyhow::ensure!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        me.resume().await?;
        Ok(Some(me))
    }

    /// `postgres://postgres@127.0.0.1:<port>`: a server URL without a
    /// database, as [`crate::TestEnv::database_server`].
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.user {
            c.uid(uid).gid(gid);
        }
        c.stdin(Stdio::null()).kill_on_drop(true);
        c
    }

    /// Starts the server (again) on the same port and data directory and
    /// waits until it accepts connections.
    pub async fn resume(&mut self) -> anyhow::Result<()> {
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(self.data())
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(&self.dir)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=100",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        let port = self.port.to_string();
        let bin = self.bin.clone();
        crate::eventually(30, "private PostgreSQL to accept connections", || {
            let (bin, port) = (bin.clone(), port.clone());
            async move {
                let ready = Command::new(bin.join("pg_isready"))
                    .args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .await
                    .ok()?;
                ready.success().then_some(())
            }
        })
        .await
    }

    /// Stopped fast for `hold`, then started again.
    pub async fn stop_for(&mut self, hold: std::time::Duration) -> anyhow::Result<()> {
        self.stop().await?;
        tokio::time::sleep(hold).await;
        self.resume().await
    }

    /// Crashed (immediate shutdown) for `hold`, then started again (WAL
    /// recovery).
    pub async fn crash_for(&mut self, hold: std::time::Duration) -> anyhow::Result<()> {
        self.crash().await?;
        tokio::time::sleep(hold).await;
        self.resume().await
    }

    /// Stops the server (fast shutdown: every session is cut, as in an
    /// outage) and waits until it has exited.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        self.stop_with("fast").await
    }

    /// Crashes the server (immediate shutdown: no checkpoint, the next
    /// start recovers from the WAL, as after a kill) and waits until it
    /// has exited.
    pub async fn crash(&mut self) -> anyhow::Result<()> {
        self.stop_with("immediate").await
    }

    async fn stop_with(&mut self, mode: &str) -> anyhow::Result<()> {
        let out = self
            .command("pg_ctl")
            .args(["stop", "-m", mode, "-w", "-D"])
            .arg(self.data())
            .output()
            .await?;
        anyhow::ensure!(
            out.status.success(),
            "pg_ctl stop failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if let Some(mut c) = self.child.take() {
            c.wait().await?;
        }
        Ok(())
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if self.child.is_some() {
            // Immediate shutdown takes the server's children with it;
            // killing the postmaster alone would orphan them.
            let mut c = std::process::Command::new(self.bin.join("pg_ctl"));
            if let Some((uid, gid)) = self.user {
                std::os::unix::process::CommandExt::uid(&mut c, uid);
                std::os::unix::process::CommandExt::gid(&mut c, gid);
            }
            let _ = c
                .args(["stop", "-m", "immediate", "-D"])
                .arg(self.data())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if let Some(c) = self.child.as_mut() {
                let _ = c.start_kill();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The directory holding `initdb` and `postgres`.
fn find_binaries() -> Option<PathBuf> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
    if let Ok(d) = std::env::var("LIVEDESK_TEST_POSTGRES_BIN") {
        return Some(PathBuf::from(d)).filter(|d| has(d));
    }
    if let Ok(out) = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
    {
        let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has(&d) {
            return Some(d);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| has(d))
        .collect();
    versions.sort();
    versions.pop().map(|(_, d)| d)
}

/// `(uid, gid)` of the `postgres` account when running as root, `None`
/// otherwise (the server runs as the current user).
fn unprivileged_user() -> anyhow::Result<Option<(u32, u32)>> {
    use std::os::unix::fs::MetadataExt as _;
    // The owner of our own /proc entry is our effective user.
    if std::fs::metadata("/proc/self")?.uid() != 0 {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    parse_passwd_entry(&passwd, "postgres")
        .map(Some)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "running as root and there is no `postgres` account to run PostgreSQL as"
            )
        })
}

fn parse_passwd_entry(passwd: &str, name: &str) -> Option<(u32, u32)> {
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then_some(())?;
        let _password = f.next()?;
        Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_postgres_account_is_read_from_passwd() {
        let passwd =
            "root:x:0:0:root:/root:/bin/bash\npostgres:x:101:104::/var/lib/postgresql:/bin/sh\n";
        assert_eq!(
            super::parse_passwd_entry(passwd, "postgres"),
            Some((101, 104))
        );
        assert_eq!(super::parse_passwd_entry(passwd, "nobody"), None);
    }
}
