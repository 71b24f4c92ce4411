//! The routing gauges (TEN-7): `livedesk_routing_waiting_conversations`
//! and `livedesk_routing_pending_offers`, sampled from the database every
//! `LIVEDESK_ROUTING__GAUGES_MS`.
//!
//! They are totals of the whole service's database, not of one replica:
//! every replica samples and reports the same value, so dashboards and
//! alerts aggregate them with `max()`, never `sum()`.
use std::sync::OnceLock;

use livedesk_platform::Period;
use livedesk_platform::metrics::Gauge;
use livedesk_platform::tasks::every;
use sea_orm::{DatabaseConnection, DbErr};
use tokio_util::sync::CancellationToken;

use crate::store::Backlog;

struct Gauges {
    waiting: Gauge<u64>,
    pending_offers: Gauge<u64>,
}

fn gauges() -> &'static Gauges {
    static G: OnceLock<Gauges> = OnceLock::new();
    G.get_or_init(|| {
        let meter = livedesk_platform::metrics::meter();
        Gauges {
            waiting: meter
                .u64_gauge("livedesk.routing.waiting_conversations")
                .with_description(
                    "conversations queued and not yet assigned, whole database (aggregate replicas with max)",
                )
                .build(),
            pending_offers: meter
                .u64_gauge("livedesk.routing.pending_offers")
                .with_description(
                    "offers waiting for an agent's answer, whole database (aggregate replicas with max)",
                )
                .build(),
        }
    })
}

/// Samples the totals at once, then every `period`, until `shutdown`.
pub async fn run_gauges(db: DatabaseConnection, period: Period, shutdown: CancellationToken) {
    if let Err(e) = sample(&db).await {
        tracing::warn!(task = "routing_gauges", error = %e, "periodic task failed");
    }
    every("routing_gauges", period, shutdown, || sample(&db)).await;
}

async fn sample(db: &DatabaseConnection) -> Result<(), DbErr> {
    let t = Backlog::totals(db).await?;
    let g = gauges();
    g.waiting.record(t.waiting, &[]);
    g.pending_offers.record(t.pending_offers, &[]);
    Ok(())
}
