//! A CSV export: ExportCsv streaming of the conversations read model.
//!
//! R conversations are seeded, one of two ways (`--export-seed`): as
//! `ConversationEnded` events published on the suite's prefix (the part of
//! the conversations service), ingested by reporting at about 1,000 rows/s;
//! or, for large exports (auto: above [`DIRECT_ABOVE`] rows), inserted
//! straight into reporting's database by `INSERT … SELECT … FROM
//! generate_series` ([`DIRECT_SEED`]: every channel, status and ended-by,
//! tags, several agents, text that needs quoting or formula guarding,
//! missing durations), then vacuumed and analyzed. Either way the harness
//! waits until GetStatistics counts them all. Each timed export reads the whole
//! stream (rows/s, bytes/s); the baseline is PostgreSQL's own
//! `COPY (SELECT <the same columns> … ORDER BY <the same order>) TO
//! STDOUT WITH CSV HEADER` on the reporting database. Medians of
//! `--export-repeats` runs.
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use livedesk_auth::Role;
use livedesk_events::{Subjects, publish_direct};
use livedesk_platform::time::to_proto;
use livedesk_proto::common::v1::Channel;
use livedesk_proto::conversations::v1::{
    ConversationEnded, ConversationStatus, EndedBy, Qualification,
};
use livedesk_proto::reporting::v1::{ExportCsvRequest, ExportKind, GetStatisticsRequest, GroupBy};
use livedeskctl::Clients;
use livedeskctl::tokens::authed;
use uuid::Uuid;

use super::Ctx;
use crate::baseline::{Baseline, RecordEnds, copy_csv};
use crate::cli::ExportSeed;
use crate::load::drive;
use crate::report::ScenarioResult;
use crate::stats::{median, per_second};

/// Events published at once while seeding.
const SEED_CONCURRENCY: usize = 32;

/// The export's columns and order (reporting's store/export.rs).
const SELECT: &str = "SELECT conversation_id, created_at, ended_at, queue_id, channel, agent_ids, tags, reason, status, ended_by, \
     wait_seconds, handle_seconds, first_response_seconds, message_count, wrap_up_code, blocked \
     FROM conversation_facts WHERE org_id = '{org}' AND ended_at IS NOT NULL ORDER BY ended_at, conversation_id";

/// `--export-seed auto` seeds directly above this many rows.
const DIRECT_ABOVE: usize = 20_000;

/// Rows inserted by one statement of the direct seed.
const DIRECT_BATCH: i64 = 100_000;

/// The direct seed of rows `$2..=$3` of org `$1`: ended conversations
/// with every channel, status and ended-by label, zero to two agents,
/// tags (some needing quotes or a formula guard), reasons with commas,
/// quotes, a line break and formula starts, missing durations and
/// wrap-up codes, one ended every quarter second back from now.
pub const DIRECT_SEED: &str = "INSERT INTO conversation_facts (org_id, conversation_id, queue_id, channel, agent_ids, tags, reason, \
         status, ended_by, customer_name, created_at, queued_at, assigned_at, first_response_at, ended_at, message_count, \
         abandoned, blocked, wait_seconds, handle_seconds, first_response_seconds, wrap_up_code, wrap_up_at) \
     SELECT $1, gen_random_uuid(), md5('bench-queue-' || (i % 17))::uuid::text, \
         (ARRAY['web_chat', 'web_chat', 'web_chat', 'messenger', 'whatsapp', 'instagram', 'email', 'unspecified'])[1 + i % 8], \
         CASE i % 10 WHEN 0 THEN '{}'::text[] \
             WHEN 1 THEN ARRAY['bench-agent-' || (i % 50), 'bench-agent-' || ((i + 7) % 50)] \
             ELSE ARRAY['bench-agent-' || (i % 50)] END, \
         (ARRAY['{}', '{billing}', '{billing,vip}', '{\"=HYPERLINK(\\\"x\\\")\",-refund}', '{\"a,b\",\"said \\\"hi\\\"\"}', \
                '{support,\"@team\"}'])[1 + i % 6]::text[], \
         (ARRAY['', 'question', 'refund, partial', 'said \"hello\"', E'two\\nlines', '=cmd()', '+33 6 12 34 56', 'après-vente', \
                'delivery late'])[1 + i % 9], \
         (ARRAY['ended', 'ended', 'ended', 'ended', 'blocked', 'unspecified', 'queued', 'active', 'paused'])[1 + i % 9], \
         (ARRAY['agent', 'customer', 'agent', 'inactivity', 'admin', 'resource_deleted', 'system', 'unspecified'])[1 + i % 8], \
         'B*** C***', e - make_interval(secs => 600 + i % 300), e - make_interval(secs => 600 + i % 300), \
         CASE WHEN i % 10 = 0 THEN NULL ELSE e - make_interval(secs => 540) END, \
         CASE WHEN i % 10 = 0 THEN NULL ELSE e - make_interval(secs => 530 - i % 20) END, \
         e, i % 40, i % 10 = 0, i % 53 = 0, (i % 300) / 7.0, \
         CASE WHEN i % 10 = 0 THEN NULL ELSE 540 + (i % 1000) / 3.0 END, \
         CASE WHEN i % 10 = 0 THEN NULL ELSE 10 + (i % 20) / 9.0 END, \
         (ARRAY[NULL, 'resolved', 'escalated', '-escalated', 'follow up, later'])[1 + i % 5], \
         CASE WHEN i % 5 = 0 THEN NULL ELSE e + interval '30 seconds' END \
     FROM generate_series($2::bigint, $3::bigint) AS i, \
          LATERAL (SELECT now() - make_interval(secs => i * 0.25) AS e) AS t";

