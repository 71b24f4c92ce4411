//! Transactional outbox (EVT-2).
//!
//! `stage` writes the envelope into `event_outbox` inside the caller's
//! transaction; after commit the caller hands the staged events to
//! `publish`, which hands them to the outbox's publisher task and waits
//! for their round. The publisher sends what is handed to it at once (no
//! polling delay on the happy path), in rounds: every event handed over
//! while the previous round was out goes in the next, all its publishes
//! pipelined on the connection before their acknowledgements are awaited,
//! and the rows JetStream acknowledged are deleted with one statement. So
//! concurrent callers share one acknowledgement wait and one delete
//! instead of a round trip and a commit each; and, as a caller returns
//! only once its events were sent or failed, a broker that is away slows
//! the callers (as far as the publish timeout) instead of letting a
//! caller's next events overtake the ones left to the relay. Whatever is left
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
use sea_orm::{ConnectionTrait, DatabaseConnection};
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
    /// The publisher task's queue, once started.
    publisher: std::sync::Arc<OnceLock<tokio::sync::mpsc::Sender<HandOver>>>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("producer", &self.producer)
            .finish()
    }
}

const PUBLISH_TIMEOUT: Duration = Duration::from_secs(3);
/// Hand-overs (one committed transaction's events each) waiting for the
/// publisher at most; beyond, callers wait for room.
const QUEUE: usize = 4096;
/// Events the publisher sends in one round at most.
const ROUND: usize = 256;
/// How long a relay's claim on a batch lasts: longer than a batch may take
/// (it stops early rather than outlive it), short enough that a crashed
/// relay's rows are taken over soon.
const CLAIM: Duration = Duration::from_secs(60);
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
            publisher: Default::default(),
        }
    }

    /// The subject naming in use.
    pub fn subjects(&self) -> &Subjects {
        &self.subjects
    }

    /// Writes `event` about `aggregate_id` into the outbox within `txn`,
    /// as the aggregate's next event (`aggregate_sequence`).
    ///
    /// The aggregate's counter row stays locked until `txn` ends, so two
    /// transactions staging events of one aggregate commit in the order of
    /// their sequences; consumers apply them in that order. A transaction
    /// that stages events of several aggregates should stage them in a
    /// stable order (sorted ids), as it would lock their rows.
    pub async fn stage<C: ConnectionTrait, E: EventType>(
        &self,
        txn: &C,
        org: Uuid,
        aggregate_id: impl std::fmt::Display,
        event: &E,
    ) -> Result<Staged, sea_orm::DbErr> {
        let aggregate_id = aggregate_id.to_string();
        let sequence: i64 = txn
            .query_one_raw(stmt(
                "INSERT INTO event_aggregate_sequences (aggregate_id, last_sequence) VALUES ($1, 1) \
                 ON CONFLICT (aggregate_id) DO UPDATE \
                 SET last_sequence = event_aggregate_sequences.last_sequence + 1 \
                 RETURNING last_sequence",
                [aggregate_id.clone().into()],
            ))
            .await?
            .ok_or_else(|| sea_orm::DbErr::RecordNotInserted)?
            .try_get("", "last_sequence")?;
        let sequence = u64::try_from(sequence)
            .map_err(|_| sea_orm::DbErr::Custom(format!("aggregate sequence {sequence}")))?;
        let env = envelope::wrap(self.producer, org, &aggregate_id, sequence, event);
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

    /// Hands committed events to the publisher task (started on first use)
    /// and waits until their round was sent and its rows deleted, or
    /// failed. Never fails: what was not acknowledged stays in the outbox
    /// for the relay.
    pub async fn publish(&self, staged: Vec<Staged>) {
        if staged.is_empty() {
            return;
        }
        let queue = self.publisher.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
            tokio::spawn(run_publisher(
                self.db.clone(),
                self.js.clone(),
                self.wake.clone(),
                rx,
            ));
            tx
        });
        let (done, sent) = tokio::sync::oneshot::channel();
        if queue.send((staged, done)).await.is_err() {
            self.wake.notify_one();
            return;
        }
        let _ = sent.await;
    }

    /// Publishes one batch of leftover rows; returns how many were sent.
    ///
    /// The batch is claimed in one statement (`claimed_until`, under
    /// `FOR UPDATE SKIP LOCKED` for the instant of the claim), then
    /// published with no transaction open: a slow or absent broker never
    /// holds row locks or a pooled connection in a transaction. Rows are
    /// sent oldest first and the batch stops at the first failure, whose
    /// row and the unsent rest are released at once for the next attempt,
    /// so the order is kept. A relay that dies mid-batch leaves its claim
    /// to expire ([`CLAIM`]); whatever it had sent is de-duplicated by
    /// `Nats-Msg-Id`. The batch also stops before the claim could expire.
    pub async fn relay_once(&self, min_age_ms: i64) -> Result<usize, EventsError> {
        let started = tokio::time::Instant::now();
        let mut rows = self
            .db
            .query_all_raw(stmt(
                "UPDATE event_outbox o SET claimed_until = now() + make_interval(secs => $2::float8) \
                 FROM (SELECT event_id FROM event_outbox \
                       WHERE created_at < now() - make_interval(secs => $1::float8 / 1000) \
                         AND (claimed_until IS NULL OR claimed_until < now()) \
                       ORDER BY created_at, event_id LIMIT 200 FOR UPDATE SKIP LOCKED) c \
                 WHERE o.event_id = c.event_id \
                 RETURNING o.event_id, o.subject, o.envelope, o.traceparent, o.created_at, \
                           EXTRACT(EPOCH FROM (now() - o.created_at))::float8 AS age",
                [(min_age_ms as f64).into(), CLAIM.as_secs_f64().into()],
            ))
            .await?
            .into_iter()
            .map(|row| {
                Ok((
                    row.try_get::<chrono::DateTime<chrono::Utc>>("", "created_at")?,
                    row.try_get::<f64>("", "age")?,
                    Staged {
                        event_id: row.try_get("", "event_id")?,
                        subject: row.try_get("", "subject")?,
                        envelope: Bytes::from(row.try_get::<Vec<u8>>("", "envelope")?),
                        traceparent: row.try_get("", "traceparent")?,
                    },
                ))
            })
            .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
        // RETURNING has no order: the claim's order is restored here.
        rows.sort_by_key(|(at, _, s)| (*at, s.event_id));
        lag_gauge().record(rows.first().map_or(0.0, |(_, age, _)| *age), &[]);
        let mut sent = Vec::new();
        let mut failure = None;
        for (_, _, staged) in &rows {
            if started.elapsed() + PUBLISH_TIMEOUT >= CLAIM {
                break; // the claim could lapse mid-send: leave the rest
            }
            match send(&self.js, staged).await {
                Ok(()) => sent.push(staged.event_id),
                Err(e) => {
                    self.db
                        .execute_raw(stmt(
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
            delete(&self.db, &sent).await?;
        }
        let unsent: Vec<Uuid> = rows
            .iter()
            .map(|(_, _, s)| s.event_id)
            .filter(|id| !sent.contains(id))
            .collect();
        if !unsent.is_empty() {
            self.db
                .execute_raw(stmt(
                    "UPDATE event_outbox SET claimed_until = NULL WHERE event_id = ANY($1)",
                    [uuid_array(&unsent)],
                ))
                .await?;
        }
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

/// Sends `staged` and waits for JetStream's acknowledgement.
async fn send(js: &async_nats::jetstream::Context, staged: &Staged) -> Result<(), EventsError> {
    let ack = js
        .publish_with_headers(
            staged.subject.clone(),
            headers(staged),
            staged.envelope.clone(),
        )
        .await
        .map_err(|e| EventsError::Nats(e.to_string()))?;
    tokio::time::timeout(PUBLISH_TIMEOUT, ack)
        .await
        .map_err(|_| EventsError::Nats("publish acknowledgement timed out".into()))?
        .map_err(|e| EventsError::Nats(e.to_string()))?;
    Ok(())
}

/// The headers of `staged`: its event id for JetStream's de-duplication,
/// and its trace.
fn headers(staged: &Staged) -> async_nats::HeaderMap {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", staged.event_id.to_string().as_str());
    trace::inject(&mut headers, staged.traceparent.as_deref());
    headers
}

/// Removes published rows.
async fn delete(db: &DatabaseConnection, ids: &[Uuid]) -> Result<(), sea_orm::DbErr> {
    db.execute_raw(stmt(
        "DELETE FROM event_outbox WHERE event_id = ANY($1)",
        [uuid_array(ids)],
    ))
    .await?;
    Ok(())
}

/// One caller's committed events, and how it is told its round is over.
type HandOver = (Vec<Staged>, tokio::sync::oneshot::Sender<()>);

/// The publisher task: sends what is handed over, a round at a time, until
/// every `Outbox` handle is gone.
async fn run_publisher(
    db: DatabaseConnection,
    js: async_nats::jetstream::Context,
    wake: std::sync::Arc<tokio::sync::Notify>,
    mut queue: tokio::sync::mpsc::Receiver<HandOver>,
) {
    while let Some((first, done)) = queue.recv().await {
        let mut round = first;
        let mut waiting = vec![done];
        while round.len() < ROUND {
            match queue.try_recv() {
                Ok((more, done)) => {
                    round.extend(more);
                    waiting.push(done);
                }
                Err(_) => break,
            }
        }
        let sent = send_round(&js, &round).await;
        if sent.len() < round.len() {
            // The rest stays in the outbox, in order, for the relay.
            wake.notify_one();
        }
        if !sent.is_empty()
            && let Err(e) = delete(&db, &sent).await
        {
            tracing::warn!(error = %e, "could not delete published outbox rows; they will be republished and de-duplicated");
        }
        for done in waiting {
            let _ = done.send(());
        }
    }
}

/// Publishes `round` in order, every publish pipelined before the
/// acknowledgements are awaited; returns the ids acknowledged, up to the
/// first failure (what follows it is left to the relay, which keeps the
/// order; a later one JetStream stored anyway is de-duplicated when the
/// relay sends it again).
async fn send_round(js: &async_nats::jetstream::Context, round: &[Staged]) -> Vec<Uuid> {
    let mut pending = Vec::with_capacity(round.len());
    for s in round {
        match js
            .publish_with_headers(s.subject.clone(), headers(s), s.envelope.clone())
            .await
        {
            Ok(ack) => pending.push((s.event_id, ack)),
            Err(e) => {
                tracing::warn!(event_id = %s.event_id, error = %e, "publish failed, the relay will retry");
                break;
            }
        }
    }
    let mut sent = Vec::with_capacity(pending.len());
    for (id, ack) in pending {
        match tokio::time::timeout(PUBLISH_TIMEOUT, ack).await {
            Ok(Ok(_)) => sent.push(id),
            Ok(Err(e)) => {
                tracing::warn!(event_id = %id, error = %e, "publish not acknowledged, the relay will retry");
                break;
            }
            Err(_) => {
                tracing::warn!(event_id = %id, "publish acknowledgement timed out, the relay will retry");
                break;
            }
        }
    }
    sent
}
