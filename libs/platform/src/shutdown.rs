//! Graceful shutdown (TEN-7): the first SIGTERM/SIGINT cancels one token
//! (servers drain, consumers stop, the outbox flushes); a second exits at once.
use tokio_util::sync::CancellationToken;

/// A cancellation token tied to process signals.
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    token: CancellationToken,
}

impl Shutdown {
    /// A token cancelled by nothing but [`Shutdown::trigger`] (tests).
    pub fn new() -> Self {
        Self::default()
    }

    /// A token cancelled on the first SIGTERM or SIGINT.
    pub fn on_signals() -> Self {
        let s = Self::new();
        let token = s.token.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutdown signal received, draining");
            token.cancel();
            wait_for_signal().await;
            tracing::warn!("second signal, exiting now");
            std::process::exit(130);
        });
        s
    }

    /// The underlying token.
    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    /// Starts the shutdown.
    pub fn trigger(&self) {
        self.token.cancel();
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