/// What the seeded rows of org `$1` hold, for the report: the labels
/// covered and how many cells need quoting or a formula guard.
const SEED_SHAPE: &str = "SELECT count(*), count(DISTINCT channel), count(DISTINCT status), count(DISTINCT ended_by), \
         count(*) FILTER (WHERE cardinality(tags) > 0), \
         count(*) FILTER (WHERE reason ~ '[\",\\n]' OR array_to_string(tags, '|') ~ '[\",]'), \
         count(*) FILTER (WHERE left(reason, 1) IN ('=', '+', '-', '@') OR array_to_string(tags, '|') ~ '(^|\\|)[-=+@]') \
     FROM conversation_facts WHERE org_id = $1";

/// One timed export.
struct Exported {
    rows: u64,
    bytes: u64,
    elapsed: Duration,
}

/// Runs the scenario.
pub async fn run(ctx: &Ctx<'_>) -> anyhow::Result<ScenarioResult> {
    let r = ctx.cli.export_rows.max(1);
    let repeats = ctx.cli.export_repeats.max(1);
    let tokens = ctx.target.tokens();
    let org = tokens.org;
    let supervisor = tokens.mint(
        "bench-supervisor",
        Role::Supervisor,
        Some("Bench Supervisor"),
    )?;
    let clients = &ctx.target.clients;

    let direct = match ctx.cli.export_seed {
        ExportSeed::Direct => true,
        ExportSeed::Events => false,
        ExportSeed::Auto => r > DIRECT_ABOVE,
    };
    eprintln!(
        "▶ export: seeding {r} ended conversations ({})",
        if direct { "direct" } else { "events" }
    );
    let seeding = Instant::now();
    let (publish, shape) = if direct {
        let url = ctx.target.reporting_database_url.as_deref().ok_or_else(|| {
            anyhow::anyhow!(
                "--export-seed direct needs the reporting database (--spawn or --reporting-database-url)"
            )
        })?;
        let shape = seed_direct(url, org, r).await?;
        (seeding.elapsed(), Some(shape))
    } else {
        let seeded = seed(ctx, org, r).await;
        if seeded.errors > 0 {
            anyhow::bail!(
                "seeding failed for {} event(s): {}",
                seeded.errors,
                seeded.first_error.unwrap_or_default()
            );
        }
        (seeded.wall, None)
    };
    wait_counted(clients, &supervisor, r as u64, ctx.deadline()).await?;
    let ingest = seeding.elapsed();

    eprintln!("▶ export: {repeats} timed export(s) of {r} rows");
    // Reporting's peak memory during the exports alone (processes only).
    crate::memory::reset_peaks(ctx.target, "reporting");
    let mut exports = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        exports.push(export(clients, &supervisor).await?);
    }
    let reporting_peak = crate::memory::peak_of(ctx.target, "reporting");
    let baseline = match &ctx.target.reporting_database_url {
        Some(url) => {
            let select = SELECT.replace("{org}", &org.to_string());
            let mut copies = Vec::with_capacity(repeats);
            for _ in 0..repeats {
                copies.push(copy_csv(url, &select).await?);
            }
            let rates: Vec<f64> = copies
                .iter()
                .map(|c| per_second(c.rows, c.elapsed))
                .collect();
            let rows = copies.first().map_or(0, |c| c.rows);
            Some(Baseline {
                what: "COPY … TO STDOUT CSV".into(),
                ops: rows,
                concurrency: 1,
                rate_per_s: median(&rates).unwrap_or_default(),
                latency: None,
                errors: 0,
            })
            .map(|b| (b, copies))
        }
        None => None,
    };
    let rows = exports.first().map_or(0, |e| e.rows);
    let rates: Vec<f64> = exports
        .iter()
        .map(|e| per_second(e.rows, e.elapsed))
        .collect();
    let byte_rates: Vec<f64> = exports
        .iter()
        .map(|e| per_second(e.bytes, e.elapsed))
        .collect();
    let seconds: Vec<f64> = exports.iter().map(|e| e.elapsed.as_secs_f64()).collect();
    let missing = (r as u64).saturating_sub(rows);
    let mut result = ScenarioResult {
        name: "export",
        unit: "rows/s",
        ops: rows,
        concurrency: 1,
        wall_seconds: median(&seconds).unwrap_or_default(),
        rate_per_s: median(&rates).unwrap_or_default(),
        latency: None,
        errors: missing,
        first_error: (missing > 0)
            .then(|| format!("{missing} seeded row(s) missing from the export")),
        baseline: None,
        ratio: None,
        // The export's bar is throughput and memory, not latency.
        half_load: None,
        extra: Default::default(),
    }
    .with("reporting_peak_rss_mib", reporting_peak)
    .with("bytes", exports.first().map_or(0, |e| e.bytes))
    .with("bytes_per_s", median(&byte_rates).unwrap_or_default())
    .with("repeats", repeats)
    .with("export_seconds", &seconds)
    .with("seed", if direct { "direct" } else { "events" })
    .with("seed_publish_seconds", publish.as_secs_f64())
    .with("seed_ingested_per_s", per_second(r as u64, ingest))
    .with("seed_shape", shape);
    if let Some((_, copies)) = &baseline {
        let copy_rates: Vec<f64> = copies
            .iter()
            .map(|c| per_second(c.bytes, c.elapsed))
            .collect();
        result = result
            .with("copy_bytes", copies.first().map_or(0, |c| c.bytes))
            .with("copy_bytes_per_s", median(&copy_rates).unwrap_or_default())
            .with(
                "copy_seconds",
                copies
                    .iter()
                    .map(|c| c.elapsed.as_secs_f64())
                    .collect::<Vec<_>>(),
            );
    }
    Ok(result.against(baseline.map(|(b, _)| b)))
}

