//! A CSV export: ExportCsv streaming of the conversations read model.
//!
//! R `ConversationEnded` events are published on the suite's prefix (the
//! part of the conversations service), then the harness waits until
//! GetStatistics counts them all. Each timed export reads the whole
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
use crate::baseline::{Baseline, copy_csv};
use crate::load::drive;
use crate::report::ScenarioResult;
use crate::stats::{median, per_second};

/// Events published at once while seeding.
const SEED_CONCURRENCY: usize = 32;

/// The export's columns and order (reporting's store/export.rs).
const SELECT: &str = "SELECT conversation_id, created_at, ended_at, queue_id, channel, agent_ids, tags, reason, status, ended_by, \
     wait_seconds, handle_seconds, first_response_seconds, message_count, wrap_up_code, blocked \
     FROM conversation_facts WHERE org_id = '{org}' AND ended_at IS NOT NULL ORDER BY ended_at, conversation_id";

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

    eprintln!("▶ export: seeding {r} ended conversations");
    let seeding = Instant::now();
    let seeded = seed(ctx, org, r).await;
    if seeded.errors > 0 {
        anyhow::bail!(
            "seeding failed for {} event(s): {}",
            seeded.errors,
            seeded.first_error.unwrap_or_default()
        );
    }
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
    .with("seed_publish_seconds", seeded.wall.as_secs_f64())
    .with("seed_ingested_per_s", per_second(r as u64, ingest));
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
    let (mut bytes, mut newlines) = (0u64, 0u64);
    while let Some(chunk) = stream.message().await? {
        bytes += chunk.data.len() as u64;
        newlines += chunk.data.iter().filter(|b| **b == b'\n').count() as u64;
    }
    Ok(Exported {
        rows: newlines.saturating_sub(1),
        bytes,
        elapsed: started.elapsed(),
    })
}
