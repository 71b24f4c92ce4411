//! The six services under combined faults, judged by what customers and
//! agents saw (issue 10).
//!
//! Two replicas of every service run as processes (the release's own
//! binaries) on a private PostgreSQL and a private three-node NATS cluster
//! with streams at three replicas, all reached through TCP proxies the test
//! can cut. Visitors start conversations, send traceable messages and end
//! them, or are blocked; agents follow their feeds and accept offers; two
//! agents go offline mid-run (no new offers; they finish their chats). Faults are drawn from a printed seed: a
//! service replica SIGKILLed and restarted (every service at least once),
//! a NATS node or the whole NATS cluster killed and restarted, PostgreSQL
//! stopped fast or crashed, the links of one service (or of all) to
//! PostgreSQL or to NATS cut.
//!
//! Then the checker: every acknowledged message stored once and delivered
//! once to the agent's feed, in order within its conversation; every
//! acknowledged block in effect on every replica (the conversation
//! BLOCKED, every blocking replica finds the customer, every conversations
//! replica refuses them); every ended conversation counted once in
//! reporting; every outbox drained; nothing dead-lettered; no offer left
//! pending on an agent who went offline; nothing left waiting in a queue.
//!
//! `LIVEDESK_FAULTS_SEED` replays a run; `LIVEDESK_FAULTS_SECONDS` (60)
//! sets how long faults are injected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use livedesk_auth::{Issuer, Role};
use livedesk_faults::load::{self, Ending, Ledger, Plan};
use livedesk_faults::schedule::{self, Deck, Rng};
use livedesk_proto::blocking::v1 as blk;
use livedesk_proto::common::v1::{Channel, CustomerIdentity, IdentityKind};
use livedesk_proto::conversations::v1 as cnv;
use livedesk_proto::reporting::v1 as rpt;
use livedesk_proto::routing::v1 as rtg;
use livedesk_testkit::processes::{Layout, SERVICES, bin_dir_beside};
use livedesk_testkit::{PrivateNatsCluster, PrivatePostgres, ProcessSuite, TcpProxy, eventually};
use livedeskctl::tokens::authed;
use livedeskctl::{Clients, Endpoints, Tokens};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

const REPLICAS: usize = 2;
const SECRET: &str = "faults-run-secret-0123456789abcdef";
const PREFIX: &str = "faults";
const VISITORS: usize = 6;
const AGENTS: usize = 8;
/// Agents that go offline mid-run.
const LEAVING: usize = 2;

