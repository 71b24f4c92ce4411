//! Two handlers on one durable consumer.
//!
//! A service has one durable consumer per producer stream
//! (`<service>-from-<producer>`); a second loop on the same durable name
//! would split the messages between the two. When a new concern (e.g. the
//! data-subject erasure of PRV-2) must see a stream that an existing handler
//! already consumes, [`Both`] runs the existing handler, then the new one,
//! in the same transaction, and publishes what either staged. A batch
//! ([`EventHandler::BATCH`], the smaller of the two) goes to the first
//! handler whole, then to the second.
use crate::consumer::{EventHandler, HandlerError};
use crate::{ReceivedEvent, Staged};
use sea_orm::DatabaseTransaction;

/// Runs `0` then `1` on every event; each ignores the types it does not know.
#[derive(Debug)]
pub struct Both<A, B>(pub A, pub B);

impl<A: EventHandler, B: EventHandler> EventHandler for Both<A, B> {
    /// Batches only as far as both halves allow.
    const BATCH: usize = if A::BATCH < B::BATCH {
        A::BATCH
    } else {
        B::BATCH
    };
    const LANES: usize = if A::LANES < B::LANES {
        A::LANES
    } else {
        B::LANES
    };

    async fn handle_batch(
        &self,
        txn: &DatabaseTransaction,
        events: &[&ReceivedEvent],
    ) -> Result<Vec<Staged>, HandlerError> {
        let mut staged = self.0.handle_batch(txn, events).await?;
        staged.extend(self.1.handle_batch(txn, events).await?);
        Ok(staged)
    }

    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        let mut staged = self.0.handle(txn, event).await?;
        staged.extend(self.1.handle(txn, event).await?);
        Ok(staged)
    }

    async fn after_commit(&self, event: &ReceivedEvent) {
        self.0.after_commit(event).await;
        self.1.after_commit(event).await;
    }
}

/// A shared handler (one instance serving several producers' consumers)
/// can be half of a [`Both`].
impl<H: EventHandler> EventHandler for std::sync::Arc<H> {
    const BATCH: usize = H::BATCH;
    const LANES: usize = H::LANES;

    async fn handle_batch(
        &self,
        txn: &DatabaseTransaction,
        events: &[&ReceivedEvent],
    ) -> Result<Vec<Staged>, HandlerError> {
        self.as_ref().handle_batch(txn, events).await
    }

    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        self.as_ref().handle(txn, event).await
    }

    async fn after_commit(&self, event: &ReceivedEvent) {
        self.as_ref().after_commit(event).await;
    }
}
