//! The physical limits the hot paths are compared with, measured on the
//! same PostgreSQL during the same run: single-row INSERT commits/s,
//! single-row indexed SELECTs/s (both in a scratch database dropped at
//! the end) and `COPY … TO STDOUT WITH CSV`.
//!
//! Plain sqlx (re-exported by sea-orm), not the ORM: the baseline is the
//! floor under any service code, so it carries as little as possible.
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use sea_orm::sqlx::postgres::{PgPool, PgPoolCopyExt as _, PgPoolOptions};
use serde::Serialize;
use uuid::Uuid;

use crate::load::{Run, drive};
use crate::stats::{Latency, per_second};

/// Rows of the SELECT baseline's table.
const LOOKUP_ROWS: i64 = 10_000;

/// One baseline figure.
#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    /// What was measured, in words.
    pub what: String,
    pub ops: u64,
    pub concurrency: usize,
    pub rate_per_s: f64,
    pub latency: Option<Latency>,
    pub errors: u64,
}

impl Baseline {
    fn of(what: &str, concurrency: usize, run: &Run) -> Self {
        Self {
            what: what.to_owned(),
            ops: run.ok(),
            concurrency,
            rate_per_s: per_second(run.ok(), run.wall),
            latency: Latency::of(&run.latencies),
            errors: run.errors,
        }
    }
}

/// A scratch database on the server under test.
pub struct Scratch {
    url: String,
    pool: PgPool,
}

impl Scratch {
    /// Creates `livedesk_bench_<random>` with its two tables; the pool
    /// holds up to `max_connections` (the highest concurrency used).
    pub async fn create(server: &str, max_connections: u32) -> anyhow::Result<Self> {
        let name = format!("livedesk_bench_{}", Uuid::now_v7().simple());
        let url = format!("{}/{name}", server.trim_end_matches('/'));
        livedesk_platform::db::ensure_database(&url).await?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .connect(&url)
            .await?;
        let me = Self { url, pool };
        for ddl in [
            "CREATE TABLE bench_inserts (id bigserial PRIMARY KEY, k bigint NOT NULL, body text NOT NULL, at timestamptz NOT NULL DEFAULT now())",
            "CREATE TABLE bench_lookups (org_id text NOT NULL, kind integer NOT NULL, value text NOT NULL, block_id text NOT NULL, PRIMARY KEY (org_id, kind, value))",
        ] {
            sea_orm::sqlx::query(ddl).execute(&me.pool).await?;
        }
        sea_orm::sqlx::query(
            "INSERT INTO bench_lookups SELECT 'org', 2, 'c' || g || '@example.com', md5(g::text) FROM generate_series(1, $1) g",
        )
        .bind(LOOKUP_ROWS)
        .execute(&me.pool)
        .await?;
        sea_orm::sqlx::query("ANALYZE bench_lookups")
            .execute(&me.pool)
            .await?;
        Ok(me)
    }

    /// The server's version, for the report.
    pub async fn server_version(&self) -> Option<String> {
        sea_orm::sqlx::query_scalar::<_, String>("SHOW server_version")
            .fetch_one(&self.pool)
            .await
            .ok()
    }

    /// Single-row INSERTs, each its own (autocommit) transaction: one
    /// commit, hence one WAL flush, per row, as a service's write is.
    pub async fn insert_rate(&self, ops: usize, concurrency: usize) -> Baseline {
        self.warm_up(concurrency).await;
        let pool = self.pool.clone();
        let run = drive(ops, concurrency, move |i| {
            let pool = pool.clone();
            async move {
                sea_orm::sqlx::query("INSERT INTO bench_inserts (k, body) VALUES ($1, $2)")
                    .bind(i as i64)
                    .bind(format!("bench message {i}"))
                    .execute(&pool)
                    .await?;
                Ok(())
            }
        })
        .await;
        Baseline::of("single-row INSERT commits", concurrency, &run)
    }

    /// Single-row lookups by primary key (an index probe, as a block
    /// check's is).
    pub async fn select_rate(&self, ops: usize, concurrency: usize) -> Baseline {
        self.warm_up(concurrency).await;
        let pool = self.pool.clone();
        let run = drive(ops, concurrency, move |i| {
            let pool = pool.clone();
            async move {
                let value = format!("c{}@example.com", (i as i64 % LOOKUP_ROWS) + 1);
                sea_orm::sqlx::query(
                    "SELECT block_id FROM bench_lookups WHERE org_id = $1 AND kind = $2 AND value = $3",
                )
                .bind("org")
                .bind(2i32)
                .bind(value)
                .fetch_optional(&pool)
                .await?;
                Ok(())
            }
        })
        .await;
        Baseline::of("single-row indexed SELECTs", concurrency, &run)
    }

    /// Opens `concurrency` connections before timing, so connection
    /// set-up is not measured.
    async fn warm_up(&self, concurrency: usize) {
        let pool = self.pool.clone();
        drive(concurrency * 2, concurrency, move |_| {
            let pool = pool.clone();
            async move {
                sea_orm::sqlx::query("SELECT 1").execute(&pool).await?;
                Ok(())
            }
        })
        .await;
    }

    /// Drops the scratch database.
    pub async fn drop(self) -> anyhow::Result<()> {
        self.pool.close().await;
        livedesk_platform::db::drop_database(&self.url).await?;
        Ok(())
    }
}

/// What one `COPY … TO STDOUT` produced.
#[derive(Debug, Clone, Copy)]
pub struct Copied {
    pub rows: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

/// Runs `COPY (<select>) TO STDOUT WITH CSV HEADER` on `database_url` and
/// counts what comes back. The connection is opened before timing.
pub async fn copy_csv(database_url: &str, select: &str) -> anyhow::Result<Copied> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(database_url)
        .await?;
    sea_orm::sqlx::query("SELECT 1").execute(&pool).await?;
    let statement = format!("COPY ({select}) TO STDOUT WITH CSV HEADER");
    let started = Instant::now();
    let mut stream = pool.copy_out_raw(&statement).await?;
    let (mut bytes, mut records) = (0u64, RecordEnds::default());
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        bytes += chunk.len() as u64;
        records.count(&chunk);
    }
    let elapsed = started.elapsed();
    drop(stream);
    pool.close().await;
    Ok(Copied {
        rows: records.ends.saturating_sub(1),
        bytes,
        elapsed,
    })
}

/// Counts CSV records: line feeds outside quoted cells (a quoted cell may
/// hold a line break), across chunks of any size. The export and the
/// `COPY` baseline are counted the same way, so it costs both the same.
#[derive(Debug, Default)]
pub struct RecordEnds {
    in_quotes: bool,
    /// Record ends seen so far.
    pub ends: u64,
}

impl RecordEnds {
    /// Counts the record ends in `chunk`.
    pub fn count(&mut self, chunk: &[u8]) {
        let (mut in_quotes, mut ends) = (self.in_quotes, 0u64);
        for &b in chunk {
            // An escaped quote (`""`) toggles twice: still inside.
            in_quotes ^= b == b'"';
            ends += u64::from(b == b'\n' && !in_quotes);
        }
        self.in_quotes = in_quotes;
        self.ends += ends;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_inside_quoted_cells_are_not_record_ends() {
        let mut r = RecordEnds::default();
        // Split inside a quoted cell: the state carries over.
        r.count(b"h1,h2\r\na,\"x\n\"\"y");
        r.count(b"\"\r\nb,\"\"\n");
        assert_eq!(r.ends, 3);
    }
}
