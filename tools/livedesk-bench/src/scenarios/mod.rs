//! The four hot paths of DESIGN.md "Performance", one file each.
mod blocks;
mod export;
mod messages;
mod routing;

use std::time::Duration;

use crate::baseline::Scratch;
use crate::cli::{Cli, Scenario};
use crate::report::ScenarioResult;
use crate::target::Target;

/// What every scenario works with.
pub struct Ctx<'a> {
    pub target: &'a Target,
    pub cli: &'a Cli,
    pub scratch: &'a Scratch,
}

impl Ctx<'_> {
    /// The longest wait for anything asynchronous.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.cli.timeout_seconds)
    }

    /// `timeout` from now.
    pub fn deadline(&self) -> tokio::time::Instant {
        tokio::time::Instant::now() + self.timeout()
    }
}

/// Runs one scenario and its baseline.
///
/// Each scenario's future is boxed: nested in one another, their types
/// grow past the compiler's layout depth.
pub async fn run(scenario: Scenario, ctx: &Ctx<'_>) -> anyhow::Result<ScenarioResult> {
    match scenario {
        Scenario::Messages => Box::pin(messages::run(ctx)).await,
        Scenario::Routing => Box::pin(routing::run(ctx)).await,
        Scenario::Export => Box::pin(export::run(ctx)).await,
        Scenario::Blocks => Box::pin(blocks::run(ctx)).await,
    }
}