/// The labels and tricky cells of the seeded rows (`SEED_SHAPE`).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct SeedShape {
    pub rows: i64,
    pub channels: i64,
    pub statuses: i64,
    pub ended_by: i64,
    pub tagged: i64,
    /// Rows with a reason or tags that CSV must quote.
    pub quoted: i64,
    /// Rows with a reason or a tag the formula rule guards.
    pub guarded: i64,
}

/// Inserts `r` ended conversations of `org` straight into reporting's
/// database (`DIRECT_SEED`, in statements of `DIRECT_BATCH` rows), then
/// vacuums and analyzes the table, as a table read long after its rows
/// were written is: hint bits set, statistics current, so neither the
/// export nor the `COPY` after it pays for the bulk insert.
async fn seed_direct(url: &str, org: Uuid, r: usize) -> anyhow::Result<SeedShape> {
    use sea_orm::sqlx::postgres::PgPoolOptions;
    let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
    let total = r as i64;
    let mut from = 1i64;
    while from <= total {
        let to = (from + DIRECT_BATCH - 1).min(total);
        sea_orm::sqlx::query(DIRECT_SEED)
            .bind(org)
            .bind(from)
            .bind(to)
            .execute(&pool)
            .await?;
        from = to + 1;
    }
    // VACUUM runs outside a transaction: the simple query protocol.
    sea_orm::sqlx::raw_sql("VACUUM (ANALYZE) conversation_facts")
        .execute(&pool)
        .await?;
    let (rows, channels, statuses, ended_by, tagged, quoted, guarded): (
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
    ) = sea_orm::sqlx::query_as(SEED_SHAPE)
        .bind(org)
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    Ok(SeedShape {
        rows,
        channels,
        statuses,
        ended_by,
        tagged,
        quoted,
        guarded,
    })
}

