//! The two background tasks of the cache: the listener that drops changed
//! orgs (and proves it is live by receiving this replica's heartbeats),
//! and the heartbeat sender. Both stop at shutdown.
use std::time::Duration;

use livedesk_platform::db::stmt;
use sea_orm::ConnectionTrait;
use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
use tokio_util::sync::CancellationToken;

use super::{BlockCache, CHANNEL, HEARTBEAT};

/// Wait before connecting the listener again after a failure.
const RETRY: Duration = Duration::from_millis(500);

/// Listens on [`CHANNEL`] on a connection of its own (outside the
/// service's pool, named `livedesk-blocking-cache` in
/// `pg_stat_activity`) until `shutdown`, connecting again after any
/// failure. Each (re)connection drops everything held: notifications sent
/// while it was not listening are lost.
pub async fn run_listener(cache: BlockCache, shutdown: CancellationToken) {
    let options = cache
        .inner
        .db
        .get_postgres_connection_pool()
        .connect_options()
        .as_ref()
        .clone()
        .application_name("livedesk-blocking-cache");
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with(options);
    loop {
        match listen(&cache, &pool, &shutdown).await {
            Ok(()) => return,
            Err(e) => {
                cache.reset();
                tracing::warn!(error = %e, "block cache listener down: checks go to the database");
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(RETRY) => {}
        }
    }
}

async fn listen(
    cache: &BlockCache,
    pool: &sea_orm::sqlx::PgPool,
    shutdown: &CancellationToken,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    // Listening from here on: what was loaded before may have missed a
    // notification, so it goes.
    cache.reset();
    tracing::info!("block cache listening for changes");
    loop {
        let next = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            next = listener.try_recv() => next?,
        };
        match next {
            Some(notification) => cache.notified(notification.payload()),
            // The connection was lost and made again (sqlx listens again
            // before returning): notifications in between are lost.
            None => {
                cache.reset();
                tracing::warn!("block cache listener reconnected: every org held was dropped");
            }
        }
    }
}

/// Sends this replica's heartbeat on [`CHANNEL`] every 200 ms until
/// `shutdown`. A failure is logged once until the heartbeats go through
/// again; meanwhile memory goes unused (no heartbeat comes back).
pub async fn run_heartbeat(cache: BlockCache, shutdown: CancellationToken) {
    let mut failing = false;
    loop {
        // The instant is taken before the NOTIFY commits: every change
        // committed before it precedes the heartbeat in the queue.
        let payload = cache.heartbeat_payload();
        let sent = cache
            .inner
            .db
            .execute_raw(stmt(
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), payload.into()],
            ))
            .await;
        match sent {
            Ok(_) if failing => {
                failing = false;
                tracing::info!("block cache heartbeats go through again");
            }
            Ok(_) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "block cache heartbeat failed: checks go to the database");
            }
            Err(_) => {}
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(HEARTBEAT) => {}
        }
    }
}
