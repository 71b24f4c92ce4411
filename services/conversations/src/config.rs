//! Configuration (`LIVEDESK_CONVERSATIONS__*`).
use livedesk_platform::app::ServiceConfig;
use livedesk_platform::config::ports;
use livedesk_platform::{CommonConfig, ConfigError, Env, Period};

/// Typed configuration of the conversations service.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// Blocking service, asked whether a new customer is blocked (CNV-3).
    pub blocking_url: String,
    /// Scheduling service, asked what the widget shows (CNV-3, SCH-3).
    pub scheduling_url: String,
    /// Domain of the Message-IDs of outgoing emails (CNV-14).
    pub email_domain: String,
    /// Sender recorded on outgoing emails in the request history (CNV-14).
    pub email_from: String,
    /// Root directory of the local object store of attachments (CNV-6).
    pub attachments_dir: String,
    /// Object-store URL of attachments (`s3://bucket/prefix`, needs the
    /// `s3` crate feature); empty = the local directory above.
    pub attachments_url: Option<String>,
    /// Largest attachment accepted, in bytes (CNV-6).
    pub attachment_max_bytes: u64,
    /// Time between two natural-close sweeps (CNV-13); default 60 s, 0 is
    /// refused.
    pub natural_close_sweep: Period,
    /// Routing, reporting and notifications: asked for their share of a
    /// customer's data in an export (PRV-1), like blocking and scheduling.
    pub routing_url: String,
    pub reporting_url: String,
    pub notifications_url: String,
    /// Time between two retention sweeps (PRV-3); default 3600 s, 0 is
    /// refused.
    pub retention_sweep: Period,
}

impl ServiceConfig for Config {
    /// Reads `LIVEDESK_*` variables.
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env, "conversations", ports::CONVERSATIONS)?,
            blocking_url: CommonConfig::peer_url(
                env,
                "conversations",
                "blocking",
                ports::BLOCKING,
            )?,
            scheduling_url: CommonConfig::peer_url(
                env,
                "conversations",
                "scheduling",
                ports::SCHEDULING,
            )?,
            email_domain: env.get(
                "LIVEDESK_CONVERSATIONS__EMAIL_DOMAIN",
                "livedesk.local".to_string(),
            )?,
            email_from: env.get(
                "LIVEDESK_CONVERSATIONS__EMAIL_FROM",
                "support@livedesk.local".to_string(),
            )?,
            attachments_dir: env.get(
                "LIVEDESK_CONVERSATIONS__ATTACHMENTS_DIR",
                "./.livedesk/attachments".to_string(),
            )?,
            attachments_url: env.opt("LIVEDESK_CONVERSATIONS__ATTACHMENTS_URL"),
            attachment_max_bytes: env.get(
                "LIVEDESK_CONVERSATIONS__ATTACHMENT_MAX_BYTES",
                10 * 1024 * 1024,
            )?,
            natural_close_sweep: env
                .period_secs("LIVEDESK_CONVERSATIONS__NATURAL_CLOSE_SWEEP_SECS", 60)?,
            routing_url: CommonConfig::peer_url(env, "conversations", "routing", ports::ROUTING)?,
            reporting_url: CommonConfig::peer_url(
                env,
                "conversations",
                "reporting",
                ports::REPORTING,
            )?,
            notifications_url: CommonConfig::peer_url(
                env,
                "conversations",
                "notifications",
                ports::NOTIFICATIONS,
            )?,
            retention_sweep: env
                .period_secs("LIVEDESK_CONVERSATIONS__RETENTION_SWEEP_SECS", 3600)?,
        })
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use livedesk_testkit::config_env as env;

    use super::*;

    #[test]
    fn sweep_periods_come_from_their_keys_with_defaults() {
        let cfg = Config::from_env(&env(&[])).unwrap();
        assert_eq!(cfg.natural_close_sweep.get(), Duration::from_secs(60));
        assert_eq!(cfg.retention_sweep.get(), Duration::from_secs(3600));
        let cfg = Config::from_env(&env(&[
            ("LIVEDESK_CONVERSATIONS__NATURAL_CLOSE_SWEEP_SECS", "2"),
            ("LIVEDESK_CONVERSATIONS__RETENTION_SWEEP_SECS", "30"),
        ]))
        .unwrap();
        assert_eq!(cfg.natural_close_sweep.get(), Duration::from_secs(2));
        assert_eq!(cfg.retention_sweep.get(), Duration::from_secs(30));
    }

    #[test]
    fn a_sweep_period_of_zero_is_refused() {
        for key in [
            "LIVEDESK_CONVERSATIONS__NATURAL_CLOSE_SWEEP_SECS",
            "LIVEDESK_CONVERSATIONS__RETENTION_SWEEP_SECS",
        ] {
            let err = Config::from_env(&env(&[(key, "0")])).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { key: k, .. } if k == key),
                "{key}: {err}"
            );
        }
    }
}
