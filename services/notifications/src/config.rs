//! Configuration (`LIVEDESK_NOTIFICATIONS__*`).
use std::time::Duration;

use livedesk_platform::app::ServiceConfig;
use livedesk_platform::config::ports;
use livedesk_platform::{CommonConfig, ConfigError, EmailAddress, Env, Period};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::RetryPolicy;

const P: &str = "LIVEDESK_NOTIFICATIONS__";

/// The local development relay (`scripts/smtp-server.py`, started by
/// `scripts/dev-services.sh` on this port), used when no relay is configured.
pub const DEV_SMTP_URL: &str = "smtp://127.0.0.1:2525";
/// The sender used with the development relay only.
pub const DEV_SMTP_FROM: &str = "livedesk@livedesk.localhost";

/// Typed configuration of the notifications service.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// Feed rows older than this many days are deleted by the retention sweep.
    pub feed_retention_days: u32,
    /// How often the retention sweep runs (`RETENTION_SWEEP_SECS`).
    pub retention_sweep: Period,
    /// How often an open `Subscribe` stream re-reads its feed without a
    /// wake-up (the safety net behind lost wake-ups).
    pub stream_reread: Period,
    /// How long an idle `Subscribe` stream waits before a heartbeat.
    pub stream_heartbeat: Period,
    /// Email delivery over SMTP (NTF-2).
    pub smtp: SmtpConfig,
}

/// Where and how email is sent.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// `smtp://host:port` (plain), `smtp://host:port?tls=required`
    /// (STARTTLS) or `smtps://host:port` (implicit TLS). A secret: it may
    /// carry credentials.
    pub url: SecretString,
    /// The relay is the development default (nothing was configured).
    pub is_dev_default: bool,
    /// SMTP AUTH user and password, both or neither.
    pub credentials: Option<(SecretString, SecretString)>,
    /// The `From:` address.
    pub from: EmailAddress,
    /// The right-hand side of every `Message-ID` (default: the from domain).
    pub message_id_domain: String,
    /// Bound on one SMTP conversation (connect, TLS, commands).
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// How often every replica looks for due deliveries (the safety net
    /// behind the immediate wake-up after a new delivery is committed).
    pub worker_period: Period,
}

impl SmtpConfig {
    /// How long a claimed delivery stays with its worker: past it (the
    /// worker crashed), another worker takes it again. Longer than any
    /// SMTP conversation can last.
    pub fn lease(&self) -> Duration {
        self.timeout * 3 + Duration::from_secs(30)
    }
}

fn invalid(key: &str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        key: format!("{P}{key}"),
        value: value.into(),
        reason: reason.into(),
    }
}

/// A duration that is not a period (a timeout, a backoff) in
/// milliseconds, refusing 0: periods of periodic tasks are read with
/// `Env::period_ms`.
fn positive_ms(env: &Env, key: &str, default: u64) -> Result<Duration, ConfigError> {
    let ms: u64 = env.get(&format!("{P}{key}"), default)?;
    if ms == 0 {
        return Err(invalid(key, "0", "must be at least 1 millisecond"));
    }
    Ok(Duration::from_millis(ms))
}

/// Whether the URL's scheme encrypts the connection before credentials
/// are sent (implicit TLS or required STARTTLS).
fn encrypts(url: &str) -> bool {
    url.starts_with("smtps://") || url.contains("tls=required")
}

/// Whether the URL's host is this machine (the credentials never leave it).
fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host_port = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let host = host_port.split(['/', '?']).next().unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

