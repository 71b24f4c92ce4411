//! Fan-out across replicas (NTF-1): after a feed grows, a small core-NATS
//! message on `<prefix>.push.<org>` names the recipients; every replica
//! subscribes once to `<prefix>.push.*` and forwards to its own streams
//! through a broadcast channel. Wake-ups are hints only: streams re-read
//! the database, so a lost one delays nothing beyond the safety re-read.
//!
//! Typing indicators (NTF-1) take the same path without the database:
//! conversations publishes each on `<prefix>.typing.<org>` (core NATS) with
//! its recipients in `Livedesk-Recipient` headers; every replica forwards
//! it to the recipients' open streams as it is, with sequence 0: never in
//! a feed, never resumed, so it cannot disturb `after_sequence`.
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use livedesk_events::Subjects;
use livedesk_proto::notifications::v1::Notification;
use livedesk_proto::notifications::v1::notification::Kind;
use prost::Message as _;
use tokio::sync::broadcast;
use tokio_stream::StreamExt as _;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Recipients of one org whose feed grew.
#[derive(Debug, Clone)]
pub struct Wake {
    pub org: Uuid,
    pub recipients: Arc<Vec<String>>,
}

impl Wake {
    /// Whether this wake-up concerns `recipient` of `org`.
    pub fn concerns(&self, org: Uuid, recipient: &str) -> bool {
        self.org == org && self.recipients.iter().any(|r| r == recipient)
    }
}

/// One typing indicator for some recipients of one org (NTF-1).
#[derive(Debug, Clone)]
pub struct TypingNote {
    pub org: Uuid,
    pub recipients: Arc<Vec<String>>,
    pub notification: Arc<Notification>,
}

impl TypingNote {
    /// Whether this indicator is for `recipient` of `org`.
    pub fn concerns(&self, org: Uuid, recipient: &str) -> bool {
        self.org == org && self.recipients.iter().any(|r| r == recipient)
    }
}

/// Header naming one recipient of a typing indicator (repeated).
pub const RECIPIENT_HEADER: &str = "Livedesk-Recipient";

/// The replica-local side of the fan-out.
#[derive(Debug, Clone)]
pub struct Fanout {
    tx: broadcast::Sender<Wake>,
    typing: broadcast::Sender<TypingNote>,
}

impl Default for Fanout {
    fn default() -> Self {
        Self::new()
    }
}

/// Encodes recipient ids, one per line (ids never hold a newline: they
/// come from JWT `sub` claims and event fields, and blank ids are dropped).
pub fn encode(recipients: &[String]) -> Bytes {
    Bytes::from(recipients.join("\n"))
}

fn decode(payload: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(payload)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Fanout {
    /// A fan-out with room for bursts; a slow stream that lags just re-reads.
    pub fn new() -> Self {
        Self {
            tx: broadcast::channel(4096).0,
            typing: broadcast::channel(1024).0,
        }
    }

    /// A receiver of typing indicators for one stream.
    pub fn subscribe_typing(&self) -> broadcast::Receiver<TypingNote> {
        self.typing.subscribe()
    }

    /// A receiver for one stream.
    pub fn subscribe(&self) -> broadcast::Receiver<Wake> {
        self.tx.subscribe()
    }

    /// Forwards wake-ups and typing indicators from NATS until `shutdown`,
    /// resubscribing after errors.
    pub async fn run(
        self,
        nats: async_nats::Client,
        subjects: Subjects,
        shutdown: CancellationToken,
    ) {
        let typing = self
            .clone()
            .run_typing(nats.clone(), subjects.clone(), shutdown.clone());
        tokio::join!(self.run_wakes(nats, subjects, shutdown), typing);
    }

    /// Forwards typing indicators.
    async fn run_typing(
        self,
        nats: async_nats::Client,
        subjects: Subjects,
        shutdown: CancellationToken,
    ) {
        follow(
            &nats,
            subjects.typing_all(),
            "typing",
            &shutdown,
            |org, msg| {
                let notification = match Notification::decode(msg.payload.as_ref()) {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::warn!(error = %e, "undecodable typing indicator dropped");
                        return;
                    }
                };
                // Only typing, only unsequenced: nothing else takes this path.
                if notification.sequence != 0 || !matches!(notification.kind, Some(Kind::Typing(_)))
                {
                    tracing::warn!("a non-typing notification on the typing subject dropped");
                    return;
                }
                let recipients: Vec<String> = msg
                    .headers
                    .as_ref()
                    .map(|h| {
                        h.get_all(RECIPIENT_HEADER)
                            .map(|v| v.as_str().to_owned())
                            .filter(|r| !r.is_empty())
                            .collect()
                    })
                    .unwrap_or_default();
                let _ = self.typing.send(TypingNote {
                    org,
                    recipients: Arc::new(recipients),
                    notification: Arc::new(notification),
                });
            },
        )
        .await;
    }

    /// Forwards wake-ups.
    async fn run_wakes(
        self,
        nats: async_nats::Client,
        subjects: Subjects,
        shutdown: CancellationToken,
    ) {
        follow(&nats, subjects.push_all(), "push", &shutdown, |org, msg| {
            // No receiver (no open stream) is normal.
            let _ = self.tx.send(Wake {
                org,
                recipients: Arc::new(decode(&msg.payload)),
            });
        })
        .await;
    }
}

/// Keeps a core-NATS subscription on `filter` open until shutdown
/// (subscribing again after a failure or a closed subscription) and hands
/// `on` every message with its org, the subject's last token; a message
/// whose subject names no org is dropped with a warning.
async fn follow(
    nats: &async_nats::Client,
    filter: String,
    what: &'static str,
    shutdown: &CancellationToken,
    mut on: impl FnMut(Uuid, async_nats::Message),
) {
    while !shutdown.is_cancelled() {
        let mut sub = match nats.subscribe(filter.clone()).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, what, "subscription failed, retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        loop {
            let msg = tokio::select! {
                _ = shutdown.cancelled() => return,
                m = sub.next() => m,
            };
            let Some(msg) = msg else { break };
            match msg
                .subject
                .rsplit('.')
                .next()
                .and_then(|o| Uuid::parse_str(o).ok())
            {
                Some(org) => on(org, msg),
                None => tracing::warn!(what, "a message without an org dropped"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_round_trip() {
        let ids = vec!["agent-1".to_string(), "visitor-2".to_string()];
        assert_eq!(decode(&encode(&ids)), ids);
        let wake = Wake {
            org: Uuid::nil(),
            recipients: Arc::new(ids),
        };
        assert!(wake.concerns(Uuid::nil(), "visitor-2"));
        assert!(!wake.concerns(Uuid::now_v7(), "visitor-2"));
        assert!(!wake.concerns(Uuid::nil(), "visitor"));
    }
}
