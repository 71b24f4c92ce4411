//! Typed configuration from `LIVEDESK_*` environment variables (TEN-6).
//!
//! Shared keys have no service part (`LIVEDESK_NATS_URL`); a service's own
//! keys are `LIVEDESK_<SERVICE>__<KEY>`. A key under the service's own
//! prefix that the service does not know is refused at start, so a typo never
//! silently falls back to a default; so is a shared-looking key
//! (`LIVEDESK_<NAME>`, no `__`) that is neither in [`SHARED_KEYS`] nor owned
//! by a tool or script sharing the environment ([`FOREIGN_NAMESPACES`],
//! [`SCRIPT_KEYS`]).
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};

/// The shared keys (no `__`) some service reads: [`CommonConfig`],
/// [`AuthConfig`] and the telemetry's `LIVEDESK_LOG_FORMAT`. A test proves
/// every shared key those read is here, so the list cannot drift.
pub const SHARED_KEYS: &[&str] = &[
    "LIVEDESK_NATS_URL",
    "LIVEDESK_SUBJECT_PREFIX",
    "LIVEDESK_NATS_STREAM_REPLICAS",
    "LIVEDESK_DB_MAX_CONNECTIONS",
    "LIVEDESK_SHUTDOWN_GRACE_SECONDS",
    "LIVEDESK_PEER_DNS_REFRESH_SECONDS",
    "LIVEDESK_LOG_FORMAT",
    "LIVEDESK_AUTH_ISSUER",
    "LIVEDESK_AUTH_AUDIENCE",
    "LIVEDESK_AUTH_HS256_SECRET",
    "LIVEDESK_AUTH_ALLOW_DEV_SECRET",
    "LIVEDESK_AUTH_PUBLIC_KEY_FILE",
    "LIVEDESK_AUTH_JWKS_FILE",
    "LIVEDESK_AUTH_SIGNING_KEY_FILE",
    "LIVEDESK_AUTH_SIGNING_KEY_ID",
];

/// Namespaces owned by the tools sharing the services' environment
/// (`livedeskctl`, the test harness, `livedesk-bench`, the routing
/// simulation): a service leaves their keys alone.
pub const FOREIGN_NAMESPACES: &[&str] = &[
    "LIVEDESK_CTL_",
    "LIVEDESK_TEST_",
    "LIVEDESK_BENCH_",
    "LIVEDESK_SIM_",
];

/// Keys the scripts (`scripts/`, `Makefile`, the cluster test) read from
/// the same environment a service is started in.
pub const SCRIPT_KEYS: &[&str] = &[
    "LIVEDESK_BUILD_CONTEXT",
    "LIVEDESK_CA_BUNDLE",
    "LIVEDESK_CLUSTER_KEEP",
    "LIVEDESK_DEBIAN_MIRROR",
    "LIVEDESK_HEALTH_PROBE",
    "LIVEDESK_IMAGE_TAG",
    "LIVEDESK_IMAGE_VERSION",
    "LIVEDESK_PODMAN_SOCKET",
    "LIVEDESK_SERVICES",
    "LIVEDESK_STATE_DIR",
];

/// Whether `key` is a shared-looking key (`LIVEDESK_<NAME>`, no `__`) that
/// nobody owns: not read by any service, not in a tool's namespace, not a
/// script's.
fn is_unknown_shared(key: &str) -> bool {
    key.starts_with("LIVEDESK_")
        && !key.contains("__")
        && !SHARED_KEYS.contains(&key)
        && !SCRIPT_KEYS.contains(&key)
        && !FOREIGN_NAMESPACES.iter().any(|ns| key.starts_with(ns))
}

/// Why configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{key}: cannot parse {value:?}: {reason}")]
    Invalid {
        key: String,
        value: String,
        reason: String,
    },
    #[error("unknown configuration keys: {0}")]
    Unknown(String),
    #[error("authentication: {0}")]
    Auth(String),
    #[error("{0}")]
    Other(String),
}

/// A snapshot of the environment that records which keys were read, so
/// unknown keys can be refused and the effective config printed.
#[derive(Debug)]
pub struct Env {
    vars: BTreeMap<String, String>,
    read: Mutex<BTreeMap<String, (String, bool)>>,
}

impl Env {
    /// Snapshots the process environment.
    pub fn from_process() -> Self {
        Self::from_iter(std::env::vars())
    }

