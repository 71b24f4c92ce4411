//! Configuration (`LIVEDESK_BLOCKING__*`).
use livedesk_platform::app::ServiceConfig;
use livedesk_platform::config::ports;
use livedesk_platform::{CommonConfig, ConfigError, Env, Period};

use crate::cache::Bounds;

/// Typed configuration of the blocking service.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// Conversations service, asked for a conversation's customer identities.
    pub conversations_url: String,
    /// How often expired blocks are announced (`BlockExpired`, BLK-8):
    /// `LIVEDESK_BLOCKING__EXPIRY_SWEEP_MS`, default 5000, 0 refused.
    pub expiry_sweep: Period,
    /// What the block cache may hold (`crate::cache`):
    /// `LIVEDESK_BLOCKING__CACHE_ORGS` orgs (default 1000; 0 holds none and
    /// every check goes to the database) and
    /// `LIVEDESK_BLOCKING__CACHE_ORG_ENTRIES` identities and ranges per org
    /// (default 10000; an org with more is checked in the database).
    pub cache: Bounds,
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
            cache: Bounds {
                orgs: env.get("LIVEDESK_BLOCKING__CACHE_ORGS", 1000)?,
                entries_per_org: env.get("LIVEDESK_BLOCKING__CACHE_ORG_ENTRIES", 10_000)?,
            },
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
    fn the_cache_bounds_come_from_their_keys() {
        let cfg = Config::from_env(&env(&[])).unwrap();
        assert_eq!(
            cfg.cache,
            Bounds {
                orgs: 1000,
                entries_per_org: 10_000
            }
        );
        let cfg = Config::from_env(&env(&[
            ("LIVEDESK_BLOCKING__CACHE_ORGS", "0"),
            ("LIVEDESK_BLOCKING__CACHE_ORG_ENTRIES", "5"),
        ]))
        .unwrap();
        assert_eq!(
            cfg.cache,
            Bounds {
                orgs: 0,
                entries_per_org: 5
            }
        );
        let err = Config::from_env(&env(&[("LIVEDESK_BLOCKING__CACHE_ORGS", "-1")])).unwrap_err();
        assert!(
            err.to_string().contains("LIVEDESK_BLOCKING__CACHE_ORGS"),
            "{err}"
        );
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
