//! The routing gauges (TEN-7): `livedesk_routing_waiting_conversations`
//! and `livedesk_routing_pending_offers`, sampled from the database every
//! `LIVEDESK_ROUTING__GAUGES_MS`.
//!
//! They are totals of the whole service's database, not of one replica:
//! every replica samples and reports the same value, so dashboards and
//! alerts aggregate them with `max()`, never `sum()`.
use std::sync::OnceLock;
use std::time::Duration;

use livedesk_platform::metrics::Gauge;
use sea_orm::DatabaseConnection;
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
pub async fn run_gauges(db: DatabaseConnection, period: Duration, shutdown: CancellationToken) {
    loop {
        match Backlog::totals(&db).await {
            Ok(t) => {
                let g = gauges();
                g.waiting.record(t.waiting, &[]);
                g.pending_offers.record(t.pending_offers, &[]);
            }
            Err(e) => tracing::warn!(error = %e, "sampling the routing gauges failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
        }
    }
}
