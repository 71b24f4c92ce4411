//! Configuration (`LIVEDESK_NOTIFICATIONS__*`).
use livedesk_platform::config::ports;
use livedesk_platform::{CommonConfig, ConfigError, Env};

/// Typed configuration of the notifications service.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// Feed rows older than this many days are deleted by the retention sweep.
    pub feed_retention_days: u32,
}

impl Config {
    /// Reads `LIVEDESK_*` variables.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let feed_retention_days = env.get("LIVEDESK_NOTIFICATIONS__FEED_RETENTION_DAYS", 7u32)?;
        if feed_retention_days == 0 {
            return Err(ConfigError::Invalid {
                key: "LIVEDESK_NOTIFICATIONS__FEED_RETENTION_DAYS".into(),
                value: "0".into(),
                reason: "must be at least 1 day".into(),
            });
        }
        Ok(Self {
            common: CommonConfig::from_env(env, "notifications", ports::NOTIFICATIONS)?,
            feed_retention_days,
        })
    }
}