    /// Builds from explicit pairs (tests).
    #[allow(clippy::should_implement_trait)]
    pub fn from_iter(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            vars: vars.into_iter().collect(),
            read: Mutex::new(BTreeMap::new()),
        }
    }

    fn record(&self, key: &str, value: &str, secret: bool) {
        if let Ok(mut read) = self.read.lock() {
            read.insert(key.to_owned(), (value.to_owned(), secret));
        }
    }

    /// Reads and parses `key`, or returns `default`.
    pub fn get<T>(&self, key: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr + ToString,
        T::Err: std::fmt::Display,
    {
        match self.vars.get(key) {
            Some(raw) => {
                let v = raw.parse::<T>().map_err(|e| ConfigError::Invalid {
                    key: key.into(),
                    value: raw.clone(),
                    reason: e.to_string(),
                })?;
                self.record(key, raw, false);
                Ok(v)
            }
            None => {
                self.record(key, &default.to_string(), false);
                Ok(default)
            }
        }
    }

    /// Reads the period of a periodic task in milliseconds
    /// (`…_MS` keys), refusing 0: a sweep that never waits would spin.
    pub fn period_ms(&self, key: &str, default_ms: u64) -> Result<Period, ConfigError> {
        let ms: u64 = self.get(key, default_ms)?;
        Period::new(std::time::Duration::from_millis(ms)).map_err(|reason| ConfigError::Invalid {
            key: key.into(),
            value: ms.to_string(),
            reason: reason.into(),
        })
    }

    /// Reads the period of a periodic task in seconds (`…_SECONDS` keys),
    /// refusing 0.
    pub fn period_secs(&self, key: &str, default_secs: u64) -> Result<Period, ConfigError> {
        let secs: u64 = self.get(key, default_secs)?;
        Period::new(std::time::Duration::from_secs(secs)).map_err(|reason| ConfigError::Invalid {
            key: key.into(),
            value: secs.to_string(),
            reason: reason.into(),
        })
    }

    /// Reads an optional string.
    pub fn opt(&self, key: &str) -> Option<String> {
        let v = self.vars.get(key).filter(|v| !v.is_empty()).cloned();
        self.record(key, v.as_deref().unwrap_or(""), false);
        v
    }

    /// Reads an optional path.
    pub fn opt_path(&self, key: &str) -> Option<PathBuf> {
        self.opt(key).map(PathBuf::from)
    }

    /// Reads a secret; its value is never printed.
    pub fn secret(&self, key: &str, default: Option<&str>) -> Option<SecretString> {
        let v = self.vars.get(key).cloned().or(default.map(str::to_owned));
        self.record(key, if v.is_some() { "<redacted>" } else { "" }, true);
        v.map(SecretString::from)
    }

    /// Refuses keys under `LIVEDESK_<SERVICE>__` that were never read, and
    /// shared-looking keys nobody owns (see [`SHARED_KEYS`]). Other
    /// services' `LIVEDESK_<OTHER>__*` keys are allowed: one ConfigMap
    /// serves every service.
    pub fn refuse_unknown(&self, service: &str) -> Result<(), ConfigError> {
        let prefix = format!("LIVEDESK_{}__", service.to_ascii_uppercase());
        let read: BTreeSet<String> = self
            .read
            .lock()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default();
        debug_assert!(
            read.iter().all(|k| !k.starts_with("LIVEDESK_")
                || k.contains("__")
                || SHARED_KEYS.contains(&k.as_str())),
            "a shared key was read that SHARED_KEYS does not list: {read:?}"
        );
        let unknown: Vec<&String> = self
            .vars
            .keys()
            .filter(|k| (k.starts_with(&prefix) && !read.contains(*k)) || is_unknown_shared(k))
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Unknown(
                unknown
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ))
        }
    }

    /// The effective configuration, `KEY=value` per line, secrets redacted.
    pub fn effective(&self) -> String {
        let read = self.read.lock().map(|r| r.clone()).unwrap_or_default();
        read.iter()
            .map(|(k, (v, _))| format!("{k}={v}\n"))
            .collect()
    }
}

/// The period of a periodic task: never zero (see
/// [`crate::tasks::every`]). Built from configuration by
/// [`Env::period_ms`] / [`Env::period_secs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period(std::time::Duration);

