//! The cluster scenario (`make cluster`): PostgreSQL, NATS and two replicas
//! of every service image on a Podman network (scripts/cluster.sh), clients
//! and service-to-service calls spread over both replicas; `livedeskctl
//! demo` passes against it; then every replica is replaced one at a time
//! (SIGTERM, drain, a new container) while visitors keep starting
//! conversations and sending messages, and afterwards every acknowledged
//! message is stored once and was delivered once, nothing waits in a
//! queue, and every outbox is empty.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use livedesk_auth::{Issuer, Role};
use livedesk_deploy_tests::{SERVICES, repo_root};
use livedesk_faults::load::{self, Ending, Ledger, Plan};
use livedesk_proto::conversations::v1 as cnv;
use livedesk_testkit::eventually;
use livedeskctl::tokens::authed;
use livedeskctl::{Clients, Endpoints, Tokens};
use sea_orm::{ConnectionTrait, Statement};
use uuid::Uuid;

const VISITORS: usize = 6;
const AGENTS: usize = 8;
/// Conversations per visitor at most: 6 × 30 stays inside 8 agents × 25 chats.
const CONVERSATIONS_PER_VISITOR: usize = 30;
const MESSAGES_PER_CONVERSATION: usize = 5;

fn index(service: &str) -> u16 {
    match service {
        "routing" => 1,
        "conversations" => 2,
        "blocking" => 3,
        "scheduling" => 4,
        "reporting" => 5,
        _ => 6,
    }
}

/// Runs `scripts/cluster.sh ARGS`, output inherited.
async fn script(args: &[&str]) -> anyhow::Result<()> {
    let status = tokio::process::Command::new("bash")
        .arg(repo_root().join("scripts/cluster.sh"))
        .args(args)
        .current_dir(repo_root())
        .env(
            "LIVEDESK_HEALTH_PROBE",
            env!("CARGO_BIN_EXE_livedesk-health"),
        )
        .status()
        .await?;
    anyhow::ensure!(status.success(), "scripts/cluster.sh {args:?} failed");
    Ok(())
}

/// Removes the cluster when the test ends, passed or not.
struct Down;
impl Drop for Down {
    fn drop(&mut self) {
        if std::env::var("LIVEDESK_CLUSTER_KEEP").is_ok_and(|v| v == "1") {
            return;
        }
        let _ = std::process::Command::new("bash")
            .arg(repo_root().join("scripts/cluster.sh"))
            .arg("down")
            .current_dir(repo_root())
            .status();
    }
}

/// Clients balanced over both replicas of every service (livedeskctl's own
/// clients, given both published ports), as the chart's headless Services
/// let in-cluster clients do.
fn clients() -> anyhow::Result<Clients> {
    let both = |svc: &str| {
        let p = 18000 + index(svc) * 10;
        format!("http://127.0.0.1:{},http://127.0.0.1:{}", p + 1, p + 2)
    };
    Clients::new(&Endpoints {
        routing: both("routing"),
        conversations: both("conversations"),
        blocking: both("blocking"),
        scheduling: both("scheduling"),
        reporting: both("reporting"),
        notifications: both("notifications"),
    })
}

fn tokens(org: Uuid) -> Tokens {
    let secret = std::fs::read_to_string(repo_root().join(".livedesk/cluster/secret")).unwrap();
    Tokens::new(
        Issuer::hs256("livedesk", "livedesk-api", secret.trim().as_bytes()),
        org,
    )
}

/// Sum of `livedesk_rpc_server_duration_seconds_count` over the methods
/// `select` keeps, on one replica's metrics port (0 while it does not
/// answer).
async fn rpcs(port: u16, select: impl Fn(&str) -> bool) -> f64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let scrape = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await?;
        let mut body = String::new();
        s.read_to_string(&mut body).await?;
        anyhow::Ok(body)
    };
    let Ok(body) = scrape.await else { return 0.0 };
    body.lines()
        .filter(|l| l.starts_with("livedesk_rpc_server_duration_seconds_count"))
        .filter(|l| select(l))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Calls every service's cheap reads, over the balanced clients, until
