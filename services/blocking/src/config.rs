//! Configuration (`LIVEDESK_BLOCKING__*`).
use livedesk_platform::app::ServiceConfig;
use livedesk_platform::config::ports;
use livedesk_platform::{CommonConfig, ConfigError, Env};

/// Typed configuration of the blocking service.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// Conversations service, asked for a conversation's customer identities.
    pub conversations_url: String,
}

impl ServiceConfig for Config {
    /// Reads `LIVEDESK_*` variables.
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
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

    fn common(&self) -> &CommonConfig {
        &self.common
    }
}
