//! Configuration (`LIVEDESK_BLOCKING__*`).
use livedesk_platform::app::ServiceConfig;
use livedesk_platform::config::ports;
use livedesk_platform::{CommonConfig, ConfigError, Env, Period};

/// Typed configuration of the blocking service.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// Conversations service, asked for a conversation's customer identities.
    pub conversations_url: String,
    /// How often expired blocks are announced (`BlockExpired`, BLK-8):
    /// `LIVEDESK_BLOCKING__EXPIRY_SWEEP_MS`, default 5000, 0 refused.
    pub expiry_sweep: Period,
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
            expiry_sweep: env.period_ms("LIVEDESK_BLOCKING__EXPIRY_SWEEP_MS", 5000)?,
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
    fn the_expiry_sweep_period_comes_from_its_key_and_defaults_to_5_s() {
        let cfg = Config::from_env(&env(&[])).unwrap();
        assert_eq!(cfg.expiry_sweep.get(), Duration::from_secs(5));
        let cfg = Config::from_env(&env(&[("LIVEDESK_BLOCKING__EXPIRY_SWEEP_MS", "250")])).unwrap();
        assert_eq!(cfg.expiry_sweep.get(), Duration::from_millis(250));
    }

    #[test]
    fn an_expiry_sweep_period_of_zero_is_refused() {
        let err =
            Config::from_env(&env(&[("LIVEDESK_BLOCKING__EXPIRY_SWEEP_MS", "0")])).unwrap_err();
        assert!(
            err.to_string()
                .contains("LIVEDESK_BLOCKING__EXPIRY_SWEEP_MS"),
            "{err}"
        );
    }
}
