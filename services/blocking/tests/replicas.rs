//! Two replicas of the blocking service on one database: a block made
//! through one is answered by the other's in-memory cache (BLK-6), an
//! unblock and an expiry too, and the cache's counters say so (TEN-7).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use livedesk_auth::Role;
use livedesk_blocking::App;
use livedesk_platform::time::to_proto;
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_proto::blocking::v1::*;
use livedesk_testkit::{TestEnv, authed, eventually, new_org, spawn};
use tonic::transport::Channel;

fn ip_check(ip: &str) -> CheckIdentitiesRequest {
    CheckIdentitiesRequest {
        identities: vec![],
        ip_address: ip.into(),
    }
}

async fn blocked_id(client: &BlockingServiceClient<Channel>, token: &str, ip: &str) -> String {
    let answer = client
        .clone()
        .check_identities(authed(token, ip_check(ip)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.blocked, !answer.block_id.is_empty(), "{answer:?}");
    answer.block_id
}

/// `livedesk_blocking_cache_hits_total` of the process (both replicas).
async fn cache_hits(addr: std::net::SocketAddr) -> u64 {
    super::metrics::scrape(addr)
        .await
        .lines()
        .find_map(|l| l.strip_prefix("livedesk_blocking_cache_hits_total "))
        .map_or(0, |v| v.trim().parse().unwrap())
}

// spec: BLK-5, BLK-6, BLK-8, BLK-9, TEN-7
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_made_on_one_replica_is_answered_by_the_other() {
    let env = TestEnv::new().await.unwrap();
    let a = spawn::<App>(&env.service_env("blocking", &[]))
        .await
        .unwrap();
    let b = spawn::<App>(&env.service_env("blocking", &[]))
        .await
        .unwrap();
    let (on_a, on_b) = (
        BlockingServiceClient::new(a.channel().await.unwrap()),
        BlockingServiceClient::new(b.channel().await.unwrap()),
    );
    let org = new_org();
    let agent = env.token(org, "agent-1", Role::Agent);
    let admin = env.token(org, "admin-1", Role::Admin);
    let service = env.token(org, "conversations", Role::Service);

    // B holds the org (nothing blocked) and answers from memory.
    assert_eq!(blocked_id(&on_b, &service, "198.51.100.7").await, "");
    eventually(20, "B to answer from memory", || async {
        let before = cache_hits(b.metrics_addr).await;
        assert_eq!(blocked_id(&on_b, &service, "198.51.100.7").await, "");
        (cache_hits(b.metrics_addr).await > before).then_some(())
    })
    .await
    .unwrap();

    let block = on_a
        .clone()
        .block_ip(authed(
            &agent,
            BlockIpRequest {
                ip_cidr: "198.51.100.0/24".into(),
                expires_at: Some(to_proto(Utc::now() + chrono::Duration::hours(1))),
                reason: "abuse".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    eventually(20, "B to see the block made on A", || async {
        (blocked_id(&on_b, &service, "198.51.100.7").await == block.id).then_some(())
    })
    .await
    .unwrap();
    assert_eq!(blocked_id(&on_b, &service, "198.51.101.7").await, "");

    on_a.clone()
        .unblock_customer(authed(
            &admin,
            UnblockCustomerRequest {
                block_id: block.id.clone(),
                confirm: true,
                reason: "appeal".into(),
            },
        ))
        .await
        .unwrap();
    eventually(20, "B to see the unblock made on A", || async {
        blocked_id(&on_b, &service, "198.51.100.7")
            .await
            .is_empty()
            .then_some(())
    })
    .await
    .unwrap();

    // BLK-8: a block about to expire stops applying on B, held or not.
    let brief = on_a
        .clone()
        .block_ip(authed(
            &agent,
            BlockIpRequest {
                ip_cidr: "203.0.113.0/24".into(),
                expires_at: Some(to_proto(Utc::now() + chrono::Duration::seconds(2))),
                reason: "abuse".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    eventually(20, "B to see the short block", || async {
        (blocked_id(&on_b, &service, "203.0.113.1").await == brief.id).then_some(())
    })
    .await
    .unwrap();
    eventually(20, "the short block to expire on B", || async {
        blocked_id(&on_b, &service, "203.0.113.1")
            .await
            .is_empty()
            .then_some(())
    })
    .await
    .unwrap();
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}
