//! Configuration (`LIVEDESK_ROUTING__*`).
use livedesk_platform::app::ServiceConfig;
use livedesk_platform::config::ports;
use livedesk_platform::{CommonConfig, ConfigError, Env, Period};

/// Typed configuration of the routing service. Every period of a sweep
/// is read here (0 refused); none is written in the code.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// How often unanswered offers are expired (RTG-5); default 500 ms.
    pub offer_sweep: Period,
    /// Safety-net routing pass over queues with waiting conversations
    /// (RTG-6); default 2000 ms.
    pub routing_sweep: Period,
    /// How often overdue wrap-ups are closed (RTG-9); default 1000 ms.
    pub wrap_up_sweep: Period,
    /// How often waiting conversations past their queue's max wait are
    /// abandoned (RTG-13); default 5000 ms.
    pub max_wait_sweep: Period,
    /// How often customers waiting past their queue's
    /// `offer_form_after_seconds` are offered the offline form (SCH-8);
    /// default 5000 ms (those waits are in seconds, like max wait).
    pub form_offer_sweep: Period,
    /// How often changed queue positions are pushed (RTG-15); default
    /// 1000 ms.
    pub positions_period: Period,
    /// How often the backlog gauges (waiting conversations, pending
    /// offers) are sampled from the database (TEN-7); default 5000 ms.
    pub gauges_period: Period,
}

impl ServiceConfig for Config {
    /// Reads `LIVEDESK_*` variables.
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let ms =
            |key: &str, default: u64| env.period_ms(&format!("LIVEDESK_ROUTING__{key}"), default);
        Ok(Self {
            common: CommonConfig::from_env(env, "routing", ports::ROUTING)?,
            offer_sweep: ms("OFFER_SWEEP_MS", 500)?,
            routing_sweep: ms("ROUTING_SWEEP_MS", 2000)?,
            wrap_up_sweep: ms("WRAP_UP_SWEEP_MS", 1000)?,
            max_wait_sweep: ms("MAX_WAIT_SWEEP_MS", 5000)?,
            form_offer_sweep: ms("FORM_OFFER_SWEEP_MS", 5000)?,
            positions_period: ms("POSITIONS_MS", 1000)?,
            gauges_period: ms("GAUGES_MS", 5000)?,
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

    use super::*;

    const PERIODS: [&str; 7] = [
        "OFFER_SWEEP_MS",
        "ROUTING_SWEEP_MS",
        "WRAP_UP_SWEEP_MS",
        "MAX_WAIT_SWEEP_MS",
        "FORM_OFFER_SWEEP_MS",
        "POSITIONS_MS",
        "GAUGES_MS",
    ];

    fn env(pairs: &[(&str, &str)]) -> Env {
        let prefixed: Vec<(String, &str)> = pairs
            .iter()
            .map(|(k, v)| (format!("LIVEDESK_ROUTING__{k}"), *v))
            .collect();
        let pairs: Vec<(&str, &str)> = prefixed.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        livedesk_testkit::config_env(&pairs)
    }

    #[test]
    fn a_period_of_zero_is_refused_for_every_sweep() {
        for key in PERIODS {
            let err = Config::from_env(&env(&[(key, "0")])).unwrap_err();
            assert!(err.to_string().contains(key), "{key}: {err}");
        }
    }

    #[test]
    fn periods_come_from_their_keys() {
        let pairs: Vec<(&str, &str)> = PERIODS.iter().map(|k| (*k, "123")).collect();
        let cfg = Config::from_env(&env(&pairs)).unwrap();
        for p in [
            cfg.offer_sweep,
            cfg.routing_sweep,
            cfg.wrap_up_sweep,
            cfg.max_wait_sweep,
            cfg.form_offer_sweep,
            cfg.positions_period,
            cfg.gauges_period,
        ] {
            assert_eq!(p.get(), Duration::from_millis(123));
        }
    }
}
