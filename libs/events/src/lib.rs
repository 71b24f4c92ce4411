//! Livedesk events on NATS JetStream (EVT-1 … EVT-4).
//!
//! - [`Outbox`]: an event is written to the `event_outbox` table in the same
//!   transaction as the state change, published right after commit with
//!   `Nats-Msg-Id` = event id, and republished by a relay if that failed
//!   (crash, broker down). JetStream de-duplicates by that id.
//! - [`consumer::run`]: durable pull consumers with explicit ack, idempotent
//!   by event id (a `processed_events` row is written in the handler's
//!   transaction), dead-lettering after N failed deliveries.
//! - [`Subjects`]: every subject, stream and consumer name derives from a
//!   configurable prefix, so environments and parallel tests share a server.

mod both;
pub mod consumer;
mod envelope;
mod erasure;
mod host;
pub mod migration;
mod outbox;
mod subjects;
mod trace;

pub use both::Both;
pub use consumer::{ConsumerConfig, ConsumerContext, EventHandler, HandlerError};
pub use envelope::ReceivedEvent;
pub use erasure::ErasureEvents;
pub use host::{Host, Service};
pub use migration::{
    aggregate_sequences_migration, events_migration, events_migrations, outbox_claims_migration,
};
pub use outbox::{Outbox, Staged};
pub use subjects::Subjects;

/// Errors of the event machinery itself (not of handlers).
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("nats: {0}")]
    Nats(String),
    #[error("decode: {0}")]
    Decode(#[from] prost::DecodeError),
}

/// How long an event stays in its producer's stream (PRV-2, PRV-3).
///
/// Events carry personal data (message text, customer names, identities,
/// form values, the identities of an erasure request itself); an erasure or
/// a retention purge cannot rewrite messages already in JetStream, so the
/// streams must not keep them longer than this. Seven days is far above
/// any consumer's catch-up after an outage (EVT-3 redelivers within
/// minutes) and bounds how long erased data survives in the broker.
pub const EVENT_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// How long a dead letter is kept: long enough for an operator to look at
/// it and replay it, bounded for the same reason as [`EVENT_MAX_AGE`].
pub const DEAD_LETTER_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// Creates (idempotently) the streams of `producers` and the dead-letter
/// stream (EVT-4). Services call it on start for the streams they publish
/// to and consume from, so start order does not matter. A stream created
/// before the retention limits existed gets them here (its `max_age` is
/// updated in place; JetStream then drops what is older).
pub async fn ensure_streams(
    js: &async_nats::jetstream::Context,
    subjects: &Subjects,
    producers: &[&str],
) -> Result<(), EventsError> {
    use async_nats::jetstream::stream;
    let mut configs: Vec<stream::Config> = producers
        .iter()
        .map(|p| stream::Config {
            name: subjects.stream_name(p),
            subjects: vec![subjects.stream_filter(p)],
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            duplicate_window: std::time::Duration::from_secs(120),
            max_age: EVENT_MAX_AGE,
            num_replicas: subjects.stream_replicas(),
            ..Default::default()
        })
        .collect();
    configs.push(stream::Config {
        name: subjects.dlq_stream_name(),
        subjects: vec![subjects.dlq_filter()],
        storage: stream::StorageType::File,
        max_age: DEAD_LETTER_MAX_AGE,
        num_replicas: subjects.stream_replicas(),
        ..Default::default()
    });
    for config in configs {
        let name = config.name.clone();
        let (wanted, replicas) = (config.max_age, config.num_replicas);
        let existing = js
            .get_or_create_stream(config)
            .await
            .map_err(|e| EventsError::Nats(format!("stream {name}: {e}")))?;
        let current = existing.cached_info().config.clone();
        // A stream made by an older release (or with other settings) is
        // brought to this one's retention and replicas.
        if current.max_age != wanted || current.num_replicas != replicas {
            js.update_stream(stream::Config {
                max_age: wanted,
                num_replicas: replicas,
                ..current
            })
            .await
            .map_err(|e| EventsError::Nats(format!("stream {name} settings: {e}")))?;
        }
    }
    Ok(())
}

/// Publishes one event directly (no outbox): for tools and tests that play
/// the part of another service. Services use [`Outbox`] instead. The event
/// is not sequenced (`aggregate_sequence` 0), so consumers apply it in
/// delivery order.
pub async fn publish_direct<E: livedesk_proto::EventType>(
    js: &async_nats::jetstream::Context,
    subjects: &Subjects,
    producer: &str,
    org: uuid::Uuid,
    aggregate_id: &str,
    event: &E,
) -> Result<uuid::Uuid, EventsError> {
    use prost::Message as _;
    ensure_streams(js, subjects, &[producer]).await?;
    let env = envelope::wrap(producer, org, aggregate_id, 0, event);
    let id = env.event_id.clone();
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", id.as_str());
    js.publish_with_headers(
        subjects.event(producer, E::TYPE),
        headers,
        env.encode_to_vec().into(),
    )
    .await
    .map_err(|e| EventsError::Nats(e.to_string()))?
    .await
    .map_err(|e| EventsError::Nats(e.to_string()))?;
    uuid::Uuid::parse_str(&id).map_err(|e| EventsError::Nats(e.to_string()))
}

/// What the crate's macros name, so a service using them needs no
/// dependency of its own on these crates.
#[doc(hidden)]
pub mod __reexport {
    pub use livedesk_platform;
    pub use sea_orm_migration;
}
