//! Durable JetStream consumers (EVT-3): explicit ack, idempotent by event
//! id, dead letters after N failed deliveries.
//!
//! Exactly-once *effects* per consumer: the handler runs inside a
//! transaction that also inserts `(consumer, event_id)` into
//! `processed_events`; a redelivered event finds the row and is only acked.
//! Events the handler stages are published after commit, then the message
//! is acked. A crash anywhere before the ack means redelivery, never loss.
//!
//! Order per aggregate: every event carries its place among its
//! aggregate's events (`aggregate_sequence`, assigned by the producer's
//! outbox in the committing transaction), and each consumer keeps its
//! position in each aggregate (`event_consumer_positions`, moved in the
//! handler's transaction). An event is applied only when it is the next
//! one. One that comes early (its predecessor is still to be redelivered
//! after a crash, or still in the producer's outbox after a failed publish)
//! is parked in its lane, kept from redelivery, and retried when the lane
//! applies an event of that aggregate and every second; the lane goes on
//! with other events meanwhile. A predecessor that never comes within
//! `gap_wait` (expired from the stream, lost by the broker) is skipped, and
//! should it arrive after all it is dead-lettered, never applied out of
//! order. A dead-lettered event moves the position past it, so its
//! successors are not held.
//!
//! Within one process, all events of one aggregate go to one lane, and a
//! transient failure is retried *in* the lane, with backoff, while the
//! server is told the message is still in progress. Handing it back to the
//! server (a delayed NAK) would let the lane go on with the aggregate's
//! next event, so the retried one would be applied after it. The lane is
//! blocked meanwhile, which is the price of order; after
//! `max_deliveries` attempts the event is dead-lettered and the lane moves
//! on. Only a stop hands an unfinished event back, and then every event
//! still queued in that lane goes back with it, so none overtakes it. A
//! database that cannot be reached (restart, failover, cut link) is waited
//! for without using up attempts: the event is not at fault, and
//! dead-lettering it would lose it.
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures::StreamExt;
use livedesk_proto::events::v1::DeadLetter;
use opentelemetry::KeyValue;
use opentelemetry::metrics::Gauge;
use prost::Message;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, TransactionTrait};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{Outbox, ReceivedEvent, Staged, Subjects, trace};
use livedesk_platform::db::stmt;

mod batch;

/// Why a handler could not process an event.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct HandlerError {
    pub message: String,
    /// Retrying cannot help (malformed event): dead-letter at once.
    pub permanent: bool,
    /// The database could not be reached: the event is not at fault, so
    /// the wait does not count towards dead-lettering it.
    pub unavailable: bool,
}

impl HandlerError {
    /// A failure worth retrying (database busy, peer unavailable).
    pub fn transient(e: impl std::fmt::Display) -> Self {
        Self {
            message: e.to_string(),
            permanent: false,
            unavailable: false,
        }
    }

    /// A failure retrying cannot fix.
    pub fn permanent(e: impl std::fmt::Display) -> Self {
        Self {
            message: e.to_string(),
            permanent: true,
            unavailable: false,
        }
    }
}

impl From<sea_orm::DbErr> for HandlerError {
    fn from(e: sea_orm::DbErr) -> Self {
        let unavailable = livedesk_platform::db::is_unavailable(&e);
        Self {
            unavailable,
            ..Self::transient(e)
        }
    }
}

impl From<prost::DecodeError> for HandlerError {
    fn from(e: prost::DecodeError) -> Self {
        Self::permanent(e)
    }
}