/// Publishes `r` ended conversations of `org` as the conversations
/// service would.
async fn seed(ctx: &Ctx<'_>, org: Uuid, r: usize) -> crate::load::Run {
    let js = match async_nats::connect(&ctx.target.nats_url).await {
        Ok(client) => Arc::new(async_nats::jetstream::new(client)),
        Err(e) => {
            return crate::load::Run {
                errors: r as u64,
                first_error: Some(format!("nats: {e}")),
                ..Default::default()
            };
        }
    };
    let subjects = Arc::new(Subjects::new(ctx.target.prefix.clone()));
    drive(r, SEED_CONCURRENCY, move |i| {
        let (js, subjects) = (js.clone(), subjects.clone());
        async move {
            let event = ended(i);
            let id = event.conversation_id.clone();
            publish_direct(&js, &subjects, "conversations", org, &id, &event).await?;
            Ok(())
        }
    })
    .await
}

/// A plausible ended conversation: queued, answered, handled, tagged.
fn ended(i: usize) -> ConversationEnded {
    let ended_at = Utc::now() - chrono::Duration::seconds((i % 3600) as i64);
    let at = |secs: i64| Some(to_proto(ended_at - chrono::Duration::seconds(secs)));
    ConversationEnded {
        conversation_id: Uuid::now_v7().to_string(),
        queue_id: Uuid::now_v7().to_string(),
        channel: Channel::WebChat as i32,
        status: ConversationStatus::Ended as i32,
        ended_by: EndedBy::Agent as i32,
        ended_by_principal_id: format!("bench-agent-{}", i % 5),
        qualification: Some(Qualification {
            tags: vec!["billing".into(), "bench".into()],
            contact_reason: "question".into(),
            note: String::new(),
        }),
        agent_ids: vec![format!("bench-agent-{}", i % 5)],
        customer_principal_id: format!("visitor-bench-{i}"),
        created_at: at(600),
        queued_at: at(600),
        assigned_at: at(540),
        first_response_at: at(530),
        ended_at: at(0),
        message_count: 12,
        customer_name: "Bench Customer".into(),
        ..Default::default()
    }
}

/// Polls GetStatistics until `want` conversations are counted.
async fn wait_counted(
    clients: &Clients,
    token: &str,
    want: u64,
    deadline: tokio::time::Instant,
) -> anyhow::Result<()> {
    loop {
        let rows = clients
            .reporting
            .clone()
            .get_statistics(authed(
                token,
                GetStatisticsRequest {
                    range: None,
                    group_by: GroupBy::Unspecified as i32,
                },
            ))
            .await?
            .into_inner()
            .rows;
        let counted: u64 = rows.iter().map(|r| r.count).sum();
        if counted >= want {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("reporting counted {counted} of {want} seeded conversations in time");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One full ExportCsv stream, timed from the call to the last chunk.
async fn export(clients: &Clients, token: &str) -> anyhow::Result<Exported> {
    let started = Instant::now();
    let mut stream = clients
        .reporting
        .clone()
        .export_csv(authed(
            token,
            ExportCsvRequest {
                kind: ExportKind::Conversations as i32,
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    let (mut bytes, mut records) = (0u64, RecordEnds::default());
    while let Some(chunk) = stream.message().await? {
        bytes += chunk.data.len() as u64;
        records.count(&chunk.data);
    }
    Ok(Exported {
        rows: records.ends.saturating_sub(1),
        bytes,
        elapsed: started.elapsed(),
    })
}
