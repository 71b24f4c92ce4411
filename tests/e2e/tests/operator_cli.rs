//! The operator CLI's commands against the running suite (OPS-4).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use livedesk_e2e::Suite;
use livedeskctl::commands;

// spec: OPS-4
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_create_queues_agents_schedules_inspect_and_export() {
    let suite = Suite::start().await.unwrap();
    let tokens = suite.tokens();
    let c = &suite.clients;

    let queue = commands::create_queue(c, &tokens, "After-sales", 30)
        .await
        .unwrap();
    assert_eq!(queue.offer_timeout_seconds, 30);
    let agent = commands::upsert_agent(
        c,
        &tokens,
        "agent-lin",
        "Lin Chen",
        6,
        vec![queue.id.clone()],
    )
    .await
    .unwrap();
    assert_eq!(agent.initials, "LC");
    assert!(agent.queue_ids.contains(&queue.id));
    let schedule = commands::create_schedule(
        c,
        &tokens,
        "Office",
        "Europe/Paris",
        "mon-fri=09:00-12:00,13:30-18:00",
        Some(&queue.id),
    )
    .await
    .unwrap();
    assert_eq!(schedule.intervals.len(), 10);

    let lines = commands::inspect_queues(c, &tokens).await.unwrap();
    let names: Vec<&str> = lines.iter().map(|l| l.queue.name.as_str()).collect();
    assert!(
        names.contains(&"After-sales") && names.contains(&"General"),
        "{names:?}"
    );
    let after_sales = lines.iter().find(|l| l.queue.id == queue.id).unwrap();
    assert!(
        !after_sales.status.staffed,
        "Lin is OFFLINE: the queue is not staffed (RTG-10)"
    );

    let mut csv = Vec::new();
    let kind = commands::export_kind("conversations").unwrap();
    commands::export_csv(c, &tokens, kind, None, true, true, &mut csv)
        .await
        .unwrap();
    assert!(csv.starts_with("\u{feff}".as_bytes()), "BOM requested");
    let text = String::from_utf8(csv).unwrap();
    assert!(
        text.lines().next().unwrap().contains(';'),
        "semicolon-delimited header: {text}"
    );
    assert!(commands::export_kind("everything").is_err());
    suite.stop().await.unwrap();
}
