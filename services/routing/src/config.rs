//! Configuration (`LIVEDESK_ROUTING__*`).
use std::time::Duration;

use livedesk_platform::app::ServiceConfig;
use livedesk_platform::config::ports;
use livedesk_platform::{CommonConfig, ConfigError, Env};

/// Typed configuration of the routing service.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// How often unanswered offers are expired (RTG-5); default 500 ms.
    pub offer_sweep: Duration,
    /// Safety-net routing pass over queues with waiting conversations
    /// (RTG-6); default 2000 ms.
    pub routing_sweep: Duration,
    /// How often overdue wrap-ups are closed (RTG-9); default 1000 ms.
    pub wrap_up_sweep: Duration,
    /// How often waiting conversations past their queue's max wait are
    /// abandoned (RTG-13); default 5000 ms.
    pub max_wait_sweep: Duration,
    /// How often changed queue positions are pushed (RTG-15); default
    /// 1000 ms.
    pub positions_period: Duration,
    /// How often the backlog gauges (waiting conversations, pending
    /// offers) are sampled from the database (TEN-7); default 5000 ms.
    pub gauges_period: Duration,
}

impl ServiceConfig for Config {
    /// Reads `LIVEDESK_*` variables.
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let millis = |key: &str, default: u64| -> Result<Duration, ConfigError> {
            let v: u64 = env.get(&format!("LIVEDESK_ROUTING__{key}"), default)?;
            Ok(Duration::from_millis(v.max(50)))
        };
        Ok(Self {
            common: CommonConfig::from_env(env, "routing", ports::ROUTING)?,
            offer_sweep: millis("OFFER_SWEEP_MS", 500)?,
            routing_sweep: millis("ROUTING_SWEEP_MS", 2000)?,
            wrap_up_sweep: millis("WRAP_UP_SWEEP_MS", 1000)?,
            max_wait_sweep: millis("MAX_WAIT_SWEEP_MS", 5000)?,
            positions_period: millis("POSITIONS_MS", 1000)?,
            gauges_period: millis("GAUGES_MS", 5000)?,
        })
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }
}
