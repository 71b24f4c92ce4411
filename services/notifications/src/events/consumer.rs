//! One handler for every stream the service consumes: it turns events
//! into feed rows (and email deliveries) inside the consumer's transaction,
//! then wakes the recipients' streams on every replica after commit.
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use livedesk_events::{EventHandler, HandlerError, Outbox, ReceivedEvent, Staged, Subjects};
use sea_orm::DatabaseTransaction;
use tokio::sync::Notify;
use uuid::Uuid;

use super::batch::Batch;
use super::fanout;

/// Consumes routing, conversations, scheduling and blocking events.
pub struct FeedEvents {
    nats: async_nats::Client,
    subjects: Subjects,
    pub(super) outbox: Outbox,
    /// Recipients whose feed an event grew, from `handle` to `after_commit`
    /// (the runtime calls both in sequence on one consumer task). An entry
    /// left by a failed transaction is overwritten when the event is retried.
    woken: Mutex<HashMap<Uuid, (Uuid, Vec<String>)>>,
    /// Events that recorded a PENDING email, from `handle` to `after_commit`.
    pending_email: Mutex<HashSet<Uuid>>,
    /// Wakes this replica's delivery worker once such an event committed.
    email_wake: Arc<Notify>,
}

impl FeedEvents {
    /// A handler publishing wake-ups on `nats` and staging events in `outbox`.
    pub fn new(nats: async_nats::Client, subjects: Subjects, outbox: Outbox) -> Self {
        Self {
            nats,
            subjects,
            outbox,
            woken: Mutex::new(HashMap::new()),
            pending_email: Mutex::new(HashSet::new()),
            email_wake: Arc::new(Notify::new()),
        }
    }

    /// Wakes `wake` (the delivery worker's) after an event that recorded a
    /// PENDING email commits, so it is sent without waiting for the period.
    pub fn with_email_wake(mut self, wake: Arc<Notify>) -> Self {
        self.email_wake = wake;
        self
    }

    /// Notes that `event` recorded a PENDING email (inside its transaction).
    pub(super) fn email_pending(&self, event: Uuid) {
        if let Ok(mut set) = self.pending_email.lock() {
            set.insert(event);
        }
    }

    async fn apply(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<(Batch, Vec<Staged>), HandlerError> {
        let mut batch = Batch::default();
        let staged = match event.envelope.producer.as_str() {
            "routing" => {
                super::routing::handle(txn, event, &mut batch).await?;
                vec![]
            }
            "conversations" => super::conversations::handle(self, txn, event, &mut batch).await?,
            "scheduling" => super::others::scheduling(self, txn, event, &mut batch).await?,
            "blocking" => {
                super::others::blocking(txn, event).await?;
                vec![]
            }
            _ => vec![],
        };
        Ok((batch, staged))
    }
}

impl EventHandler for FeedEvents {
    /// A batch writes its feed rows once, at the end, in one lock order
    /// (`Feed::append_all`). Before that, an event of the conversations or
    /// routing stream writes only its own conversation's rows (its
    /// aggregate, which no other lane of the consumer holds). A block's
    /// event, on the blocking stream's consumer, may lock several
    /// conversations of one customer: should that ever close a cycle with
    /// a batch holding two of them, PostgreSQL's deadlock detection aborts
    /// one side, and an aborted batch is retried event by event.
    const BATCH: usize = 128;
    /// Two lanes: every message of an agent's chats goes to one feed row,
    /// so more lanes would only queue on it; two keep one lane going while
    /// the other retries a failing event.
    const LANES: usize = 2;

    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        self.handle_batch(txn, &[event]).await
    }

    async fn handle_batch(
        &self,
        txn: &DatabaseTransaction,
        events: &[&ReceivedEvent],
    ) -> Result<Vec<Staged>, HandlerError> {
        let mut staged = Vec::new();
        let mut batches = Vec::with_capacity(events.len());
        for event in events {
            let (batch, more) = self.apply(txn, event).await?;
            staged.extend(more);
            batches.push((event.org_id, event.event_id, batch));
        }
        let woken = Batch::write_all(txn, batches).await?;
        if let Ok(mut map) = self.woken.lock() {
            for (org, event, recipients) in woken {
                if !recipients.is_empty() {
                    map.insert(event, (org, recipients));
                }
            }
        }
        Ok(staged)
    }

    async fn after_commit(&self, event: &ReceivedEvent) {
        let email = self
            .pending_email
            .lock()
            .is_ok_and(|mut set| set.remove(&event.event_id));
        if email {
            // notify_one stores a permit: a worker busy sending runs
            // another round right after instead of missing it.
            self.email_wake.notify_one();
        }
        let entry = self
            .woken
            .lock()
            .ok()
            .and_then(|mut map| map.remove(&event.event_id));
        let Some((org, recipients)) = entry else {
            return;
        };
        // Best effort: a lost wake-up only delays delivery until the
        // streams' periodic re-read.
        let subject = self.subjects.push(&org.to_string());
        if let Err(e) = self
            .nats
            .publish(subject, fanout::encode(&recipients))
            .await
        {
            tracing::warn!(error = %e, %org, "wake-up not published");
        }
    }
}
