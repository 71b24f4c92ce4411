//! Blocking rules that need no conversation: IP ranges, unblock rights,
//! audit, validation (BLK-5, BLK-6, BLK-8, BLK-9, TEN-3, TEN-4).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use livedesk_auth::Role;
use livedesk_blocking::App;
use livedesk_platform::time::to_proto;
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_proto::blocking::v1::*;
use livedesk_testkit::{TestEnv, authed, new_org, spawn};
use tonic::Code;
use tonic::transport::Channel;

async fn setup() -> (
    TestEnv,
    livedesk_testkit::RunningService,
    BlockingServiceClient<Channel>,
) {
    let env = TestEnv::new().await.unwrap();
    let svc = spawn::<App>(&env.service_env("blocking", &[]))
        .await
        .unwrap();
    let client = BlockingServiceClient::new(svc.channel().await.unwrap());
    (env, svc, client)
}

fn ip_check(ip: &str) -> CheckIdentitiesRequest {
    CheckIdentitiesRequest {
        identities: vec![],
        ip_address: ip.into(),
    }
}

// spec: BLK-9
#[tokio::test]
async fn an_ip_range_block_applies_to_addresses_inside_it_and_needs_an_expiry() {
    let (env, svc, mut client) = setup().await;
    let org = new_org();
    let agent = env.token(org, "agent-1", Role::Agent);
    let err = client
        .block_ip(authed(
            &agent,
            BlockIpRequest {
                ip_cidr: "198.51.100.0/24".into(),
                expires_at: None,
                reason: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("expires_at"), "{}", err.message());

    let expires = Some(to_proto(Utc::now() + chrono::Duration::hours(1)));
    let block = client
        .block_ip(authed(
            &agent,
            BlockIpRequest {
                ip_cidr: "198.51.100.0/24".into(),
                expires_at: expires,
                reason: "spam".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(block.active);
    let svc_token = env.token(org, "conversations", Role::Service);
    let inside = client
        .check_identities(authed(&svc_token, ip_check("198.51.100.77")))
        .await
        .unwrap()
        .into_inner();
    assert!(inside.blocked);
    assert_eq!(inside.block_id, block.id);
    let outside = client
        .check_identities(authed(&svc_token, ip_check("198.51.101.1")))
        .await
        .unwrap()
        .into_inner();
    assert!(!outside.blocked);
    // Another org is not affected by this org's block (TEN-2).
    let other = env.token(new_org(), "conversations", Role::Service);
    assert!(
        !client
            .check_identities(authed(&other, ip_check("198.51.100.77")))
            .await
            .unwrap()
            .into_inner()
            .blocked
    );
    drop(svc);
}

// spec: BLK-5, BLK-6, TEN-3
#[tokio::test]
async fn only_admins_unblock_and_only_with_confirmation_and_every_step_is_audited() {
    let (env, _svc, mut client) = setup().await;
    let org = new_org();
    let agent = env.token(org, "agent-1", Role::Agent);
    let supervisor = env.token(org, "sup-1", Role::Supervisor);
    let admin = env.token(org, "admin-1", Role::Admin);
    let expires = Some(to_proto(Utc::now() + chrono::Duration::hours(1)));
    let block = client
        .block_ip(authed(
            &agent,
            BlockIpRequest {
                ip_cidr: "203.0.113.9".into(),
                expires_at: expires,
                reason: "abuse".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();

    let unblock = |confirm| UnblockCustomerRequest {
        block_id: block.id.clone(),
        confirm,
        reason: "appeal".into(),
    };
    assert_eq!(
        client
            .unblock_customer(authed(&agent, unblock(true)))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    assert_eq!(
        client
            .unblock_customer(authed(&supervisor, unblock(true)))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let err = client
        .unblock_customer(authed(&admin, unblock(false)))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::InvalidArgument,
        "the UI's warning must be confirmed"
    );
    let svc_token = env.token(org, "conversations", Role::Service);
    assert!(
        client
            .check_identities(authed(&svc_token, ip_check("203.0.113.9")))
            .await
            .unwrap()
            .into_inner()
            .blocked,
        "nothing changed"
    );

    let lifted = client
        .unblock_customer(authed(&admin, unblock(true)))
        .await
        .unwrap()
        .into_inner();
    assert!(!lifted.active);
    assert_eq!(lifted.unblocked_by, "admin-1");
    assert!(
        !client
            .check_identities(authed(&svc_token, ip_check("203.0.113.9")))
            .await
            .unwrap()
            .into_inner()
            .blocked
    );
    let again = client
        .unblock_customer(authed(&admin, unblock(true)))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);

    let audit = client
        .list_block_audit(authed(
            &supervisor,
            ListBlockAuditRequest {
                block_id: block.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .entries;
    let trail: Vec<(&str, &str)> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(trail, [("block", "agent-1"), ("unblock", "admin-1")]);
}

// spec: TEN-2, TEN-4
#[tokio::test]
async fn another_orgs_block_is_not_found_and_bad_ids_are_invalid() {
    let (env, _svc, mut client) = setup().await;
    let org = new_org();
    let agent = env.token(org, "agent-1", Role::Agent);
    let expires = Some(to_proto(Utc::now() + chrono::Duration::hours(1)));
    let block = client
        .block_ip(authed(
            &agent,
            BlockIpRequest {
                ip_cidr: "192.0.2.1".into(),
                expires_at: expires,
                reason: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let stranger = env.token(new_org(), "agent-9", Role::Admin);
    let err = client
        .get_block(authed(
            &stranger,
            GetBlockRequest {
                id: block.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = client
        .get_block(authed(
            &agent,
            GetBlockRequest {
                id: "not-a-uuid".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let visitor = env.token(org, "visitor-1", Role::Visitor);
    let err = client
        .list_blocks(authed(&visitor, ListBlocksRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let listed = client
        .list_blocks(authed(
            &agent,
            ListBlocksRequest {
                active_only: true,
                page: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.blocks.len(), 1);
}

// spec: BLK-8
#[tokio::test]
async fn an_expired_block_stops_applying_on_its_own() {
    let (env, _svc, mut client) = setup().await;
    let org = new_org();
    let agent = env.token(org, "agent-1", Role::Agent);
    let expires = Some(to_proto(Utc::now() + chrono::Duration::seconds(2)));
    client
        .block_ip(authed(
            &agent,
            BlockIpRequest {
                ip_cidr: "192.0.2.55".into(),
                expires_at: expires,
                reason: String::new(),
            },
        ))
        .await
        .unwrap();
    let svc_token = env.token(org, "conversations", Role::Service);
    assert!(
        client
            .check_identities(authed(&svc_token, ip_check("192.0.2.55")))
            .await
            .unwrap()
            .into_inner()
            .blocked
    );
    livedesk_testkit::eventually(10, "the block to expire", || {
        let mut c = client.clone();
        let t = svc_token.clone();
        async move {
            (!c.check_identities(authed(&t, ip_check("192.0.2.55")))
                .await
                .ok()?
                .into_inner()
                .blocked)
                .then_some(())
        }
    })
    .await
    .unwrap();
}

// spec: BLK-1
#[tokio::test]
async fn conversations_down_is_unavailable_not_internal() {
    // Blocking a customer asks conversations for their identities: with
    // nothing listening at its address (a port that was free a moment
    // ago), the caller is told to retry, as every service answers a peer
    // that is down.
    let env = TestEnv::new().await.unwrap();
    let nowhere = format!(
        "http://127.0.0.1:{}",
        livedesk_testkit::reserve_port().unwrap()
    );
    let svc = spawn::<App>(&env.service_env(
        "blocking",
        &[("LIVEDESK_BLOCKING__CONVERSATIONS_URL".into(), nowhere)],
    ))
    .await
    .unwrap();
    let mut client = BlockingServiceClient::new(svc.channel().await.unwrap());
    let org = new_org();
    let err = client
        .block_customer(authed(
            &env.token(org, "agent-1", Role::Agent),
            BlockCustomerRequest {
                conversation_id: uuid::Uuid::now_v7().to_string(),
                reason: "abuse".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    // Nothing was blocked.
    let listed = client
        .list_blocks(authed(
            &env.token(org, "supervisor-1", Role::Supervisor),
            ListBlocksRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.blocks.is_empty());
}