impl SmtpConfig {
    /// Reads `LIVEDESK_NOTIFICATIONS__SMTP_*` and the worker period.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let key = format!("{P}SMTP_URL");
        let configured = env.secret(&key, None);
        let is_dev_default = configured.is_none();
        let url = configured.unwrap_or_else(|| SecretString::from(DEV_SMTP_URL));
        let raw = url.expose_secret().trim().to_owned();
        if raw.is_empty() {
            return Err(invalid(
                "SMTP_URL",
                "",
                "is empty: email cannot be switched off; point it at a relay",
            ));
        }
        // Parsed here so a bad URL stops the start, not the first send.
        if let Err(e) = crate::events::Mailer::transport_builder(&raw) {
            return Err(invalid("SMTP_URL", "<redacted>", &e.to_string()));
        }
        let user = env.secret(&format!("{P}SMTP_USERNAME"), None);
        let password = env.secret(&format!("{P}SMTP_PASSWORD"), None);
        let credentials = match (user, password) {
            (None, None) => None,
            (Some(u), Some(p)) => Some((u, p)),
            _ => {
                return Err(ConfigError::Other(format!(
                    "{P}SMTP_USERNAME and {P}SMTP_PASSWORD go together: set both or neither"
                )));
            }
        };
        if credentials.is_some() && !encrypts(&raw) && !is_loopback(&raw) {
            return Err(invalid(
                "SMTP_URL",
                "<redacted>",
                "SMTP credentials would cross the network in clear: use smtps:// or ?tls=required",
            ));
        }
        let from_key = format!("{P}SMTP_FROM");
        let from_raw = match env.opt(&from_key) {
            Some(f) => f,
            None if is_dev_default => DEV_SMTP_FROM.to_owned(),
            None => {
                return Err(ConfigError::Other(format!(
                    "{from_key} is required when {P}SMTP_URL is set: the address email is sent from"
                )));
            }
        };
        let from = EmailAddress::parse(&from_raw)
            .map_err(|why| invalid("SMTP_FROM", &from_raw, &why.to_string()))?;
        let message_id_domain = match env.opt(&format!("{P}SMTP_MESSAGE_ID_DOMAIN")) {
            Some(d) => {
                let ok = !d.is_empty()
                    && d.len() <= 253
                    && d.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
                if !ok {
                    return Err(invalid(
                        "SMTP_MESSAGE_ID_DOMAIN",
                        &d,
                        "must be a domain name (letters, digits, '-' and '.')",
                    ));
                }
                d
            }
            None => from.domain().to_owned(),
        };
        let timeout = positive_ms(env, "SMTP_TIMEOUT_MS", 30_000)?;
        let max_attempts: u32 = env.get(&format!("{P}SMTP_MAX_ATTEMPTS"), 8u32)?;
        if max_attempts == 0 {
            return Err(invalid("SMTP_MAX_ATTEMPTS", "0", "must be at least 1"));
        }
        let base = positive_ms(env, "SMTP_BACKOFF_BASE_MS", 30_000)?;
        let max = positive_ms(env, "SMTP_BACKOFF_MAX_MS", 3_600_000)?;
        if max < base {
            return Err(invalid(
                "SMTP_BACKOFF_MAX_MS",
                &max.as_millis().to_string(),
                "must not be below SMTP_BACKOFF_BASE_MS",
            ));
        }
        let worker_period = env.period_ms(&format!("{P}EMAIL_WORKER_PERIOD_MS"), 5_000)?;
        Ok(Self {
            url,
            is_dev_default,
            credentials,
            from,
            message_id_domain,
            timeout,
            retry: RetryPolicy {
                max_attempts,
                base,
                max,
            },
            worker_period,
        })
    }
}

