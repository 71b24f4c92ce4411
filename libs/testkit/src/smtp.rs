//! A private SMTP server process for tests (`scripts/smtp-server.py`, a
//! real aiosmtpd server): its own loopback port and mail directory, stopped
//! and started again on the same port to play a relay outage, and read
//! back from the files it stores (one `.eml` per accepted message, named
//! after its Message-ID). Recipients choose faults: `tempfail-N-…` gets
//! 451 for its first N attempts, `reject-…` gets 550.
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::{Child, Command};

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct Mail {
    pub path: PathBuf,
    /// The message as received, after the two envelope headers the server
    /// prepends (`X-Envelope-From`, `X-Envelope-To`).
    pub raw: String,
}

impl Mail {
    /// The first top-level header `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self
            .raw
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .replace("\r\n ", " ")
            .replace("\r\n\t", " ");
        head.split("\r\n").find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }

    /// The `Message-ID` header.
    pub fn message_id(&self) -> Option<String> {
        self.header("Message-ID")
    }

    /// The SMTP envelope recipients.
    pub fn envelope_to(&self) -> Vec<String> {
        self.header("X-Envelope-To")
            .map(|v| v.split(',').map(|a| a.trim().to_owned()).collect())
            .unwrap_or_default()
    }

    /// The decoded body of the first MIME part of type `mime` (e.g.
    /// `text/html`), 7bit/8bit or quoted-printable; `None` when absent.
    pub fn part(&self, mime: &str) -> Option<String> {
        let needle = format!("Content-Type: {mime}");
        let start = self.raw.find(&needle)?;
        let part = &self.raw[start..];
        let (head, rest) = part.split_once("\r\n\r\n")?;
        let end = rest.find("\r\n--").unwrap_or(rest.len());
        let body = &rest[..end];
        if head.contains("quoted-printable") {
            Some(decode_quoted_printable(body))
        } else {
            Some(body.to_owned())
        }
    }

    /// Everything after the top-level headers (MIME parts included).
    pub fn body(&self) -> &str {
        self.raw
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or_default()
    }
}

/// Quoted-printable (RFC 2045) to text: soft line breaks removed, `=XX`
/// decoded as bytes of UTF-8.
fn decode_quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A running (or stopped) private SMTP server.
#[derive(Debug)]
pub struct SmtpServer {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl SmtpServer {
    /// Starts the server on a reserved port with a fresh mail directory
    /// and waits until it accepts connections.
    pub async fn start() -> anyhow::Result<Self> {
        let port = crate::reserve_port()?;
        let dir =
            std::env::temp_dir().join(format!("livedesk-smtp-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir)?;
        let mut me = Self {
            port,
            dir,
            child: None,
        };
        me.resume().await?;
        Ok(me)
    }

    /// `smtp://127.0.0.1:<port>`, for `LIVEDESK_NOTIFICATIONS__SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The mail directory (messages in `new/`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn script() -> PathBuf {
        match std::env::var("LIVEDESK_TEST_SMTP_SERVER") {
            Ok(p) => PathBuf::from(p),
            Err(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp-server.py"),
        }
    }

    /// The interpreter: `LIVEDESK_TEST_PYTHON`, else Debian's (where
    /// `python3-aiosmtpd` installs), else `python3` on `PATH`.
    fn python() -> String {
        if let Ok(p) = std::env::var("LIVEDESK_TEST_PYTHON") {
            return p;
        }
        if Path::new("/usr/bin/python3").exists() {
            return "/usr/bin/python3".into();
        }
        "python3".into()
    }

    /// Starts the server again on the same port and directory (after `stop`).
    pub async fn resume(&mut self) -> anyhow::Result<()> {
        let log = std::fs::File::create(self.dir.join("server.log"))?;
        let child = Command::new(Self::python())
            .arg(Self::script())
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string(), "--dir"])
            .arg(self.dir.join("maildir"))
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot run scripts/smtp-server.py ({e}); run scripts/dev-services.sh (installs python3-aiosmtpd)"))?;
        self.child = Some(child);
        let addr = format!("127.0.0.1:{}", self.port);
        let up = crate::eventually(15, "private SMTP server to accept connections", || {
            let addr = addr.clone();
            async move { tokio::net::TcpStream::connect(addr).await.ok().map(|_| ()) }
        })
        .await;
        if let Err(e) = up {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            self.stop().await?;
            anyhow::bail!("{e}; server log:\n{log}");
        }
        Ok(())
    }

    /// Stops the server (SIGKILL: an outage; stored messages stay).
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut c) = self.child.take() {
            c.kill().await?;
            c.wait().await?;
        }
        Ok(())
    }

    /// Every message stored so far, oldest first.
    pub fn messages(&self) -> anyhow::Result<Vec<Mail>> {
        let new = self.dir.join("maildir").join("new");
        let mut paths: Vec<PathBuf> = match std::fs::read_dir(&new) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
            Err(e) => return Err(e.into()),
        };
        paths.sort();
        paths
            .into_iter()
            .map(|path| {
                let raw = String::from_utf8_lossy(&std::fs::read(&path)?).into_owned();
                Ok(Mail { path, raw })
            })
            .collect()
    }

    /// The stored messages whose `Message-ID` is `id` (with or without `<>`).
    pub fn with_message_id(&self, id: &str) -> anyhow::Result<Vec<Mail>> {
        let want = id.trim().trim_start_matches('<').trim_end_matches('>');
        Ok(self
            .messages()?
            .into_iter()
            .filter(|m| {
                m.message_id()
                    .is_some_and(|h| h.trim_start_matches('<').trim_end_matches('>') == want)
            })
            .collect())
    }

    /// Waits up to `secs` for a stored message matching `predicate`.
    pub async fn wait_for_message<P>(&self, secs: u64, predicate: P) -> anyhow::Result<Mail>
    where
        P: Fn(&Mail) -> bool,
    {
        crate::eventually(secs, "an SMTP message", || {
            let found = self
                .messages()
                .ok()
                .and_then(|all| all.into_iter().find(|m| predicate(m)));
            async move { found }
        })
        .await
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