impl Period {
    /// A period, refusing zero.
    pub fn new(d: std::time::Duration) -> Result<Self, &'static str> {
        if d.is_zero() {
            Err("must be positive: a period of 0 would spin")
        } else {
            Ok(Self(d))
        }
    }

    /// The period's length.
    pub fn get(self) -> std::time::Duration {
        self.0
    }
}

/// Where tokens are verified from and how service tokens are signed (TEN-2).
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub issuer: String,
    pub audience: String,
    pub hs256_secret: Option<SecretString>,
    pub public_key_file: Option<PathBuf>,
    pub jwks_file: Option<PathBuf>,
    /// Private key (PEM) for service tokens; the HS256 secret when absent.
    pub signing_key_file: Option<PathBuf>,
    /// `kid` put in service tokens, naming the signing key's public half
    /// in `LIVEDESK_AUTH_JWKS_FILE`.
    pub signing_key_id: Option<String>,
    /// True when the built-in [`DEV_SECRET`] is in use
    /// (`LIVEDESK_AUTH_ALLOW_DEV_SECRET=true`); logged as a warning at start.
    pub uses_dev_secret: bool,
}

/// The development secret, published in this repository: anyone can mint
/// tokens with it. A service uses it only when
/// `LIVEDESK_AUTH_ALLOW_DEV_SECRET=true` (`make run`); otherwise a service
/// without a configured key, or configured with this very secret, refuses
/// to start.
pub const DEV_SECRET: &str = "livedesk-development-secret-change-me";

/// What a deployment must set, named in the refusal.
const NO_KEY: &str = "no token verification key is configured: set LIVEDESK_AUTH_HS256_SECRET, \
LIVEDESK_AUTH_PUBLIC_KEY_FILE or LIVEDESK_AUTH_JWKS_FILE (or LIVEDESK_AUTH_ALLOW_DEV_SECRET=true \
to use the public development secret, for local development only)";

