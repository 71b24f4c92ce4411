//! Agents' live Subscribe streams, merged into one channel and stamped
//! with the instant each notification arrived (the end of every
//! end-to-end latency the harness measures).
use std::time::Instant;

use livedesk_proto::notifications::v1::{Notification, SubscribeRequest};
use livedeskctl::Clients;
use livedeskctl::tokens::authed;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Several Subscribe streams read by background tasks.
pub struct Feeds {
    tx: mpsc::UnboundedSender<(Instant, Notification)>,
    rx: mpsc::UnboundedReceiver<(Instant, Notification)>,
    readers: Vec<JoinHandle<()>>,
}

impl Default for Feeds {
    /// No stream yet.
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            tx,
            rx,
            readers: Vec::new(),
        }
    }
}

impl Feeds {
    /// Opens the feed of `token`'s principal (everything retained, so
    /// nothing sent between the call and the first read is missed).
    pub async fn add(&mut self, clients: &Clients, token: &str) -> anyhow::Result<()> {
        let mut stream = clients
            .notifications
            .clone()
            .subscribe(authed(
                token,
                SubscribeRequest {
                    after_sequence: 0,
                    replay_all: true,
                },
            ))
            .await?
            .into_inner();
        let tx = self.tx.clone();
        self.readers.push(tokio::spawn(async move {
            while let Ok(Some(n)) = stream.message().await {
                if tx.send((Instant::now(), n)).is_err() {
                    break;
                }
            }
        }));
        Ok(())
    }

    /// The next notification, or `None` once `deadline` passed.
    pub async fn next(
        &mut self,
        deadline: tokio::time::Instant,
    ) -> Option<(Instant, Notification)> {
        tokio::time::timeout_at(deadline, self.rx.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Drop for Feeds {
    fn drop(&mut self) {
        for r in &self.readers {
            r.abort();
        }
    }
}
