//! Configuration (`LIVEDESK_SCHEDULING__*`).
use std::time::Duration;

use livedesk_platform::app::ServiceConfig;
use livedesk_platform::config::ports;
use livedesk_platform::{CommonConfig, ConfigError, Env};

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
    /// Period of the open/close/closing-soon sweep (SCH-4).
    pub sweep_interval: Duration,
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
            sweep_interval: Duration::from_millis(
                env.get("LIVEDESK_SCHEDULING__SWEEP_INTERVAL_MS", 15_000u64)?,
            ),
        })
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }
}