/// Visitor conversation endings: one in four blocked, the rest ended.
fn ending(v: usize, k: usize) -> Ending {
    if (v + k) % 4 == 3 {
        Ending::Blocked
    } else {
        Ending::Ended
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    ServiceKilled,
    NatsNodeKilled,
    NatsClusterKilled,
    PostgresStoppedFast,
    PostgresCrashed,
    PostgresLinkCut,
    NatsLinkCut,
}

/// A replica SIGKILLed is three cards in every round: six services to
/// kill, against one of each other kind.
const FAULTS: [Fault; 9] = [
    Fault::ServiceKilled,
    Fault::ServiceKilled,
    Fault::ServiceKilled,
    Fault::NatsNodeKilled,
    Fault::NatsClusterKilled,
    Fault::PostgresStoppedFast,
    Fault::PostgresCrashed,
    Fault::PostgresLinkCut,
    Fault::NatsLinkCut,
];

/// One service's links to PostgreSQL and to each NATS node.
struct Links {
    pg: TcpProxy,
    nats: Vec<TcpProxy>,
}

impl Links {
    /// `LIVEDESK_NATS_URL`: every node, through this service's links.
    fn nats_url(&self) -> String {
        self.nats
            .iter()
            .map(|l| format!("nats://{}", l.addr()))
            .collect::<Vec<_>>()
            .join(",")
    }
}

async fn count(db: &DatabaseConnection, sql: &str) -> Option<i64> {
    livedesk_testkit::count(db, sql, []).await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a fault run: make test-faults"]
async fn the_services_lose_double_and_reorder_nothing_under_combined_faults() {
    let (seed, seconds, mut rng) = schedule::start("services", 60);
    let logs = std::env::temp_dir().join(format!("livedesk-faults-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&logs).unwrap();
    println!("[services] logs in {}", logs.display());

    // Servers owned by this test, and the links the test can cut.
    let mut pg = PrivatePostgres::start()
        .await
        .unwrap()
        .expect("the fault run needs PostgreSQL server binaries");
    let mut nats = PrivateNatsCluster::start(3).await.unwrap();
    // Each service reaches PostgreSQL and every NATS node through links of
    // its own, so one service can be cut off while the others go on.
    let mut links: BTreeMap<&'static str, Links> = BTreeMap::new();
    for service in SERVICES {
        let pg = TcpProxy::start(([127, 0, 0, 1], pg.port).into())
            .await
            .unwrap();
        let to_nats = nats.proxies().await.unwrap();
        links.insert(service, Links { pg, nats: to_nats });
    }
    // Two replicas of every service, peers balanced over both, each
    // service through its own links.
    let pg_url: BTreeMap<&str, String> = links
        .iter()
        .map(|(s, l)| {
            (
                *s,
                format!("postgres://postgres@{}/livedesk_{s}", l.pg.addr()),
            )
        })
        .collect();
    let nats_url: BTreeMap<&str, String> = links.iter().map(|(s, l)| (*s, l.nats_url())).collect();
    let mut suite = ProcessSuite::start(Layout {
        bin_dir: bin_dir_beside().unwrap(),
        replicas: Box::new(|_| REPLICAS),
        database_url: Box::new(move |s| pg_url[s].clone()),
        nats_url: Box::new(move |s| nats_url[s].clone()),
        common: vec![
            ("LIVEDESK_NATS_STREAM_REPLICAS".into(), "3".into()),
            ("LIVEDESK_SUBJECT_PREFIX".into(), PREFIX.into()),
            ("LIVEDESK_AUTH_HS256_SECRET".into(), SECRET.into()),
            ("LIVEDESK_DB_MAX_CONNECTIONS".into(), "4".into()),
            ("LIVEDESK_SHUTDOWN_GRACE_SECONDS".into(), "5".into()),
            ("LIVEDESK_LOG_FORMAT".into(), "json".into()),
        ],
        logs: logs.clone(),
    })
    .await
    .unwrap();
    println!("[services] {} replicas serving", suite.replicas.len());

    let endpoint = |s: &str| suite.urls(s);
    let clients = Clients::new(&Endpoints {
        routing: endpoint("routing"),
        conversations: endpoint("conversations"),
        blocking: endpoint("blocking"),
        scheduling: endpoint("scheduling"),
        reporting: endpoint("reporting"),
        notifications: endpoint("notifications"),
    })
    .unwrap();
    let org = Uuid::now_v7();
    let tokens = Tokens::new(
        Issuer::hs256("livedesk", "livedesk-api", SECRET.as_bytes()),
        org,
    );
    let admin = tokens
        .mint("faults-admin", Role::Admin, Some("Admin"))
        .unwrap();

    // The load: agents at their desks, visitors chatting.
    let ledger: Arc<Ledger> = Arc::default();
    let stop_visitors = Arc::new(AtomicBool::new(false));
    let stop_desks = Arc::new(AtomicBool::new(false));
    let mut desks = Vec::new();
    let mut agent_tokens = Vec::new();
    for a in 0..AGENTS {
        let id = format!("faults-agent-{a}");
        let (token, desk) =
            load::agent_on_duty(&clients, &tokens, &admin, &id, &ledger, &stop_desks)
                .await
                .unwrap();
        desks.push(desk);
        agent_tokens.push((id, token));
    }
    let plan = Arc::new(Plan {
        conversations: usize::MAX,
        messages: 4,
        pause: Duration::from_millis(100),
        ending,
        admin_token: admin.clone(),
    });
    let visitors = load::visitors(VISITORS, &clients, &tokens, &plan, &ledger, &stop_visitors);

    // The faults.
    let started = Instant::now();
    let mut injected: BTreeMap<Fault, usize> = BTreeMap::new();
    let mut killed: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut kinds = Deck::new(&FAULTS);
    let mut victims = Deck::new(&SERVICES);
    let mut gone_offline = false;
    let kill = |suite: &ProcessSuite, service: &'static str, rng: &mut Rng| {
        let n = 1 + rng.below(REPLICAS as u64) as usize;
        suite.index(service, n).unwrap()
    };
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(rng.millis(1000, 3000)).await;
        if !gone_offline && started.elapsed() > Duration::from_secs(seconds / 2) {
            // Two agents leave mid-run: they go offline, so they get no new
            // offers; their desks stay open for the chats they still hold
            // (whose messages must reach them like any other).
            for (id, token) in agent_tokens.iter().take(LEAVING) {
                load::set_state(&clients, token, id, rtg::AgentState::Offline, &ledger)
                    .await
                    .unwrap();
            }
            gone_offline = true;
        }
        let fault = kinds.draw(&mut rng).unwrap();
        let hold = rng.millis(500, 3000);
        let mut what = format!("{fault:?}");
        match fault {
            Fault::ServiceKilled => {
                let service = victims.draw(&mut rng).unwrap();
                let i = kill(&suite, service, &mut rng);
                what = format!("{service}-{} SIGKILLed", suite.replicas[i].n);
                suite.replicas[i].kill().await;
                tokio::time::sleep(hold).await;
                suite.respawn(i).unwrap();
                *killed.entry(service).or_default() += 1;
            }
            Fault::NatsNodeKilled => {
                let i = rng.below(3) as usize;
                nats.kill_for(i, hold).await.unwrap();
            }
            Fault::NatsClusterKilled => nats.kill_all_for(hold).await.unwrap(),
            Fault::PostgresStoppedFast => pg.stop_for(hold).await.unwrap(),
            Fault::PostgresCrashed => pg.crash_for(hold).await.unwrap(),
            Fault::PostgresLinkCut | Fault::NatsLinkCut => {
                // One service cut off, or (one time in three) all of them.
                let target = rng.below(SERVICES.len() as u64 + 3) as usize;
                let cut: Vec<&Links> = match SERVICES.get(target) {
                    Some(s) => vec![&links[s]],
                    None => links.values().collect(),
                };
                let whom = SERVICES.get(target).copied().unwrap_or("every service");
                let proxies: Vec<&TcpProxy> = cut
                    .iter()
                    .flat_map(|l| match fault {
                        Fault::PostgresLinkCut => vec![&l.pg],
                        _ => l.nats.iter().collect(),
                    })
                    .collect();
                what = format!("{fault:?} ({whom})");
                TcpProxy::cut_for(&proxies, hold).await;
            }
        }
        *injected.entry(fault).or_default() += 1;
        println!(
            "[services] t={:>5.1}s {what} for {} ms (messages acknowledged so far {})",
            started.elapsed().as_secs_f64(),
            hold.as_millis(),
            ledger.acknowledged()
        );
    }
    // Every service SIGKILLed at least once, still under load.
    for service in SERVICES {
        if !killed.contains_key(service) {
            let i = kill(&suite, service, &mut rng);
            println!("[services] {service}-{} SIGKILLed", suite.replicas[i].n);
            suite.replicas[i].kill().await;
            suite.respawn(i).unwrap();
            *killed.entry(service).or_default() += 1;
            *injected.entry(Fault::ServiceKilled).or_default() += 1;
        }
    }
    let faults_took = started.elapsed();

    // Stop the load (each visitor finishes its conversation), let it settle.
    stop_visitors.store(true, Ordering::SeqCst);
    let mut conversations = 0;
    for v in visitors {
        conversations += v.await.unwrap().unwrap();
    }
    suite.wait_serving(120).await.unwrap();

    // 1. Messages: stored once, delivered once, in order.
    let stored = load::stored(&clients, &admin, &ledger).await.unwrap();
    let _ = eventually(120, "every acknowledged message delivered", || async {
        ledger.all_delivered().then_some(())
    })
    .await;
    let deliveries = ledger.deliveries();
    let undelivered: Vec<String> = {
        let delivered = ledger.delivered.lock().unwrap();
        ledger
            .acknowledged_ids()
            .into_iter()
            .filter(|id| !delivered.contains_key(id))
            .take(10)
            .collect()
    };
    if !undelivered.is_empty() {
        println!("[services] undelivered (first 10, <conversation>-<n>): {undelivered:?}");
    }

    // 2. Blocks in effect everywhere.
    let blocked = ledger.blocked.lock().unwrap().clone();
    let mut blocks_missing = 0;
    for b in &blocked {
        let c = load::retry("get blocked conversation", &ledger.retries, || {
            let mut c = clients.conversations.clone();
            let req = authed(
                &admin,
                cnv::GetConversationRequest {
                    id: b.conversation_id.clone(),
                },
            );
            async move { c.get_conversation(req).await }
        })
        .await
        .unwrap()
        .into_inner();
        if c.status != cnv::ConversationStatus::Blocked as i32 {
            println!(
                "[services] block {}: conversation status {}",
                b.block_id, c.status
            );
            blocks_missing += 1;
        }
        let identity = CustomerIdentity {
            kind: IdentityKind::Email as i32,
            value: b.email.clone(),
        };
        for r in suite.replicas.iter().filter(|r| r.service == "blocking") {
            let one =
                livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient::new(
                    tonic::transport::Endpoint::from_shared(r.url())
                        .unwrap()
                        .connect_lazy(),
                );
            let verdict = load::retry("check identities", &ledger.retries, || {
                let mut one = one.clone();
                let req = authed(
                    &admin,
                    blk::CheckIdentitiesRequest {
                        identities: vec![identity.clone()],
                        ip_address: String::new(),
                    },
                );
                async move { one.check_identities(req).await }
            })
            .await
            .unwrap()
            .into_inner();
            if !verdict.blocked {
                println!(
                    "[services] block {}: blocking-{} does not find it",
                    b.block_id, r.n
                );
                blocks_missing += 1;
            }
        }
        for r in suite
            .replicas
            .iter()
            .filter(|r| r.service == "conversations")
        {
            let one = livedesk_proto::conversations::v1::conversations_service_client::ConversationsServiceClient::new(
                tonic::transport::Endpoint::from_shared(r.url()).unwrap().connect_lazy(),
            );
            let token = tokens
                .mint(&format!("again-{}", b.block_id), Role::Visitor, None)
                .unwrap();
            let mut outcome = None;
            for _ in 0..1200 {
                let req = authed(
                    &token,
                    cnv::StartConversationRequest {
                        channel: Channel::WebChat as i32,
                        customer: Some(cnv::Customer {
                            name: "Blocked again".into(),
                            identities: vec![identity.clone()],
                            ..Default::default()
                        }),
                        first_message: "let me in".into(),
                        client_request_id: Uuid::now_v7().to_string(),
                        ..Default::default()
                    },
                );
                match one.clone().start_conversation(req).await {
                    Err(s) if load::transient(&s) => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    other => {
                        outcome = Some(other.map(|r| r.into_inner()).map_err(|s| s.code()));
                        break;
                    }
                }
            }
            if !matches!(outcome, Some(Err(tonic::Code::PermissionDenied))) {
                println!(
                    "[services] block {}: conversations-{} let the customer start: {outcome:?}",
                    b.block_id, r.n
                );
                blocks_missing += 1;
            }
        }
    }

    // 3. Every ended conversation counted once in reporting.
    let ended = ledger.ended.lock().unwrap().len() + blocked.len();
    let counted = |clients: Clients, admin: String| async move {
        let rows = clients
            .reporting
            .clone()
            .get_statistics(authed(&admin, rpt::GetStatisticsRequest::default()))
            .await
            .ok()?
            .into_inner()
            .rows;
        let row = rows.first()?;
        Some((row.count as usize, row.blocked_count as usize))
    };
    let _ = eventually(120, "reporting counted every ended conversation", || {
        let (c, a) = (clients.clone(), admin.clone());
        async move {
            let (n, _) = counted(c, a).await?;
            (n >= ended).then_some(())
        }
    })
    .await;
    let (reported, reported_blocked) = counted(clients.clone(), admin.clone())
        .await
        .unwrap_or_default();

    // 4. Outboxes drained, nothing dead-lettered, no offer pending on an
    // agent who left, nothing waiting.
    let direct = |svc: &str| format!("postgres://postgres@127.0.0.1:{}/livedesk_{svc}", pg.port);
    let mut undrained = Vec::new();
    for svc in SERVICES {
        let db = livedesk_platform::db::connect(&direct(svc)).await.unwrap();
        if eventually(60, &format!("{svc}'s outbox drained"), || {
            let db = db.clone();
            async move { (count(&db, "SELECT count(*) FROM event_outbox").await? == 0).then_some(()) }
        })
        .await
        .is_err()
        {
            undrained.push(svc);
        }
        db.close().await.unwrap();
    }
    let js = async_nats::jetstream::new(
        async_nats::ConnectOptions::new()
            .ignore_discovered_servers()
            .connect(nats.urls())
            .await
            .unwrap(),
    );
    let dead_letters = match js
        .get_stream(format!("{}_DLQ", PREFIX.to_ascii_uppercase()))
        .await
    {
        Ok(mut s) => s.info().await.unwrap().state.messages,
        Err(_) => 0,
    };
    let routing_db = livedesk_platform::db::connect(&direct("routing"))
        .await
        .unwrap();
    let leavers: Vec<String> = agent_tokens
        .iter()
        .take(LEAVING)
        .map(|(id, _)| id.clone())
        .collect();
    // The ids are this test's own (`faults-agent-<n>`): safe to inline.
    let pending_sql = format!(
        "SELECT count(*) FROM offers WHERE status = 'pending' AND agent_id IN ({})",
        leavers
            .iter()
            .map(|l| format!("'{l}'"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let pending_on_leavers = eventually(120, "no offer pending on an agent who left", || {
        let (db, sql) = (routing_db.clone(), pending_sql.clone());
        async move { (count(&db, &sql).await? == 0).then_some(()) }
    })
    .await
    .is_err();
    // Every conversation ended, so routing holds none live.
    let live = eventually(120, "routing holds no live conversation", || {
        let db = routing_db.clone();
        async move {
            (count(
                &db,
                "SELECT count(*) FROM queue_entries WHERE status IN ('queued', 'assigned', 'paused')",
            )
            .await?
                == 0)
                .then_some(())
        }
    })
    .await
    .is_err();
    stop_desks.store(true, Ordering::SeqCst);
    for d in desks {
        d.await.unwrap().unwrap();
    }

    println!(
        "[services] seed={seed} faults for {:.0}s, {:.0}s in all; faults={injected:?}; SIGKILLed={killed:?}",
        faults_took.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "[services] conversations={conversations} messages acknowledged={} stored: lost={} doubled={}; \
         delivered: lost={} doubled={} reordered={} unexpected={}; blocks={} missing={blocks_missing}; \
         ended={ended} reported={reported} (blocked {} reported {reported_blocked}); \
         outboxes not drained={undrained:?}; dead letters={dead_letters}; calls retried={}",
        deliveries.acknowledged,
        stored.lost,
        stored.doubled,
        deliveries.undelivered,
        deliveries.doubled,
        deliveries.reordered,
        deliveries.unexpected,
        blocked.len(),
        blocked.len(),
        ledger.retries.lock().unwrap(),
    );
    assert!(
        injected.len() >= 5,
        "at least 5 kinds of fault in one run, got {injected:?}"
    );
    assert!(deliveries.acknowledged > 0 && !blocked.is_empty() && ended > 0);
    assert_eq!(stored, load::Stored::default(), "stored: lost, doubled");
    assert_eq!(
        deliveries.anomalies(),
        (0, 0, 0, 0),
        "delivered: lost, doubled, reordered, unexpected"
    );
    assert_eq!(blocks_missing, 0, "blocks not in effect everywhere");
    assert_eq!(
        (reported, reported_blocked),
        (ended, blocked.len()),
        "ended conversations counted once in reporting"
    );
    assert!(undrained.is_empty(), "outboxes not drained: {undrained:?}");
    assert_eq!(dead_letters, 0, "events dead-lettered");
    assert!(
        !pending_on_leavers,
        "an offer left pending on an agent who left"
    );
    assert!(!live, "conversations left live in routing");
    suite.kill_all().await;
}