impl AuthConfig {
    /// Reads `LIVEDESK_AUTH_*`, refusing (fail closed) a deployment without
    /// a verification key, one that would verify with the public development
    /// secret without `LIVEDESK_AUTH_ALLOW_DEV_SECRET=true`, and one that
    /// has no key to sign its service-to-service tokens with.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let public_key_file = env.opt_path("LIVEDESK_AUTH_PUBLIC_KEY_FILE");
        let jwks_file = env.opt_path("LIVEDESK_AUTH_JWKS_FILE");
        let signing_key_file = env.opt_path("LIVEDESK_AUTH_SIGNING_KEY_FILE");
        let allow_dev_secret = env.get("LIVEDESK_AUTH_ALLOW_DEV_SECRET", false)?;
        let mut hs256_secret = env
            .secret("LIVEDESK_AUTH_HS256_SECRET", None)
            .filter(|s| !s.expose_secret().is_empty());
        let mut uses_dev_secret = hs256_secret
            .as_ref()
            .is_some_and(|s| s.expose_secret() == DEV_SECRET);
        if uses_dev_secret && !allow_dev_secret {
            return Err(ConfigError::Auth(
                "LIVEDESK_AUTH_HS256_SECRET is the public development secret: configure a secret \
of your own (or LIVEDESK_AUTH_ALLOW_DEV_SECRET=true, for local development only)"
                    .into(),
            ));
        }
        if hs256_secret.is_none() && public_key_file.is_none() && jwks_file.is_none() {
            if !allow_dev_secret {
                return Err(ConfigError::Auth(NO_KEY.into()));
            }
            hs256_secret = Some(SecretString::from(DEV_SECRET));
            uses_dev_secret = true;
        }
        if hs256_secret.is_none() && signing_key_file.is_none() {
            return Err(ConfigError::Auth(
                "service-to-service tokens need a signing key: set LIVEDESK_AUTH_SIGNING_KEY_FILE \
(the private key of LIVEDESK_AUTH_PUBLIC_KEY_FILE / a key of LIVEDESK_AUTH_JWKS_FILE) or \
LIVEDESK_AUTH_HS256_SECRET"
                    .into(),
            ));
        }
        Ok(Self {
            issuer: env.get("LIVEDESK_AUTH_ISSUER", "livedesk".to_string())?,
            audience: env.get("LIVEDESK_AUTH_AUDIENCE", "livedesk-api".to_string())?,
            hs256_secret,
            public_key_file,
            jwks_file,
            signing_key_file,
            signing_key_id: env.opt("LIVEDESK_AUTH_SIGNING_KEY_ID"),
            uses_dev_secret,
        })
    }

    /// Builds the verifier for incoming requests (once, at start: the
    /// development-secret warning is logged here).
    pub fn verifier(&self) -> Result<livedesk_auth::Verifier, ConfigError> {
        if self.uses_dev_secret {
            tracing::warn!(
                "tokens are verified with the public development secret \
(LIVEDESK_AUTH_ALLOW_DEV_SECRET=true): anyone can mint tokens; never do this in production"
            );
        }
        self.build_verifier()
    }

    fn build_verifier(&self) -> Result<livedesk_auth::Verifier, ConfigError> {
        let mut sources = Vec::new();
        if let Some(s) = &self.hs256_secret {
            sources.push(livedesk_auth::KeySource::SharedSecret(
                s.expose_secret().as_bytes().to_vec(),
            ));
        }
        if let Some(p) = &self.public_key_file {
            sources.push(
                livedesk_auth::KeySource::pem_file(p)
                    .map_err(|e| ConfigError::Auth(e.to_string()))?,
            );
        }
        if let Some(p) = &self.jwks_file {
            sources.push(
                livedesk_auth::KeySource::jwks_file(p)
                    .map_err(|e| ConfigError::Auth(e.to_string()))?,
            );
        }
        livedesk_auth::Verifier::new(&self.issuer, &self.audience, &sources)
            .map_err(|e| ConfigError::Auth(e.to_string()))
    }

    /// Builds the issuer of service-to-service tokens, and proves at start
    /// that this deployment's own verification keys accept its tokens (a
    /// signing key without its public half configured would otherwise fail
    /// every peer call, long after start).
    pub fn issuer(&self) -> Result<livedesk_auth::Issuer, ConfigError> {
        let issuer = match (&self.signing_key_file, &self.hs256_secret) {
            (Some(p), _) => {
                let pem = std::fs::read(p).map_err(|e| {
                    ConfigError::Auth(format!(
                        "LIVEDESK_AUTH_SIGNING_KEY_FILE {}: {e}",
                        p.display()
                    ))
                })?;
                let issuer =
                    livedesk_auth::Issuer::from_private_pem(&self.issuer, &self.audience, &pem)
                        .map_err(|e| {
                            ConfigError::Auth(format!("LIVEDESK_AUTH_SIGNING_KEY_FILE: {e}"))
                        })?;
                match &self.signing_key_id {
                    Some(kid) => issuer.with_key_id(kid),
                    None => issuer,
                }
            }
            (None, Some(secret)) => livedesk_auth::Issuer::hs256(
                &self.issuer,
                &self.audience,
                secret.expose_secret().as_bytes(),
            ),
            (None, None) => {
                return Err(ConfigError::Auth(
                    "LIVEDESK_AUTH_SIGNING_KEY_FILE or LIVEDESK_AUTH_HS256_SECRET is required to sign service tokens".into(),
                ));
            }
        };
        let probe = issuer
            .service_token(uuid::Uuid::nil(), "startup-check")
            .map_err(|e| ConfigError::Auth(e.to_string()))?;
        self.build_verifier()?.verify(&probe).map_err(|e| {
            ConfigError::Auth(format!(
                "the configured verification keys refuse this service's own tokens ({e}): \
LIVEDESK_AUTH_SIGNING_KEY_FILE must be the private half of a configured public key \
(with LIVEDESK_AUTH_SIGNING_KEY_ID naming its kid in a JWKS)"
            ))
        })?;
        Ok(issuer)
    }
}

/// What every service reads: its listen address, database, NATS and auth.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    /// Service name: `routing`, `conversations`, ...
    pub service: &'static str,
    pub grpc_addr: SocketAddr,
    /// Where `GET /metrics` (Prometheus text) is served.
    pub metrics_addr: SocketAddr,
    pub database_url: SecretString,
    pub migrate_on_start: bool,
    /// Pool size of this instance.
    pub db_max_connections: u32,
    pub nats_url: String,
    /// Prefix of every subject, stream and consumer (EVT-4).
    pub subject_prefix: String,
    /// JetStream replicas of the streams this service creates
    /// (`LIVEDESK_NATS_STREAM_REPLICAS`, 1 to 5; 3 on a production cluster,
    /// so an acknowledged event survives the loss of a node).
    pub nats_stream_replicas: usize,
    pub auth: AuthConfig,
    /// Seconds to wait for in-flight RPCs on SIGTERM.
    pub shutdown_grace_seconds: u64,
    /// How often peer host names are resolved again to follow replicas
    /// (`LIVEDESK_PEER_DNS_REFRESH_SECONDS`, see [`crate::peer`]).
    pub peer_dns_refresh: std::time::Duration,
}

