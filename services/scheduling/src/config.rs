//! Configuration (`LIVEDESK_SCHEDULING__*`).
use std::time::Duration;

use livedesk_platform::app::ServiceConfig;
use livedesk_platform::config::ports;
use livedesk_platform::{CommonConfig, ConfigError, Env, Period};

/// Typed configuration of the scheduling service.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// Routing service, asked whether a queue is staffed (RTG-10).
    pub routing_url: String,
    /// Blocking service, asked whether a form's submitter is blocked (BLK-3, BLK-9).
    pub blocking_url: String,
    /// How long an org's schedules stay cached before a reload: the bound
    /// on how stale another replica's view of a changed schedule can be.
    pub cache_ttl: Duration,
    /// Period of the open/close/closing-soon sweep (SCH-4):
    /// `LIVEDESK_SCHEDULING__SWEEP_INTERVAL_MS`, default 15000, 0 refused.
    pub sweep_interval: Period,
}

impl ServiceConfig for Config {
    /// Reads `LIVEDESK_*` variables.
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env, "scheduling", ports::SCHEDULING)?,
            routing_url: CommonConfig::peer_url(env, "scheduling", "routing", ports::ROUTING)?,
            blocking_url: CommonConfig::peer_url(env, "scheduling", "blocking", ports::BLOCKING)?,
            cache_ttl: Duration::from_millis(
                env.get("LIVEDESK_SCHEDULING__CACHE_TTL_MS", 5000u64)?,
            ),
            sweep_interval: env.period_ms("LIVEDESK_SCHEDULING__SWEEP_INTERVAL_MS", 15_000)?,
        })
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use livedesk_testkit::config_env as env;

    use super::*;

    #[test]
    fn the_sweep_period_comes_from_its_key_and_defaults_to_15_s() {
        let cfg = Config::from_env(&env(&[])).unwrap();
        assert_eq!(cfg.sweep_interval.get(), Duration::from_secs(15));
        let cfg =
            Config::from_env(&env(&[("LIVEDESK_SCHEDULING__SWEEP_INTERVAL_MS", "200")])).unwrap();
        assert_eq!(cfg.sweep_interval.get(), Duration::from_millis(200));
    }

    #[test]
    fn a_sweep_period_of_zero_is_refused() {
        let err =
            Config::from_env(&env(&[("LIVEDESK_SCHEDULING__SWEEP_INTERVAL_MS", "0")])).unwrap_err();
        assert!(
            err.to_string()
                .contains("LIVEDESK_SCHEDULING__SWEEP_INTERVAL_MS"),
            "{err}"
        );
    }
}
