//! Service-wide backlog totals for the routing gauges (TEN-7). Unlike every
//! other query of routing these are not scoped by org: they are operator
//! figures about the whole database, exported without any tenant label.
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr};

/// Counts across every org.
pub struct Backlog;

/// What the gauges show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Conversations queued and not yet assigned (offered ones included).
    pub waiting: u64,
    /// Offers waiting for an agent's answer.
    pub pending_offers: u64,
}

impl Backlog {
    /// Both totals in one round trip.
    pub async fn totals<C: ConnectionTrait>(db: &C) -> Result<Totals, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT (SELECT count(*) FROM queue_entries WHERE status = 'queued') AS waiting, \
                        (SELECT count(*) FROM offers WHERE status = 'pending') AS pending_offers",
                [],
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("backlog totals".into()))?;
        let count = |col: &str| -> Result<u64, DbErr> {
            Ok(u64::try_from(row.try_get::<i64>("", col)?).unwrap_or(0))
        };
        Ok(Totals {
            waiting: count("waiting")?,
            pending_offers: count("pending_offers")?,
        })
    }
}