/// Reacts to events. Unknown event types should return `Ok(vec![])`.
pub trait EventHandler: Send + Sync + 'static {
    /// Applies `event` inside `txn`; returns events staged in the same
    /// transaction, published after commit.
    fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> impl Future<Output = Result<Vec<Staged>, HandlerError>> + Send;

    /// At most this many events are handed to [`EventHandler::handle_batch`]
    /// in one transaction. 1 (the default) is one event per transaction.
    ///
    /// A handler raises it only when handling several events in one
    /// transaction cannot deadlock with another transaction doing the same
    /// (another lane, another replica): rows that events of different
    /// aggregates share are written once, at the end, in one global order.
    /// A batch is what turns a row every event updates (a recipient's feed
    /// sequence) from one commit per event into one per batch.
    const BATCH: usize = 1;

    /// Lanes of the handler's consumer ([`ConsumerConfig::lanes`]). A
    /// batching handler whose events share rows (every message to one
    /// agent's feed) does better with few lanes: the batches grow instead
    /// of queueing one behind the other on the shared rows.
    const LANES: usize = 8;

    /// Applies `events` inside `txn`, in order (an aggregate's events in
    /// sequence); returns every event staged, in order. Each event has
    /// passed the idempotency and order checks. The default handles them
    /// one after the other with [`EventHandler::handle`].
    fn handle_batch(
        &self,
        txn: &DatabaseTransaction,
        events: &[&ReceivedEvent],
    ) -> impl Future<Output = Result<Vec<Staged>, HandlerError>> + Send {
        async move {
            let mut staged = Vec::new();
            for event in events {
                staged.extend(self.handle(txn, event).await?);
            }
            Ok(staged)
        }
    }

    /// Runs after commit (e.g. waking realtime subscribers). Best effort.
    fn after_commit(&self, _event: &ReceivedEvent) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// One durable consumer of one producer's stream.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// The consuming service.
    pub service: &'static str,
    /// The producing service whose stream is read.
    pub producer: &'static str,
    /// Deliveries before an event is dead-lettered.
    pub max_deliveries: i64,
    /// How long the server waits for an ack before redelivering.
    pub ack_wait: Duration,
    /// Events of different aggregates are handled concurrently in this many
    /// lanes; events of one aggregate always go to the same lane, so their
    /// order is kept (a conversation's messages stay in sequence).
    pub lanes: usize,
    /// How long an event that came before its aggregate's previous one
    /// waits for it before the gap is skipped. Longer than a crashed
    /// consumer's events take to come back (`ack_wait`) and a crashed
    /// relay's claim to lapse (60 s), so only a predecessor that is gone
    /// (expired from the stream, lost by the broker) is skipped.
    pub gap_wait: Duration,
}

impl ConsumerConfig {
    /// The configuration of `handler`'s consumer: the defaults with the
    /// handler's [`EventHandler::LANES`].
    pub fn for_handler<H: EventHandler>(service: &'static str, producer: &'static str) -> Self {
        Self {
            lanes: H::LANES,
            ..Self::new(service, producer)
        }
    }

    /// Defaults: 5 deliveries, 30 s ack wait, 8 lanes, 5 min gap wait.
    pub fn new(service: &'static str, producer: &'static str) -> Self {
        Self {
            service,
            producer,
            max_deliveries: 5,
            ack_wait: Duration::from_secs(30),
            lanes: 8,
            gap_wait: Duration::from_secs(300),
        }
    }
}

fn gaps_counter() -> &'static opentelemetry::metrics::Counter<u64> {
    static C: OnceLock<opentelemetry::metrics::Counter<u64>> = OnceLock::new();
    C.get_or_init(|| {
        // Exported as `livedesk_consumer_sequence_gaps_skipped_total{consumer}`.
        livedesk_platform::metrics::meter()
            .u64_counter("livedesk.consumer.sequence_gaps_skipped")
            .with_description(
                "events applied although an earlier event of their aggregate never arrived within the gap wait",
            )
            .build()
    })
}

fn pending_gauge() -> &'static Gauge<u64> {
    static G: OnceLock<Gauge<u64>> = OnceLock::new();
    G.get_or_init(|| {
        // Exported as `livedesk_consumer_pending_messages{consumer}`.
        livedesk_platform::metrics::meter()
            .u64_gauge("livedesk.consumer.pending_messages")
            .with_description(
                "events of a durable consumer not yet handled: undelivered plus delivered but unacknowledged (consumer lag)",
            )
            .build()
    })
}

fn record_pending(info: &jetstream::consumer::Info, name: &str) {
    pending_gauge().record(
        info.num_pending + info.num_ack_pending as u64,
        &[KeyValue::new("consumer", name.to_owned())],
    );
}

/// Everything a consumer loop needs.
#[derive(Clone)]
pub struct ConsumerContext {
    pub db: DatabaseConnection,
    pub js: jetstream::Context,
    pub subjects: Subjects,
    /// Publishes what handlers stage; `None` for services that only consume.
    pub outbox: Option<Outbox>,
}