impl CommonConfig {
    /// Reads the shared keys and the service's own `GRPC_ADDR`,
    /// `DATABASE_URL` and `MIGRATE_ON_START`.
    pub fn from_env(
        env: &Env,
        service: &'static str,
        default_port: u16,
    ) -> Result<Self, ConfigError> {
        let p = format!("LIVEDESK_{}__", service.to_ascii_uppercase());
        let default_db = format!("postgres://postgres@127.0.0.1:5432/livedesk_{service}");
        let database_url = env
            .secret(&format!("{p}DATABASE_URL"), Some(&default_db))
            .unwrap_or_else(|| SecretString::from(default_db));
        Ok(Self {
            service,
            grpc_addr: env.get(
                &format!("{p}GRPC_ADDR"),
                SocketAddr::from(([127, 0, 0, 1], default_port)),
            )?,
            database_url,
            migrate_on_start: env.get(&format!("{p}MIGRATE_ON_START"), true)?,
            db_max_connections: env.get(
                "LIVEDESK_DB_MAX_CONNECTIONS",
                crate::db::DEFAULT_MAX_CONNECTIONS,
            )?,
            nats_url: nats_url(env)?,
            subject_prefix: env.get("LIVEDESK_SUBJECT_PREFIX", "livedesk".to_string())?,
            nats_stream_replicas: stream_replicas(env)?,
            auth: AuthConfig::from_env(env)?,
            shutdown_grace_seconds: env.get("LIVEDESK_SHUTDOWN_GRACE_SECONDS", 20u64)?,
            peer_dns_refresh: peer_dns_refresh(env)?,
            metrics_addr: Self::metrics_addr(env, &p, default_port)?,
        })
    }

    /// Reads `<prefix>METRICS_ADDR`; its default port follows the gRPC
    /// one (50051 → 9051, ...). A service without a known default port
    /// must set it: two services must never share a default.
    fn metrics_addr(
        env: &Env,
        prefix: &str,
        default_grpc_port: u16,
    ) -> Result<SocketAddr, ConfigError> {
        let key = format!("{prefix}METRICS_ADDR");
        match ports::metrics_for(default_grpc_port) {
            Some(port) => env.get(&key, SocketAddr::from(([127, 0, 0, 1], port))),
            None => {
                let raw = env
                    .opt(&key)
                    .ok_or_else(|| ConfigError::Other(format!("{key} is required")))?;
                raw.parse()
                    .map_err(|e: std::net::AddrParseError| ConfigError::Invalid {
                        key,
                        value: raw,
                        reason: e.to_string(),
                    })
            }
        }
    }

    /// Reads the URL of another Livedesk service
    /// (`LIVEDESK_<SERVICE>__<PEER>_URL`, default the peer's local port).
    pub fn peer_url(
        env: &Env,
        service: &str,
        peer: &str,
        default_port: u16,
    ) -> Result<String, ConfigError> {
        env.get(
            &format!(
                "LIVEDESK_{}__{}_URL",
                service.to_ascii_uppercase(),
                peer.to_ascii_uppercase()
            ),
            format!("http://127.0.0.1:{default_port}"),
        )
    }
}

/// `LIVEDESK_NATS_URL`: one server or a comma-separated list, each a NATS
/// URL, checked at start.
fn nats_url(env: &Env) -> Result<String, ConfigError> {
    let key = "LIVEDESK_NATS_URL";
    let url = env.get(key, "nats://127.0.0.1:4222".to_string())?;
    crate::nats::servers(&url).map_err(|reason| ConfigError::Invalid {
        key: key.into(),
        value: url.clone(),
        reason,
    })?;
    Ok(url)
}