impl ServiceConfig for Config {
    /// Reads `LIVEDESK_*` variables.
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let feed_retention_days = env.get(&format!("{P}FEED_RETENTION_DAYS"), 7u32)?;
        if feed_retention_days == 0 {
            return Err(invalid(
                "FEED_RETENTION_DAYS",
                "0",
                "must be at least 1 day",
            ));
        }
        Ok(Self {
            common: CommonConfig::from_env(env, "notifications", ports::NOTIFICATIONS)?,
            feed_retention_days,
            retention_sweep: env.period_secs(&format!("{P}RETENTION_SWEEP_SECS"), 300)?,
            stream_reread: env.period_ms(&format!("{P}STREAM_REREAD_MS"), 5_000)?,
            stream_heartbeat: env.period_ms(&format!("{P}STREAM_HEARTBEAT_MS"), 15_000)?,
            smtp: SmtpConfig::from_env(env)?,
        })
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_iter(
            pairs
                .iter()
                .map(|(k, v)| (format!("{P}{k}"), (*v).to_owned())),
        )
    }

    // spec: NTF-2
    #[test]
    fn a_configured_relay_needs_a_sender_and_sane_settings() {
        let dev = SmtpConfig::from_env(&env(&[])).unwrap();
        assert!(dev.is_dev_default);
        assert_eq!(dev.url.expose_secret(), DEV_SMTP_URL);
        assert_eq!(dev.message_id_domain, "livedesk.localhost");
        let err = SmtpConfig::from_env(&env(&[("SMTP_URL", "smtp://relay.example:25")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("SMTP_FROM is required"), "{err}");
        let ok = SmtpConfig::from_env(&env(&[
            ("SMTP_URL", "smtps://relay.example"),
            ("SMTP_FROM", "support@shop.example"),
            ("SMTP_USERNAME", "u"),
            ("SMTP_PASSWORD", "p"),
        ]))
        .unwrap();
        assert_eq!(ok.message_id_domain, "shop.example");
        assert!(!format!("{ok:?}").contains("\"p\""));
        for bad in [
            vec![("SMTP_URL", "")],
            vec![("SMTP_URL", "http://relay.example")],
            vec![
                ("SMTP_URL", "smtp://relay.example"),
                ("SMTP_FROM", "not an address"),
            ],
            vec![("SMTP_MAX_ATTEMPTS", "0")],
            vec![("EMAIL_WORKER_PERIOD_MS", "0")],
            vec![("SMTP_TIMEOUT_MS", "0")],
            vec![
                ("SMTP_BACKOFF_BASE_MS", "5000"),
                ("SMTP_BACKOFF_MAX_MS", "10"),
            ],
            vec![("SMTP_USERNAME", "only-the-user")],
            vec![("SMTP_MESSAGE_ID_DOMAIN", "a b")],
            // Credentials in clear over the network.
            vec![
                ("SMTP_URL", "smtp://relay.example:25"),
                ("SMTP_FROM", "support@shop.example"),
                ("SMTP_USERNAME", "u"),
                ("SMTP_PASSWORD", "p"),
            ],
        ] {
            assert!(
                SmtpConfig::from_env(&env(&bad)).is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn periods_come_from_config_and_zero_is_refused() {
        let smtp = SmtpConfig::from_env(&env(&[("EMAIL_WORKER_PERIOD_MS", "250")])).unwrap();
        assert_eq!(smtp.worker_period.get(), Duration::from_millis(250));
        let err = SmtpConfig::from_env(&env(&[("EMAIL_WORKER_PERIOD_MS", "0")])).unwrap_err();
        assert!(err.to_string().contains("EMAIL_WORKER_PERIOD_MS"), "{err}");
        // The whole configuration: the retention sweep's and the streams' periods.
        fn full(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
            let mut all = vec![("LIVEDESK_AUTH_ALLOW_DEV_SECRET", "true")];
            all.extend_from_slice(pairs);
            Config::from_env(&Env::from_iter(
                all.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            ))
        }
        let cfg = full(&[]).unwrap();
        assert_eq!(cfg.retention_sweep.get(), Duration::from_secs(300));
        let cfg = full(&[("LIVEDESK_NOTIFICATIONS__RETENTION_SWEEP_SECS", "60")]).unwrap();
        assert_eq!(cfg.retention_sweep.get(), Duration::from_secs(60));
        assert_eq!(cfg.stream_reread.get(), Duration::from_secs(5));
        assert_eq!(cfg.stream_heartbeat.get(), Duration::from_secs(15));
        for key in [
            "RETENTION_SWEEP_SECS",
            "STREAM_REREAD_MS",
            "STREAM_HEARTBEAT_MS",
        ] {
            let full_key = format!("{P}{key}");
            let err = full(&[(full_key.as_str(), "0")]).unwrap_err();
            assert!(err.to_string().contains(key), "{err}");
        }
        let err = full(&[("LIVEDESK_NOTIFICATIONS__FEED_RETENTION_DAYS", "0")]).unwrap_err();
        assert!(err.to_string().contains("FEED_RETENTION_DAYS"), "{err}");
    }
}
