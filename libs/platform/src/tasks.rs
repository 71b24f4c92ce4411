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
