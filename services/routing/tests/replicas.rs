//! RTG-6 under real concurrency: two routing replicas on one database and
//! one NATS prefix, 10 agents of capacity 1, 30 conversations queued at
//! once. A watcher checks the database invariants continuously while the
//! agents accept, the conversations end and wrap-ups free capacity.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::common::*;
use livedesk_auth::Role;
use livedesk_proto::routing::v1 as pb;
use livedesk_testkit::{TestEnv, eventually, new_org};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

const AGENTS: usize = 10;
const CONVERSATIONS: usize = 30;

// spec: RTG-2, RTG-6
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_never_exceed_capacity_nor_offer_a_conversation_twice() {
    let env = TestEnv::new().await.unwrap();
    let a = start(&env).await;
    let b = start(&env).await;
    let rec = Recorder::start(&env).await;
    let clients = [client(&a).await, client(&b).await];
    let org = new_org();
    for i in 0..AGENTS {
        let mut c = clients[i % 2].clone();
        c.upsert_agent(req(
            &env,
            org,
            "boss",
            Role::Admin,
            pb::UpsertAgentRequest {
                id: format!("agent-{i}"),
                capacities: vec![pb::ChannelCapacity {
                    channel: 1,
                    capacity: 1,
                }],
                ..Default::default()
            },
        ))
        .await
        .unwrap();
        available(&env, &mut c, org, &format!("agent-{i}")).await;
    }

    // The watcher: the invariants must hold at every instant.
    let db = Database::connect(env.database_url("routing"))
        .await
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let violations = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let (stop, violations) = (stop.clone(), violations.clone());
        tokio::spawn(async move {
            let over_capacity = "SELECT agent_id FROM (\
                 SELECT agent_id FROM offers WHERE status = 'pending' \
                 UNION ALL SELECT agent_id FROM legs WHERE status <> 'done') x GROUP BY agent_id HAVING count(*) > 1";
            let double_offer = "SELECT conversation_id FROM offers WHERE status = 'pending' GROUP BY conversation_id HAVING count(*) > 1";
            let double_owner = "SELECT conversation_id FROM legs WHERE status = 'active' GROUP BY conversation_id HAVING count(*) > 1";
            while !stop.load(Ordering::Relaxed) {
                for sql in [over_capacity, double_offer, double_owner] {
                    let rows = db
                        .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
                        .await
                        .unwrap();
                    violations.fetch_add(rows.len(), Ordering::Relaxed);
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
    };

    let names: Vec<String> = (0..CONVERSATIONS)
        .map(|i| format!("customer {i}"))
        .collect();
    let convs =
        futures::future::join_all(names.iter().map(|n| queue_conversation(&env, org, "", n))).await;

    // Each agent serves whatever is offered: accept, end, wrap up.
    let done = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for i in 0..AGENTS {
        let mut c = clients[i % 2].clone();
        let (done, agent, token) = (
            done.clone(),
            format!("agent-{i}"),
            env.token(org, &format!("agent-{i}"), Role::Agent),
        );
        let nats_env = (env.nats_url.clone(), env.prefix.clone());
        workers.push(tokio::spawn(async move {
            let js = async_nats::jetstream::new(async_nats::connect(&nats_env.0).await.unwrap());
            let subjects = livedesk_events::Subjects::new(nats_env.1);
            while done.load(Ordering::Relaxed) < CONVERSATIONS {
                let offers = c
                    .list_offers(livedesk_testkit::authed(
                        &token,
                        pb::ListOffersRequest::default(),
                    ))
                    .await
                    .unwrap()
                    .into_inner()
                    .offers;
                assert!(
                    offers.len() <= 1,
                    "{agent} holds {} offers with capacity 1",
                    offers.len()
                );
                let Some(offer) = offers.into_iter().next() else {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                };
                if c.accept_offer(livedesk_testkit::authed(
                    &token,
                    pb::AcceptOfferRequest { offer_id: offer.id },
                ))
                .await
                .is_err()
                {
                    continue;
                }
                let ended = livedesk_proto::conversations::v1::ConversationEnded {
                    conversation_id: offer.conversation_id.clone(),
                    ..Default::default()
                };
                livedesk_events::publish_direct(
                    &js,
                    &subjects,
                    "conversations",
                    org,
                    &offer.conversation_id,
                    &ended,
                )
                .await
                .unwrap();
                loop {
                    let w = pb::SubmitWrapUpRequest {
                        conversation_id: offer.conversation_id.clone(),
                        code: "resolved".into(),
                    };
                    if c.submit_wrap_up(livedesk_testkit::authed(&token, w))
                        .await
                        .is_ok()
                    {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    eventually(120, "all conversations served", || {
        let n = done.load(Ordering::Relaxed);
        async move { (n >= CONVERSATIONS).then_some(()) }
    })
    .await
    .unwrap();
    for w in workers {
        w.await.unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    watcher.await.unwrap();

    assert_eq!(
        violations.load(Ordering::Relaxed),
        0,
        "an invariant of RTG-6 was broken"
    );
    let assigned = rec.all::<pb::ConversationAssigned>();
    let unique: HashSet<_> = assigned.iter().map(|a| a.conversation_id.clone()).collect();
    assert_eq!(
        assigned.len(),
        CONVERSATIONS,
        "each conversation assigned exactly once"
    );
    assert_eq!(
        unique,
        convs
            .iter()
            .map(ToString::to_string)
            .collect::<HashSet<_>>()
    );
    assert!(rec.all::<pb::OfferCreated>().len() >= CONVERSATIONS);
}
