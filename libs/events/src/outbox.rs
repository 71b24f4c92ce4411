//! Transactional outbox (EVT-2).
//!
//! `stage` writes the envelope into `event_outbox` inside the caller's
//! transaction; after commit the caller hands the staged events to
//! `publish`, which sends them at once (no polling delay on the happy path)
//! and deletes their rows once JetStream acknowledged them. Whatever is left
//! (process crashed after commit, broker down) is republished by
//! `run_relay`, which any number of replicas may run: rows are claimed with
//! `FOR UPDATE SKIP LOCKED`. A row published twice carries the same
//! `Nats-Msg-Id`, so JetStream stores it once; consumers are idempotent for
//! redeliveries beyond the de-duplication window.
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use livedesk_proto::EventType;
use opentelemetry::metrics::Gauge;
use prost::Message;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{EventsError, Subjects, envelope, trace};
use livedesk_platform::db::{stmt, uuid_array};

/// An event written to the outbox, to publish after commit.
#[derive(Debug, Clone)]
pub struct Staged {
    pub event_id: Uuid,
    pub subject: String,
    pub envelope: Bytes,
    pub traceparent: Option<String>,
}

/// The outbox of one service.
#[derive(Clone)]
pub struct Outbox {
    db: DatabaseConnection,
    js: async_nats::jetstream::Context,
    subjects: Subjects,
    producer: &'static str,
    wake: std::sync::Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("producer", &self.producer)
            .finish()
    }
}

const PUBLISH_TIMEOUT: Duration = Duration::from_secs(3);
/// Rows younger than this are left to the immediate publisher.
const RELAY_MIN_AGE_MS: i64 = 1500;

fn lag_gauge() -> &'static Gauge<f64> {
    static G: OnceLock<Gauge<f64>> = OnceLock::new();
    G.get_or_init(|| {
        // Exported as `livedesk_outbox_oldest_age_seconds`; events younger
        // than the relay's minimum age count as 0 (the immediate publisher
        // is still on them).
        livedesk_platform::metrics::meter()
            .f64_gauge("livedesk.outbox.oldest_age")
            .with_unit("s")
            .with_description("age of the oldest unpublished outbox event (outbox lag)")
            .build()
    })
}

impl Outbox {
    /// The outbox of `producer` (the service name, used in subjects).
    pub fn new(
        db: DatabaseConnection,
        js: async_nats::jetstream::Context,
        subjects: Subjects,
        producer: &'static str,
    ) -> Self {
        Self {
            db,
            js,
            subjects,
            producer,
            wake: Default::default(),
        }
    }

    /// The subject naming in use.
    pub fn subjects(&self) -> &Subjects {
        &self.subjects
    }

    /// Writes `event` about `aggregate_id` into the outbox within `txn`.
    pub async fn stage<C: ConnectionTrait, E: EventType>(
        &self,
        txn: &C,
        org: Uuid,
        aggregate_id: impl std::fmt::Display,
        event: &E,
    ) -> Result<Staged, sea_orm::DbErr> {
        let env = envelope::wrap(self.producer, org, &aggregate_id.to_string(), event);
        let event_id =
            Uuid::parse_str(&env.event_id).map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
        let subject = self.subjects.event(self.producer, E::TYPE);
        let bytes = Bytes::from(env.encode_to_vec());
        let traceparent = trace::current_traceparent();
        txn.execute_raw(stmt(
            "INSERT INTO event_outbox (event_id, subject, envelope, traceparent) VALUES ($1, $2, $3, $4)",
            [event_id.into(), subject.clone().into(), bytes.to_vec().into(), traceparent.clone().into()],
        ))
        .await?;
        Ok(Staged {
            event_id,
            subject,
            envelope: bytes,
            traceparent,
        })
    }

    async fn send(&self, staged: &Staged) -> Result<(), EventsError> {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", staged.event_id.to_string().as_str());
        trace::inject(&mut headers, staged.traceparent.as_deref());
        let ack = self
            .js
            .publish_with_headers(staged.subject.clone(), headers, staged.envelope.clone())
            .await
            .map_err(|e| EventsError::Nats(e.to_string()))?;
        tokio::time::timeout(PUBLISH_TIMEOUT, ack)
            .await
            .map_err(|_| EventsError::Nats("publish acknowledgement timed out".into()))?
            .map_err(|e| EventsError::Nats(e.to_string()))?;
        Ok(())
    }

