//! Configuration (`LIVEDESK_REPORTING__*`).
use livedesk_platform::app::ServiceConfig;
use livedesk_platform::config::ports;
use livedesk_platform::{CommonConfig, ConfigError, Env};

/// Typed configuration of the reporting service.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// Generation of the read model. Raising it rebuilds the read model:
    /// the tables are emptied once and new durable consumers
    /// (`reporting-g<N>-from-<producer>`) replay every stream from the start.
    pub read_model_generation: u32,
}

impl ServiceConfig for Config {
    /// Reads `LIVEDESK_*` variables.
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let generation: u32 = env.get("LIVEDESK_REPORTING__READ_MODEL_GENERATION", 1u32)?;
        if generation == 0 {
            return Err(ConfigError::Invalid {
                key: "LIVEDESK_REPORTING__READ_MODEL_GENERATION".into(),
                value: "0".into(),
                reason: "generations start at 1".into(),
            });
        }
        Ok(Self {
            common: CommonConfig::from_env(env, "reporting", ports::REPORTING)?,
            read_model_generation: generation,
        })
    }

    fn common(&self) -> &CommonConfig {
        &self.common
    }
}