/// stopped: each new replica must see client calls.
async fn poke(clients: Clients, admin: String, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        // Answers are not the point (some need arguments): any answer is
        // a call that reached a replica.
        let _ = clients
            .routing
            .clone()
            .list_queues(authed(&admin, Default::default()))
            .await;
        let _ = clients
            .blocking
            .clone()
            .list_blocks(authed(&admin, Default::default()))
            .await;
        let _ = clients
            .scheduling
            .clone()
            .list_schedules(authed(&admin, Default::default()))
            .await;
        let _ = clients
            .reporting
            .clone()
            .get_statistics(authed(&admin, Default::default()))
            .await;
        let _ = clients
            .notifications
            .clone()
            .list_email_deliveries(authed(&admin, Default::default()))
            .await;
        let _ = clients
            .conversations
            .clone()
            .list_conversations(authed(&admin, Default::default()))
            .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn outbox_rows(service: &str) -> anyhow::Result<i64> {
    let db = sea_orm::Database::connect(format!(
        "postgres://postgres@127.0.0.1:18001/livedesk_{service}"
    ))
    .await?;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT count(*) AS n FROM event_outbox",
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row"))?;
    let n: i64 = row.try_get("", "n")?;
    db.close().await?;
    Ok(n)
}

// spec: OPS-1, OPS-3
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs `make images` and a few minutes: run by `make cluster`"]
async fn two_replicas_of_everything_survive_a_rolling_restart_under_load() {
    let _down = Down;
    let t0 = Instant::now();
    script(&["up"]).await.unwrap();
    eprintln!("cluster up in {:?}", t0.elapsed());
    let clients = clients().unwrap();

    // 1. The demo passes against the cluster.
    let demo_tokens = tokens(Uuid::now_v7());
    let mut lines = Vec::new();
    let report = livedeskctl::demo::run(&clients, &demo_tokens, &mut |l: &str| {
        lines.push(l.to_owned())
    })
    .await;
    let report = match report {
        Ok(r) => r,
        Err(e) => panic!("demo failed on the cluster: {e:#}\n{}", lines.join("\n")),
    };
    assert_eq!(report.tag_count, 1, "{}", lines.join("\n"));
    assert_eq!(
        report.status_after_accept,
        cnv::ConversationStatus::Active as i32
    );

    // 2. Agents at their desks, visitors chatting.
    let tokens = tokens(Uuid::now_v7());
    let admin = tokens
        .mint("cluster-admin", Role::Admin, Some("Admin"))
        .unwrap();
    let ledger: Arc<Ledger> = Arc::default();
    let stop_desks = Arc::new(AtomicBool::new(false));
    let stop_visitors = Arc::new(AtomicBool::new(false));
    let mut desks = Vec::new();
    for a in 0..AGENTS {
        let (_, desk) = load::agent_on_duty(
            &clients,
            &tokens,
            &admin,
            &format!("cluster-agent-{a}"),
            &ledger,
            &stop_desks,
        )
        .await
        .unwrap();
        desks.push(desk);
    }
    let plan = Arc::new(Plan {
        conversations: CONVERSATIONS_PER_VISITOR,
        messages: MESSAGES_PER_CONVERSATION,
        pause: Duration::from_millis(150),
        ending: |_, _| Ending::Open,
        admin_token: admin.clone(),
    });
    let visitors = load::visitors(VISITORS, &clients, &tokens, &plan, &ledger, &stop_visitors);

    // 3. A rolling restart under that load: one replica at a time.
    let acked_before_restart = ledger.acknowledged();
    let restart = Instant::now();
    let mut restarts = 0;
    for svc in SERVICES {
        for n in ["1", "2"] {
            script(&["replace", svc, n]).await.unwrap();
            restarts += 1;
        }
    }
    let restart_took = restart.elapsed();
    let acked_during_restart = ledger.acknowledged() - acked_before_restart;
    assert!(
        acked_during_restart > 0,
        "the load must overlap the rolling restart"
    );

    // 4. Every new replica is used: client calls spread over both replicas
    // of each service, and peers found the new replicas' addresses (each
    // StartConversation asks blocking and scheduling through conversations'
    // balanced channels). Counters start at zero in a new container.
    let stop_poke = Arc::new(AtomicBool::new(false));
    let poker = tokio::spawn(poke(clients.clone(), admin.clone(), stop_poke.clone()));
    let deadline = Instant::now() + Duration::from_secs(60);
    for svc in SERVICES {
        for n in 1..=2u16 {
            let port = 19000 + index(svc) * 10 + n;
            let peer_method = match svc {
                "blocking" => Some("CheckIdentities"),
                "scheduling" => Some("GetWidgetState"),
                _ => None,
            };
            loop {
                let from_clients = rpcs(port, |l| {
                    !l.contains("grpc.health") && !l.contains("grpc.reflection")
                })
                .await;
                let from_peers = match peer_method {
                    Some(m) => rpcs(port, |l| l.contains(m)).await,
                    None => 1.0,
                };
                if from_clients > 0.0 && from_peers > 0.0 {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "new replica {n} of {svc} got no calls (clients {from_clients}, peers {from_peers})"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    stop_poke.store(true, Ordering::SeqCst);
    poker.await.unwrap();
    stop_visitors.store(true, Ordering::SeqCst);
    let mut conversations = 0;
    for v in visitors {
        conversations += v.await.unwrap().unwrap();
    }

    // 5. Every acknowledged message stored once, and delivered once, in
    // order, to the agent's desk.
    let acked_total = ledger.acknowledged();
    assert!(acked_total > 0);
    let stored = load::stored(&clients, &admin, &ledger).await.unwrap();
    assert_eq!(stored, load::Stored::default(), "stored: lost, doubled");
    // Waits for every delivery; the counts below say what never came.
    let _ = eventually(60, "every acknowledged message delivered", || async {
        ledger.all_delivered().then_some(())
    })
    .await;
    let deliveries = ledger.deliveries();
    assert_eq!(
        deliveries.anomalies(),
        (0, 0, 0, 0),
        "delivered: lost, doubled, reordered, unexpected"
    );

    // 6. Nothing waits in a queue; every outbox drains.
    eventually(60, "no conversation waiting in a queue", || async {
        let lines = livedeskctl::commands::inspect_queues(&clients, &tokens)
            .await
            .ok()?;
        (lines.iter().map(|l| l.status.waiting).sum::<u32>() == 0).then_some(())
    })
    .await
    .unwrap();
    for svc in SERVICES {
        eventually(60, &format!("{svc}'s outbox empty"), || async {
            (outbox_rows(svc).await.ok()? == 0).then_some(())
        })
        .await
        .unwrap();
    }
    stop_desks.store(true, Ordering::SeqCst);
    for d in desks {
        d.await.unwrap().unwrap();
    }
    eprintln!(
        "cluster scenario: {conversations} conversations, {acked_total} messages acknowledged, \
         {restarts} replicas replaced in {restart_took:?} ({acked_during_restart} messages acknowledged \
         meanwhile), lost 0, duplicates 0, reordered 0, \
         {} calls retried after a replica went away; total {:?}",
        ledger.retries.lock().unwrap(),
        t0.elapsed()
    );
}