/// Consumes until `shutdown`, reconnecting after broker outages.
pub async fn run<H: EventHandler>(
    ctx: ConsumerContext,
    handler: Arc<H>,
    cfg: ConsumerConfig,
    shutdown: CancellationToken,
) {
    let name = ctx.subjects.consumer_name(cfg.service, cfg.producer);
    let mut retry = Duration::from_millis(200);
    while !shutdown.is_cancelled() {
        match consume(&ctx, &handler, &cfg, &name, &shutdown).await {
            Ok(()) => break,
            Err(e) => {
                tracing::warn!(consumer = %name, error = %e, "consumer interrupted, reconnecting");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(retry) => {}
                }
                retry = (retry * 2).min(Duration::from_secs(5));
            }
        }
    }
    tracing::debug!(consumer = %name, "consumer stopped");
}

async fn consume<H: EventHandler>(
    ctx: &ConsumerContext,
    handler: &Arc<H>,
    cfg: &ConsumerConfig,
    name: &str,
    shutdown: &CancellationToken,
) -> Result<(), String> {
    crate::ensure_streams(&ctx.js, &ctx.subjects, &[cfg.producer])
        .await
        .map_err(|e| e.to_string())?;
    let stream = ctx
        .js
        .get_stream(ctx.subjects.stream_name(cfg.producer))
        .await
        .map_err(|e| e.to_string())?;
    let mut consumer: jetstream::consumer::Consumer<pull::Config> = stream
        .get_or_create_consumer(
            name,
            pull::Config {
                durable_name: Some(name.to_owned()),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: cfg.ack_wait,
                // Unlimited at the server: this loop dead-letters itself, so
                // nothing is silently dropped by max_deliver.
                max_deliver: -1,
                deliver_policy: jetstream::consumer::DeliverPolicy::All,
                max_ack_pending: 1000,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    if let Ok(info) = consumer.info().await {
        record_pending(info, name);
    }
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(100)
        .heartbeat(Duration::from_secs(5))
        .expires(Duration::from_secs(30))
        .messages()
        .await
        .map_err(|e| e.to_string())?;
    let lanes = Lanes::start(ctx, handler, cfg, name, shutdown);
    let mut lag_tick = tokio::time::interval(Duration::from_secs(15));
    let outcome = loop {
        let msg = tokio::select! {
            _ = shutdown.cancelled() => break Ok(()),
            _ = lag_tick.tick() => {
                if let Ok(info) = consumer.info().await {
                    record_pending(info, name);
                }
                continue;
            }
            m = messages.next() => m,
        };
        match msg {
            None => break Err("message stream ended".into()),
            Some(Err(e)) => break Err(e.to_string()),
            Some(Ok(m)) => lanes.dispatch(m).await,
        }
    };
    lanes.stop().await;
    outcome
}

/// Per-aggregate ordered, cross-aggregate concurrent handling.
struct Lanes {
    senders: Vec<tokio::sync::mpsc::Sender<Dispatched>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Lanes {
    fn start<H: EventHandler>(
        ctx: &ConsumerContext,
        handler: &Arc<H>,
        cfg: &ConsumerConfig,
        name: &str,
        stop: &CancellationToken,
    ) -> Self {
        let mut senders = Vec::new();
        let mut tasks = Vec::new();
        for _ in 0..cfg.lanes.max(1) {
            // Room for a whole batch behind the one being applied.
            let (tx, rx) = tokio::sync::mpsc::channel::<Dispatched>(H::BATCH.clamp(32, 256));
            let lane = Lane {
                ctx: ctx.clone(),
                handler: handler.clone(),
                cfg: cfg.clone(),
                name: name.to_owned(),
                stop: stop.clone(),
                parked: Vec::new(),
            };
            tasks.push(tokio::spawn(lane.run(rx)));
            senders.push(tx);
        }
        Self { senders, tasks }
    }

    /// Queues `msg` on the lane of its aggregate (waits when that lane is
    /// full: back-pressure on the pull).
    /// The envelope is decoded once, here, and travels with the message.
    async fn dispatch(&self, msg: jetstream::Message) {
        let event = ReceivedEvent::decode(&msg.subject, &msg.payload);
        let key = event
            .as_ref()
            .map(|e| e.envelope.aggregate_id.as_str())
            .unwrap_or_default();
        let lane = lane_of(key, self.senders.len());
        if let Err(returned) = self.senders[lane].send((msg, event)).await {
            // The lane died (a panicking handler): let the server redeliver now.
            ack(&(returned.0).0, AckKind::Nak(None)).await;
        }
    }

    /// Lets every lane finish what it holds, then returns. Messages not yet
    /// handled are finished, not dropped: a graceful stop loses no ack.
    async fn stop(self) {
        drop(self.senders);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// A message as a lane receives it: with its envelope decoded, or why it
/// could not be.
type Dispatched = (jetstream::Message, Result<ReceivedEvent, String>);

/// An event that came before its aggregate's previous one, held (not
/// acknowledged, kept from redelivery) until that one is applied.
struct Parked {
    msg: jetstream::Message,
    event: ReceivedEvent,
    since: tokio::time::Instant,
}

/// How often parked events are retried (and kept from redelivery): well
/// under any `ack_wait`.
const PARKED_RETRY: Duration = Duration::from_secs(1);

/// One lane: handles its events in arrival order, parking those that come
/// early.
struct Lane<H> {
    ctx: ConsumerContext,
    handler: Arc<H>,
    cfg: ConsumerConfig,
    name: String,
    stop: CancellationToken,
    parked: Vec<Parked>,
}

impl<H: EventHandler> Lane<H> {
    async fn run(mut self, mut rx: tokio::sync::mpsc::Receiver<Dispatched>) {
        let mut handed_back = false;
        let mut tick = tokio::time::interval(PARKED_RETRY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let first = tokio::select! {
                m = rx.recv() => match m {
                    Some(m) => m,
                    None => break,
                },
                _ = tick.tick(), if !self.parked.is_empty() && !handed_back => {
                    self.retry_parked(None).await;
                    continue;
                }
            };
            // Whatever else is already queued joins it, up to the
            // handler's batch: a batch grows with the backlog and costs no
            // wait when there is none.
            let mut arrived = vec![first];
            while arrived.len() < H::BATCH.max(1) {
                match rx.try_recv() {
                    Ok(m) => arrived.push(m),
                    Err(_) => break,
                }
            }
            let mut events = Vec::with_capacity(arrived.len());
            for (msg, event) in arrived {
                if handed_back {
                    // Behind an event handed back at stop: back too, so
                    // that it is not applied before that one.
                    ack(&msg, AckKind::Nak(None)).await;
                    continue;
                }
                match event {
                    Ok(e) => events.push((msg, e)),
                    Err(err) => {
                        let attempt = msg.info().map(|i| i.delivered).unwrap_or(1);
                        dead_letter(&self.ctx, &self.name, &msg, None, &err, attempt).await;
                    }
                }
            }
            if events.len() > 1 {
                events = self.process_batch(events).await;
            }
            for (msg, event) in events {
                if handed_back {
                    ack(&msg, AckKind::Nak(None)).await;
                } else {
                    handed_back = self.process_one(msg, event).await;
                }
            }
        }
        // Stopping: parked events go back to the server for the next run.
        for p in self.parked.drain(..) {
            ack(&p.msg, AckKind::Nak(None)).await;
        }
    }

    /// Handles one event on its own (retrying in the lane); whether it was
    /// handed back at stop.
    async fn process_one(&mut self, msg: jetstream::Message, event: ReceivedEvent) -> bool {
        match self.process(&msg, &event, false).await {
            Processed::HandedBack => return true,
            Processed::Early => self.parked.push(Parked {
                msg,
                event,
                since: tokio::time::Instant::now(),
            }),
            Processed::Finished => {
                // It may be the predecessor a parked event waits for.
                self.retry_parked_of([event.envelope.aggregate_id.as_str()])
                    .await;
            }
        }
        false
    }

    /// Retries the parked events of `aggregates` (one of their events was
    /// just applied).
    async fn retry_parked_of<'a>(&mut self, aggregates: impl IntoIterator<Item = &'a str>) {
        for aggregate in aggregates {
            if self
                .parked
                .iter()
                .any(|p| p.event.envelope.aggregate_id == aggregate)
            {
                self.retry_parked(Some(aggregate)).await;
            }
        }
    }

    /// Applies `events` in one transaction ([`batch::apply`]); then
    /// publishes, acknowledges, parks or dead-letters each as its verdict
    /// says. When the transaction fails, nothing of it stays and the events
    /// are returned, to be handled one by one (with the retries, backoff
    /// and dead letters of a single event): a failing event costs its
    /// batch one rollback, never an effect or its neighbours' order.
    async fn process_batch(
        &mut self,
        events: Vec<(jetstream::Message, ReceivedEvent)>,
    ) -> Vec<(jetstream::Message, ReceivedEvent)> {
        let span = tracing::info_span!("event_batch", consumer = %self.name, size = events.len());
        let refs: Vec<&ReceivedEvent> = events.iter().map(|(_, e)| e).collect();
        let (verdicts, staged) =
            match batch::apply(&self.ctx, self.handler.as_ref(), &self.name, &refs)
                .instrument(span.clone())
                .await
            {
                Ok(done) => done,
                Err(e) => {
                    tracing::debug!(consumer = %self.name, size = events.len(), error = %e,
                        "batch rolled back; its events are handled one by one");
                    return events;
                }
            };
        if let Some(outbox) = &self.ctx.outbox {
            outbox.publish(staged).instrument(span.clone()).await;
        }
        let mut applied: Vec<String> = Vec::new();
        for ((msg, event), verdict) in events.into_iter().zip(verdicts) {
            match verdict {
                batch::Verdict::Done => {
                    self.handler
                        .after_commit(&event)
                        .instrument(span.clone())
                        .await;
                    ack(&msg, AckKind::Ack).await;
                    applied.push(event.envelope.aggregate_id.clone());
                }
                batch::Verdict::Duplicate => ack(&msg, AckKind::Ack).await,
                batch::Verdict::Early => self.parked.push(Parked {
                    msg,
                    event,
                    since: tokio::time::Instant::now(),
                }),
                batch::Verdict::Late { last } => {
                    let attempt = msg.info().map(|i| i.delivered).unwrap_or(1);
                    let why = late(&event, last);
                    dead_letter(&self.ctx, &self.name, &msg, Some(&event), &why, attempt).await;
                }
            }
        }
        applied.sort();
        applied.dedup();
        self.retry_parked_of(applied.iter().map(String::as_str))
            .await;
        Vec::new()
    }

    /// Retries parked events (of `aggregate`, or all), each aggregate's in
    /// sequence order; those still early stay parked and are kept from
    /// redelivery. One that waited `gap_wait` is applied over the gap.
    async fn retry_parked(&mut self, aggregate: Option<&str>) {
        let mut parked = std::mem::take(&mut self.parked);
        parked.sort_by(|a, b| {
            (
                &a.event.envelope.aggregate_id,
                a.event.envelope.aggregate_sequence,
            )
                .cmp(&(
                    &b.event.envelope.aggregate_id,
                    b.event.envelope.aggregate_sequence,
                ))
        });
        for p in parked {
            if aggregate.is_some_and(|a| a != p.event.envelope.aggregate_id)
                || self.stop.is_cancelled()
            {
                self.parked.push(p);
                continue;
            }
            let over_gap = p.since.elapsed() >= self.cfg.gap_wait;
            match self.process(&p.msg, &p.event, over_gap).await {
                Processed::Early => {
                    ack(&p.msg, AckKind::Progress).await;
                    self.parked.push(p);
                }
                Processed::HandedBack | Processed::Finished => {}
            }
        }
    }

    async fn process(
        &self,
        msg: &jetstream::Message,
        event: &ReceivedEvent,
        over_gap: bool,
    ) -> Processed {
        process(
            &self.ctx,
            self.handler.as_ref(),
            &self.cfg,
            &self.name,
            msg,
            event,
            &self.stop,
            over_gap,
        )
        .await
    }
}

/// Stable lane of an aggregate (FNV-1a: no per-process random seed, so
/// every replica and restart agrees).
fn lane_of(key: &str, lanes: usize) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.as_bytes() {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % lanes.max(1) as u64) as usize
}

/// What became of one message.
#[derive(Debug)]
enum Processed {
    /// Acknowledged (applied, a duplicate) or dead-lettered.
    Finished,
    /// Handed back to the server unfinished, at stop.
    HandedBack,
    /// Not applied: an earlier event of its aggregate is still to come.
    /// Not acknowledged; the lane parks it.
    Early,
}

/// The wait before attempt `attempt + 1` (the first retry waits 400 ms,
/// then doubling up to 12.8 s).
fn backoff(attempt: i64) -> Duration {
    Duration::from_millis(200 * 2u64.pow(attempt.clamp(1, 6) as u32))
}

#[allow(clippy::too_many_arguments)]
async fn process<H: EventHandler>(
    ctx: &ConsumerContext,
    handler: &H,
    cfg: &ConsumerConfig,
    name: &str,
    msg: &jetstream::Message,
    event: &ReceivedEvent,
    stop: &CancellationToken,
    over_gap: bool,
) -> Processed {
    // Attempts so far, counting the server's earlier deliveries (another
    // replica, or this one before a restart, may have tried already).
    let mut attempt = msg.info().map(|i| i.delivered).unwrap_or(1);
    let mut waits = 0;
    let span = tracing::info_span!("event", consumer = %name, event_type = %event.envelope.r#type, event_id = %event.event_id);
    trace::set_parent(&span, msg.headers.as_ref());
    loop {
        let outcome = apply(ctx, handler, name, event, over_gap)
            .instrument(span.clone())
            .await;
        match outcome {
            Ok(Applied::Done(staged)) => {
                if over_gap {
                    tracing::error!(consumer = %name, aggregate_id = %event.envelope.aggregate_id,
                        sequence = event.envelope.aggregate_sequence,
                        "an earlier event of this aggregate never arrived; applied over the gap");
                    gaps_counter().add(1, &[KeyValue::new("consumer", name.to_owned())]);
                }
                if let Some(outbox) = &ctx.outbox {
                    outbox.publish(staged).instrument(span.clone()).await;
                }
                handler.after_commit(event).instrument(span).await;
                ack(msg, AckKind::Ack).await;
                return Processed::Finished;
            }
            Ok(Applied::Duplicate) => {
                ack(msg, AckKind::Ack).await;
                return Processed::Finished;
            }
            Ok(Applied::Early) => return Processed::Early,
            Ok(Applied::Late { last }) => {
                let why = late(event, last);
                dead_letter(ctx, name, msg, Some(event), &why, attempt).await;
                return Processed::Finished;
            }
            Err(e) if e.permanent || (!e.unavailable && attempt >= cfg.max_deliveries) => {
                dead_letter(ctx, name, msg, Some(event), &e.message, attempt).await;
                return Processed::Finished;
            }
            Err(e) => {
                tracing::warn!(consumer = %name, event_id = %event.event_id, attempt, error = %e, "event handling failed, retrying in its lane");
                // Still ours: the server must not redeliver it elsewhere
                // while the lane waits (its ack wait starts again).
                ack(msg, AckKind::Progress).await;
                // An unreachable database is waited for (every 400 ms to
                // 12.8 s) without using up the event's attempts.
                waits += 1;
                tokio::select! {
                    _ = stop.cancelled() => {
                        ack(msg, AckKind::Nak(None)).await;
                        return Processed::HandedBack;
                    }
                    _ = tokio::time::sleep(backoff(waits)) => {}
                }
                ack(msg, AckKind::Progress).await;
                if !e.unavailable {
                    attempt += 1;
                }
            }
        }
    }
}

enum Applied {
    Done(Vec<Staged>),
    Duplicate,
    /// An earlier event of the aggregate has not been applied yet.
    Early,
    /// Never applied, but the aggregate is past it (a gap was skipped).
    Late {
        last: i64,
    },
}

/// Why an event that came after its aggregate moved past it is
/// dead-lettered.
fn late(event: &ReceivedEvent, last: i64) -> String {
    format!(
        "event {} of aggregate {} arrived after event {last} was applied over a gap; \
         applying it now would reorder the aggregate",
        event.envelope.aggregate_sequence, event.envelope.aggregate_id
    )
}

/// The event's place in its aggregate, as stored (0: not sequenced).
pub(crate) fn sequence_of(event: &ReceivedEvent) -> Result<i64, HandlerError> {
    i64::try_from(event.envelope.aggregate_sequence).map_err(HandlerError::permanent)
}

async fn apply<H: EventHandler>(
    ctx: &ConsumerContext,
    handler: &H,
    name: &str,
    event: &ReceivedEvent,
    over_gap: bool,
) -> Result<Applied, HandlerError> {
    let sequence = sequence_of(event)?;
    let aggregate = &event.envelope.aggregate_id;
    let txn = ctx.db.begin().await?;
    let fresh = txn
        .execute_raw(stmt(
            "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [name.to_owned().into(), event.event_id.into()],
        ))
        .await?
        .rows_affected()
        == 1;
    if !fresh {
        txn.rollback().await?;
        return Ok(Applied::Duplicate);
    }
    if sequence > 0 {
        // Locked until commit: a replica applying this aggregate's previous
        // event is waited for, so the position read here is final.
        let last = txn
            .query_one_raw(stmt(
                "SELECT last_sequence FROM event_consumer_positions \
                 WHERE consumer = $1 AND aggregate_id = $2 FOR UPDATE",
                [name.to_owned().into(), aggregate.clone().into()],
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "last_sequence"))
            .transpose()?
            .unwrap_or(0);
        if sequence <= last {
            txn.rollback().await?;
            return Ok(Applied::Late { last });
        }
        if sequence > last + 1 && !over_gap {
            txn.rollback().await?;
            return Ok(Applied::Early);
        }
    }
    let staged = handler.handle(&txn, event).await?;
    if sequence > 0 {
        advance(&txn, name, aggregate, sequence).await?;
    }
    txn.commit().await?;
    Ok(Applied::Done(staged))
}

/// Moves `consumer`'s position in `aggregate` to `sequence` (never back).
async fn advance<C: ConnectionTrait>(
    db: &C,
    consumer: &str,
    aggregate: &str,
    sequence: i64,
) -> Result<(), sea_orm::DbErr> {
    db.execute_raw(stmt(
        "INSERT INTO event_consumer_positions (consumer, aggregate_id, last_sequence) VALUES ($1, $2, $3) \
         ON CONFLICT (consumer, aggregate_id) DO UPDATE \
         SET last_sequence = GREATEST(event_consumer_positions.last_sequence, EXCLUDED.last_sequence)",
        [consumer.to_owned().into(), aggregate.to_owned().into(), sequence.into()],
    ))
    .await?;
    Ok(())
}

async fn ack(msg: &jetstream::Message, kind: AckKind) {
    if let Err(e) = msg.ack_with(kind).await {
        // The server redelivers after ack_wait; idempotency absorbs it.
        tracing::warn!(error = %e, "ack failed");
    }
}

async fn dead_letter(
    ctx: &ConsumerContext,
    name: &str,
    msg: &jetstream::Message,
    event: Option<&ReceivedEvent>,
    error: &str,
    deliveries: i64,
) {
    tracing::error!(consumer = %name, subject = %msg.subject, deliveries, error, "dead-lettering event");
    let letter = DeadLetter {
        envelope: event.map(|e| e.envelope.clone()),
        consumer: name.to_owned(),
        error: error.to_owned(),
        deliveries: u32::try_from(deliveries).unwrap_or(u32::MAX),
        dead_at: Some(livedesk_platform::time::to_proto(chrono::Utc::now())),
        original_subject: msg.subject.to_string(),
    };
    let published = match ctx
        .js
        .publish(ctx.subjects.dlq(name), letter.encode_to_vec().into())
        .await
    {
        Ok(ack_future) => ack_future.await.is_ok(),
        Err(_) => false,
    };
    if published {
        // Set aside, so its aggregate's next events are not held for it.
        if let Some(e) = event
            && let Ok(sequence) = sequence_of(e)
            && sequence > 0
            && let Err(err) = advance(&ctx.db, name, &e.envelope.aggregate_id, sequence).await
        {
            tracing::warn!(consumer = %name, error = %err,
                "could not move past a dead-lettered event; its successors wait for the gap wait");
        }
        ack(msg, AckKind::Term).await;
    } else {
        // Keep the event rather than lose it: retry later.
        ack(msg, AckKind::Nak(Some(Duration::from_secs(5)))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::lane_of;

    #[test]
    fn an_aggregate_always_maps_to_the_same_lane_and_lanes_are_used() {
        assert_eq!(lane_of("conversation-1", 8), lane_of("conversation-1", 8));
        let used: std::collections::BTreeSet<usize> =
            (0..200).map(|i| lane_of(&format!("c{i}"), 8)).collect();
        assert_eq!(used.len(), 8);
        assert_eq!(lane_of("anything", 1), 0);
    }
}