    /// Publishes committed events now and removes them from the outbox.
    /// Failures are left to the relay, never returned: the state change is
    /// committed and its events will follow.
    pub async fn publish(&self, staged: Vec<Staged>) {
        let mut sent = Vec::with_capacity(staged.len());
        for s in &staged {
            match self.send(s).await {
                Ok(()) => sent.push(s.event_id),
                Err(e) => {
                    tracing::warn!(event_id = %s.event_id, error = %e, "publish failed, the relay will retry");
                    self.wake.notify_one();
                    break; // keep order: the relay publishes the rest in sequence
                }
            }
        }
        if !sent.is_empty()
            && let Err(e) = self.delete(&sent).await
        {
            tracing::warn!(error = %e, "could not delete published outbox rows; they will be republished and de-duplicated");
        }
    }

    async fn delete(&self, ids: &[Uuid]) -> Result<(), sea_orm::DbErr> {
        let list = vec![uuid_array(ids)];
        self.db
            .execute_raw(stmt(
                "DELETE FROM event_outbox WHERE event_id = ANY($1)",
                list,
            ))
            .await?;
        Ok(())
    }

    /// Publishes one batch of leftover rows; returns how many were sent.
    pub async fn relay_once(&self, min_age_ms: i64) -> Result<usize, EventsError> {
        let txn = self.db.begin().await?;
        let rows = txn
            .query_all_raw(stmt(
                "SELECT event_id, subject, envelope, traceparent, \
                        EXTRACT(EPOCH FROM (now() - created_at))::float8 AS age \
                 FROM event_outbox \
                 WHERE created_at < now() - make_interval(secs => $1::float8 / 1000) \
                 ORDER BY created_at, event_id LIMIT 200 FOR UPDATE SKIP LOCKED",
                [(min_age_ms as f64).into()],
            ))
            .await?;
        if let Some(first) = rows.first() {
            lag_gauge().record(first.try_get::<f64>("", "age").unwrap_or(0.0), &[]);
        } else {
            lag_gauge().record(0.0, &[]);
        }
        let mut sent = Vec::new();
        let mut failure = None;
        for row in &rows {
            let staged = Staged {
                event_id: row.try_get("", "event_id")?,
                subject: row.try_get("", "subject")?,
                envelope: Bytes::from(row.try_get::<Vec<u8>>("", "envelope")?),
                traceparent: row.try_get("", "traceparent")?,
            };
            match self.send(&staged).await {
                Ok(()) => sent.push(staged.event_id),
                Err(e) => {
                    txn.execute_raw(stmt(
                        "UPDATE event_outbox SET attempts = attempts + 1, last_error = $2 WHERE event_id = $1",
                        [staged.event_id.into(), e.to_string().into()],
                    ))
                    .await?;
                    failure = Some(e);
                    break;
                }
            }
        }
        if !sent.is_empty() {
            let list = vec![uuid_array(&sent)];
            txn.execute_raw(stmt(
                "DELETE FROM event_outbox WHERE event_id = ANY($1)",
                list,
            ))
            .await?;
        }
        txn.commit().await?;
        match failure {
            Some(e) if sent.is_empty() => Err(e),
            _ => Ok(sent.len()),
        }
    }

    /// Relays leftovers until `shutdown`, then flushes what it can.
    pub async fn run_relay(self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(500);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(backoff) => {}
                _ = self.wake.notified() => {
                    // give the broker a moment before retrying a failed publish
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            match self.relay_once(RELAY_MIN_AGE_MS).await {
                Ok(n) if n > 0 => {
                    tracing::info!(count = n, "relayed outbox events");
                    backoff = Duration::from_millis(50);
                }
                Ok(_) => backoff = Duration::from_millis(1000),
                Err(e) => {
                    tracing::warn!(error = %e, "outbox relay failed");
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
        self.flush(Duration::from_secs(5)).await;
    }

    /// Publishes everything left, for up to `deadline` (on shutdown).
    pub async fn flush(&self, deadline: Duration) {
        let until = tokio::time::Instant::now() + deadline;
        while tokio::time::Instant::now() < until {
            match self.relay_once(0).await {
                Ok(0) => return,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox flush failed; the next start will publish the rest");
                    return;
                }
            }
        }
    }
}
