//! Configuration (`LIVEDESK_BLOCKING__*`).
use livedesk_platform::config::ports;
use livedesk_platform::{CommonConfig, ConfigError, Env};

/// Typed configuration of the blocking service.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// Conversations service, asked for a conversation's customer identities.
    pub conversations_url: String,
}

impl Config {
    /// Reads `LIVEDESK_*` variables.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env, "blocking", ports::BLOCKING)?,
            conversations_url: CommonConfig::peer_url(
                env,
                "blocking",
                "conversations",
                ports::CONVERSATIONS,
            )?,
        })
    }
}