/// `LIVEDESK_NATS_STREAM_REPLICAS`: what JetStream allows, 1 to 5. A
/// number the NATS cluster cannot hold is refused by NATS when the streams
/// are created, so the service does not start (fail closed).
fn stream_replicas(env: &Env) -> Result<usize, ConfigError> {
    let key = "LIVEDESK_NATS_STREAM_REPLICAS";
    let n: usize = env.get(key, 1)?;
    if !(1..=5).contains(&n) {
        return Err(ConfigError::Invalid {
            key: key.into(),
            value: n.to_string(),
            reason: "JetStream keeps 1 to 5 replicas of a stream (3 on a production cluster)"
                .into(),
        });
    }
    Ok(n)
}

/// Reads `LIVEDESK_PEER_DNS_REFRESH_SECONDS` (positive).
fn peer_dns_refresh(env: &Env) -> Result<std::time::Duration, ConfigError> {
    let key = "LIVEDESK_PEER_DNS_REFRESH_SECONDS";
    let secs: u64 = env.get(key, crate::peer::DEFAULT_DNS_REFRESH.as_secs())?;
    if secs == 0 {
        return Err(ConfigError::Invalid {
            key: key.into(),
            value: "0".into(),
            reason: "must be at least 1 second".into(),
        });
    }
    Ok(std::time::Duration::from_secs(secs))
}

/// Default local ports of the six services.
pub mod ports {
    pub const ROUTING: u16 = 50051;
    pub const CONVERSATIONS: u16 = 50052;
    pub const BLOCKING: u16 = 50053;
    pub const SCHEDULING: u16 = 50054;
    pub const REPORTING: u16 = 50055;
    pub const NOTIFICATIONS: u16 = 50056;

