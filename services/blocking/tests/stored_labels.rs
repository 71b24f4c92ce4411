//! Enums are stored as text labels (storage rule, issue 9) and fail
//! closed: the tables refuse a label no value has, and a label the service
//! does not know, read back, fails the read with INTERNAL instead of being
//! shown as a default.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use livedesk_auth::Role;
use livedesk_blocking::App;
use livedesk_platform::time::to_proto;
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_proto::blocking::v1::*;
use livedesk_proto::common::v1::{Channel as ChannelKind, IdentityKind};
use livedesk_testkit::{TestEnv, authed, new_org, spawn};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tonic::Code;
use tonic::transport::Channel;
use uuid::Uuid;

struct Setup {
    env: TestEnv,
    _svc: livedesk_testkit::RunningService,
    client: BlockingServiceClient<Channel>,
    db: DatabaseConnection,
}

async fn setup() -> Setup {
    let env = TestEnv::new().await.unwrap();
    let svc = spawn::<App>(&env.service_env("blocking", &[]))
        .await
        .unwrap();
    let client = BlockingServiceClient::new(svc.channel().await.unwrap());
    let db = env.db("blocking").await.unwrap();
    Setup {
        env,
        _svc: svc,
        client,
        db,
    }
}

/// Blocks `cidr` for an hour through the API; the block's id.
async fn block_ip(s: &mut Setup, org: Uuid, cidr: &str) -> String {
    s.client
        .block_ip(authed(
            &s.env.token(org, "agent-1", Role::Agent),
            BlockIpRequest {
                ip_cidr: cidr.into(),
                expires_at: Some(to_proto(Utc::now() + chrono::Duration::hours(1))),
                reason: "spam".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .id
}

async fn get(s: &mut Setup, org: Uuid, id: &str) -> Result<Block, tonic::Status> {
    s.client
        .get_block(authed(
            &s.env.token(org, "sup-1", Role::Supervisor),
            GetBlockRequest { id: id.into() },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn list(s: &mut Setup, org: Uuid) -> Result<Vec<Block>, tonic::Status> {
    s.client
        .list_blocks(authed(
            &s.env.token(org, "sup-1", Role::Supervisor),
            ListBlocksRequest::default(),
        ))
        .await
        .map(|r| r.into_inner().blocks)
}

fn insert_identity(block: &str, org: Uuid, kind: &str, value: &str) -> String {
    format!(
        "INSERT INTO block_identities (block_id, org_id, kind, value) VALUES ('{block}', '{org}', '{kind}', '{value}')"
    )
}

#[tokio::test]
async fn the_tables_refuse_a_label_no_enum_has() {
    let mut s = setup().await;
    let org = new_org();
    let block = block_ip(&mut s, org, "198.51.100.0/24").await;
    // The block is stored with labels, and a known label is accepted.
    let row =
        s.db.query_one_raw(livedesk_platform::db::stmt(
            "SELECT channel FROM blocks WHERE id = $1::uuid",
            [block.clone().into()],
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<String>("", "channel").unwrap(), "unspecified");
    s.db.execute_unprepared(&insert_identity(&block, org, "email", "a@example.com"))
        .await
        .unwrap();
    let audited = format!(
        "INSERT INTO block_audit (id, block_id, org_id, action, actor) VALUES (gen_random_uuid(), '{block}', '{org}', '{{action}}', 'x')"
    );
    for sql in [
        format!("UPDATE blocks SET channel = 'carrier_pigeon' WHERE id = '{block}'"),
        // Neither the wire number nor the protobuf name is a label.
        format!("UPDATE blocks SET channel = '1' WHERE id = '{block}'"),
        format!("UPDATE blocks SET channel = 'CHANNEL_WEB_CHAT' WHERE id = '{block}'"),
        insert_identity(&block, org, "EMAIL", "b@example.com"),
        insert_identity(&block, org, "2", "b@example.com"),
        insert_identity(&block, org, "fax", "b@example.com"),
        audited.replace("{action}", "delete"),
    ] {
        let err = s.db.execute_unprepared(&sql).await.unwrap_err();
        assert_eq!(
            livedesk_platform::db::sqlstate(&err).as_deref(),
            Some("23514"),
            "{sql}: {err}"
        );
    }
    for action in ["block", "unblock", "expire"] {
        s.db.execute_unprepared(&audited.replace("{action}", action))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn an_unknown_stored_label_fails_the_read_with_internal() {
    let mut s = setup().await;
    let org = new_org();
    let first = block_ip(&mut s, org, "198.51.100.0/24").await;
    let second = block_ip(&mut s, org, "203.0.113.0/24").await;
    s.db.execute_unprepared(&insert_identity(&second, org, "email", "a@example.com"))
        .await
        .unwrap();
    // Readable as long as every label is known, and read as its value.
    let read = get(&mut s, org, &second).await.unwrap();
    assert_eq!(read.channel, ChannelKind::Unspecified as i32);
    assert_eq!(read.identities[0].kind, IdentityKind::Email as i32);
    assert_eq!(list(&mut s, org).await.unwrap().len(), 2);

    // A channel label the CHECK would refuse, as a later release or a
    // hand edit could leave behind.
    s.db.execute_unprepared("ALTER TABLE blocks DROP CONSTRAINT blocks_channel_label")
        .await
        .unwrap();
    s.db.execute_unprepared(&format!(
        "UPDATE blocks SET channel = 'carrier_pigeon' WHERE id = '{first}'"
    ))
    .await
    .unwrap();
    let err = get(&mut s, org, &first).await.unwrap_err();
    assert_eq!(err.code(), Code::Internal, "{err:?}");
    assert!(!err.message().contains("carrier_pigeon"), "{err:?}");
    let err = list(&mut s, org).await.unwrap_err();
    assert_eq!(err.code(), Code::Internal, "{err:?}");
    // The other block still reads.
    get(&mut s, org, &second).await.unwrap();

    // The same for an identity kind.
    s.db.execute_unprepared(
        "ALTER TABLE block_identities DROP CONSTRAINT block_identities_kind_label",
    )
    .await
    .unwrap();
    s.db.execute_unprepared(&insert_identity(&second, org, "fax", "+15550100"))
        .await
        .unwrap();
    let err = get(&mut s, org, &second).await.unwrap_err();
    assert_eq!(err.code(), Code::Internal, "{err:?}");
    assert!(!err.message().contains("fax"), "{err:?}");
}

/// The schema as it was before enums became text, with rows stored then.
async fn schema_before_labels(env: &TestEnv, name: &str) -> DatabaseConnection {
    env.schema_at(
        name,
        &[
            include_str!("../migrations/0001_init.sql"),
            include_str!("../migrations/0002_privacy.sql"),
        ],
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn the_migration_turns_stored_numbers_into_labels_and_refuses_an_unknown_number() {
    let env = TestEnv::new().await.unwrap();
    let db = schema_before_labels(&env, "blocking").await;
    let (org, block) = (new_org(), Uuid::now_v7());
    // An erased identity hashed before the migration keeps its value.
    let hashed = format!("hmac:{}", "ab".repeat(32));
    db.execute_unprepared(&format!(
        "INSERT INTO blocks (id, org_id, conversation_id, channel, blocked_by) VALUES ('{block}', '{org}', gen_random_uuid(), 3, 'agent-1'); \
         INSERT INTO block_identities (block_id, org_id, kind, value) VALUES \
           ('{block}', '{org}', 2, 'a@example.com'), ('{block}', '{org}', 1, 'v-1'), ('{block}', '{org}', 3, '{hashed}'); \
         INSERT INTO blocks (id, org_id, ip_cidr, blocked_by) VALUES (gen_random_uuid(), '{org}', '198.51.100.0/24', 'agent-1')"
    ))
    .await
    .unwrap();
    db.execute_unprepared(include_str!("../migrations/0003_enums_as_text.sql"))
        .await
        .unwrap();
    let channels = db
        .query_all_raw(livedesk_platform::db::stmt(
            "SELECT channel FROM blocks ORDER BY channel",
            [],
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "channel").unwrap())
        .collect::<Vec<_>>();
    assert_eq!(channels, ["unspecified", "whatsapp"]);
    let identities = db
        .query_all_raw(livedesk_platform::db::stmt(
            "SELECT kind, value FROM block_identities ORDER BY kind, value",
            [],
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.try_get::<String>("", "kind").unwrap(),
                r.try_get::<String>("", "value").unwrap(),
            )
        })
        .collect::<Vec<_>>();
    assert_eq!(
        identities,
        [
            ("email".to_owned(), "a@example.com".to_owned()),
            ("phone".to_owned(), hashed),
            ("web_visitor".to_owned(), "v-1".to_owned()),
        ]
    );
    // The lookup the checks use still finds the row by its new label.
    assert_eq!(
        livedesk_testkit::count(
            &db,
            "SELECT count(*) FROM block_identities WHERE org_id = $1 AND kind = 'email' AND value = 'a@example.com'",
            [org.into()],
        )
        .await
        .unwrap(),
        1
    );

    // A number no kind has is not guessed: the migration fails.
    let old = schema_before_labels(&env, "blocking_unknown").await;
    let block = Uuid::now_v7();
    old.execute_unprepared(&format!(
        "INSERT INTO blocks (id, org_id, conversation_id, blocked_by) VALUES ('{block}', '{org}', gen_random_uuid(), 'agent-1'); \
         INSERT INTO block_identities (block_id, org_id, kind, value) VALUES ('{block}', '{org}', 42, 'x')"
    ))
    .await
    .unwrap();
    let err = old
        .execute_unprepared(include_str!("../migrations/0003_enums_as_text.sql"))
        .await
        .unwrap_err();
    // not_null_violation
    assert_eq!(
        livedesk_platform::db::sqlstate(&err).as_deref(),
        Some("23502"),
        "{err}"
    );
}
