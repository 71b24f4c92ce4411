//! Background tasks of a service (relay, consumers, sweeps) stopped in
//! order on shutdown (house style rule 7): after the gRPC server drained,
//! consumers stop, then the outbox flushes.
use std::future::Future;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// A named group of tasks sharing one cancellation token.
#[derive(Debug, Default)]
pub struct Tasks {
    token: CancellationToken,
    set: JoinSet<()>,
}

impl Tasks {
    /// An empty group.
    pub fn new() -> Self {
        Self::default()
    }

    /// The token the group's tasks should watch.
    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    /// Spawns `make(token)`.
    pub fn spawn<F, Fut>(&mut self, make: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.set.spawn(make(self.token.clone()));
    }

    /// Cancels every task and waits for them to finish.
    pub async fn stop(mut self) {
        self.token.cancel();
        while let Some(res) = self.set.join_next().await {
            if let Err(e) = res
                && e.is_panic()
            {
                tracing::error!(error = %e, "background task panicked");
            }
        }
    }
}

/// Runs `tick` every `period` until `shutdown` is cancelled: the one loop
/// behind every sweep of every service (offer expiry, natural close,
/// retention, block expiry …). The first tick comes one period after the
/// start; a tick that fails is logged with the task's name and counted in
/// `livedesk_periodic_failures_total{task}`, and the loop goes on (the next
/// tick retries: every sweep is driven by the database, so nothing is
/// lost). Cancellation is seen between ticks and while waiting, never in
/// the middle of a tick, so a tick's transaction is never cut in two.
pub async fn every<F, Fut, E>(
    task: &'static str,
    period: crate::config::Period,
    shutdown: CancellationToken,
    mut tick: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(period.get()) => {}
        }
        if let Err(e) = tick().await {
            failures().add(1, &[opentelemetry::KeyValue::new("task", task)]);
            tracing::warn!(task, error = %e, "periodic task failed");
        }
    }
}

/// `livedesk_periodic_failures_total{task}`: ticks of a periodic task that failed.
fn failures() -> &'static opentelemetry::metrics::Counter<u64> {
    static FAILURES: std::sync::OnceLock<opentelemetry::metrics::Counter<u64>> =
        std::sync::OnceLock::new();
    FAILURES.get_or_init(|| {
        crate::metrics::meter()
            .u64_counter("livedesk.periodic.failures")
            .with_description("Ticks of a periodic task (sweep) that failed")
            .build()
    })
}