    /// The default metrics port of the service whose default gRPC port is
    /// `grpc` (routing 9051 ... notifications 9056).
    pub fn metrics_for(grpc: u16) -> Option<u16> {
        match grpc {
            ROUTING..=NOTIFICATIONS => Some(9051 + (grpc - ROUTING)),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_period_of_zero_is_refused_and_names_its_key() {
        let env = Env::from_iter([
            ("LIVEDESK_ROUTING__SWEEP_MS".to_string(), "0".to_string()),
            (
                "LIVEDESK_ROUTING__PASS_SECONDS".to_string(),
                "0".to_string(),
            ),
        ]);
        let e = env
            .period_ms("LIVEDESK_ROUTING__SWEEP_MS", 1000)
            .unwrap_err();
        assert!(e.to_string().contains("LIVEDESK_ROUTING__SWEEP_MS"), "{e}");
        assert!(
            env.period_secs("LIVEDESK_ROUTING__PASS_SECONDS", 5)
                .is_err()
        );
        let ok = env.period_ms("LIVEDESK_ROUTING__OTHER_MS", 250).unwrap();
        assert_eq!(ok.get(), std::time::Duration::from_millis(250));
    }

    #[test]
    fn stream_replicas_default_to_one_and_only_1_to_5_are_taken() {
        let read = |v: Option<&str>| {
            stream_replicas(&Env::from_iter(
                v.map(|v| ("LIVEDESK_NATS_STREAM_REPLICAS".to_string(), v.to_string())),
            ))
        };
        assert_eq!(read(None).unwrap(), 1);
        assert_eq!(read(Some("3")).unwrap(), 3);
        for bad in ["0", "6", "-1", "three"] {
            let e = read(Some(bad)).unwrap_err();
            assert!(
                e.to_string().contains("LIVEDESK_NATS_STREAM_REPLICAS"),
                "{e}"
            );
        }
    }

    #[test]
    fn the_nats_url_is_one_server_or_a_list_and_a_bad_entry_is_refused() {
        let read = |v: &str| {
            nats_url(&Env::from_iter([(
                "LIVEDESK_NATS_URL".to_string(),
                v.to_string(),
            )]))
        };
        assert!(read("nats://n1:4222").is_ok());
        assert!(read("nats://n1:4222,nats://n2:4222,nats://n3:4222").is_ok());
        for bad in ["nats://n1:4222,", "nats://n1:port", ""] {
            let e = read(bad).unwrap_err();
            assert!(e.to_string().contains("LIVEDESK_NATS_URL"), "{e}");
        }
    }

    // spec: TEN-6
    #[test]
    fn defaults_apply_and_unknown_service_keys_are_refused() {
        let env = Env::from_iter([
            (
                "LIVEDESK_ROUTING__GRPC_ADDR".to_string(),
                "0.0.0.0:6000".to_string(),
            ),
            ("LIVEDESK_ROUTING__TYPO".to_string(), "1".to_string()),
            ("LIVEDESK_BLOCKING__OTHER".to_string(), "1".to_string()),
            (
                "LIVEDESK_AUTH_HS256_SECRET".to_string(),
                "a-secret-of-this-deployment-only".to_string(),
            ),
        ]);
        let cfg = CommonConfig::from_env(&env, "routing", ports::ROUTING).unwrap();
        assert_eq!(cfg.grpc_addr.port(), 6000);
        assert_eq!(cfg.metrics_addr, SocketAddr::from(([127, 0, 0, 1], 9051)));
        assert_eq!(cfg.subject_prefix, "livedesk");
        let err = env.refuse_unknown("routing").unwrap_err().to_string();
        assert!(err.contains("LIVEDESK_ROUTING__TYPO"), "{err}");
        assert!(
            !err.contains("BLOCKING"),
            "other services' keys are not ours to refuse"
        );
        assert!(
            env.effective()
                .contains("LIVEDESK_AUTH_HS256_SECRET=<redacted>")
        );
    }

    // spec: TEN-6
    #[test]
    fn an_unknown_shared_key_is_refused_by_name() {
        let env = Env::from_iter([
            (
                "LIVEDESK_AUTH_HS256_SECRET".to_string(),
                "a-secret-of-this-deployment-only".to_string(),
            ),
            (
                "LIVEDESK_NAT_URL".to_string(),
                "nats://typo:4222".to_string(),
            ),
        ]);
        CommonConfig::from_env(&env, "routing", ports::ROUTING).unwrap();
        let err = env.refuse_unknown("routing").unwrap_err().to_string();
        assert!(err.contains("LIVEDESK_NAT_URL"), "{err}");
        assert!(
            !err.contains("HS256"),
            "a known shared key is not refused: {err}"
        );
    }

    #[test]
    fn shared_keys_of_tools_scripts_and_other_services_are_allowed() {
        let env = Env::from_iter(
            [
                "LIVEDESK_CTL_TOKEN",
                "LIVEDESK_TEST_DATABASE_URL",
                "LIVEDESK_BENCH_RATE",
                "LIVEDESK_SIM_SCALE",
                "LIVEDESK_IMAGE_TAG",
                "LIVEDESK_STATE_DIR",
                "LIVEDESK_SERVICES",
                "LIVEDESK_LOG_FORMAT",
                "LIVEDESK_NATS_URL",
                "LIVEDESK_BLOCKING__ANYTHING",
                "LIVEDESK_AUTH_HS256_SECRET",
            ]
            .map(|k| (k.to_string(), "x".to_string())),
        );
        CommonConfig::from_env(&env, "routing", ports::ROUTING).unwrap();
        env.refuse_unknown("routing").unwrap();
    }

    #[test]
    fn every_shared_key_the_common_config_reads_is_listed() {
        // Set every key so each branch reads; then nothing read without
        // `__` may be missing from SHARED_KEYS.
        let env = Env::from_iter([
            (
                "LIVEDESK_AUTH_HS256_SECRET".to_string(),
                "a-secret-of-this-deployment-only".to_string(),
            ),
            ("LIVEDESK_AUTH_SIGNING_KEY_ID".to_string(), "k".to_string()),
        ]);
        CommonConfig::from_env(&env, "routing", ports::ROUTING).unwrap();
        let read = env.read.lock().unwrap().clone();
        let shared: Vec<&String> = read.keys().filter(|k| !k.contains("__")).collect();
        assert!(shared.len() >= 13, "{shared:?}");
        for k in shared {
            assert!(
                SHARED_KEYS.contains(&k.as_str()),
                "{k} is read but not in SHARED_KEYS"
            );
        }
        // The telemetry reads the log format from the process environment.
        assert!(include_str!("telemetry.rs").contains("\"LIVEDESK_LOG_FORMAT\""));
        assert!(SHARED_KEYS.contains(&"LIVEDESK_LOG_FORMAT"));
    }

    // spec: TEN-6
    #[test]
    fn an_unparsable_value_names_its_key() {
        let env = Env::from_iter([(
            "LIVEDESK_ROUTING__MIGRATE_ON_START".to_string(),
            "perhaps".to_string(),
        )]);
        let err = CommonConfig::from_env(&env, "routing", 1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("LIVEDESK_ROUTING__MIGRATE_ON_START"), "{err}");
    }
}
