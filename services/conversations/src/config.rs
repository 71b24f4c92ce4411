//! Configuration (`LIVEDESK_CONVERSATIONS__*`).
use livedesk_platform::config::ports;
use livedesk_platform::{CommonConfig, ConfigError, Env};

/// Typed configuration of the conversations service.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// Blocking service, asked whether a new customer is blocked (CNV-3).
    pub blocking_url: String,
    /// Scheduling service, asked what the widget shows (CNV-3, SCH-3).
    pub scheduling_url: String,
}

impl Config {
    /// Reads `LIVEDESK_*` variables.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
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
        })
    }
}
