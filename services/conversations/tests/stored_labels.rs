//! Enums are stored as text labels (ARCHITECTURE.md, "Enums are stored as
//! text, one rule for every table") and fail closed: the tables refuse a
//! label no value has, and a label the service does not know, read back,
//! fails the read with INTERNAL instead of being shown as a default.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, conversation};
use livedesk_proto::conversations::v1 as pb;
use livedesk_testkit::TestEnv;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tonic::Code;

async fn one_text(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(livedesk_platform::db::stmt(sql, []))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "v").unwrap())
        .collect()
}

#[tokio::test]
async fn the_tables_refuse_a_label_no_enum_has() {
    let h = Harness::start().await;
    let c = conversation(&h.start_chat("v1", "hello", "").await.unwrap());
    let id = &c.id;
    // The conversation is stored with labels.
    assert_eq!(
        one_text(
            &h.db,
            &format!(
                "SELECT channel || ',' || status || ',' || priority || ',' || ended_by || ',' || request_status_at_end AS v \
                 FROM conversations WHERE id = '{id}'"
            )
        )
        .await,
        ["web_chat,queued,low,unspecified,unspecified"]
    );
    assert_eq!(
        one_text(
            &h.db,
            &format!("SELECT r.status || ',' || r.priority AS v FROM requests r JOIN conversations c ON c.request_id = r.id WHERE c.id = '{id}'")
        )
        .await,
        ["open,low"]
    );
    assert_eq!(
        one_text(
            &h.db,
            &format!("SELECT channel || ',' || kind AS v FROM conversation_identities WHERE conversation_id = '{id}'")
        )
        .await,
        ["web_chat,web_visitor"]
    );
    assert_eq!(
        one_text(
            &h.db,
            &format!("SELECT author_kind AS v FROM messages WHERE conversation_id = '{id}' ORDER BY sequence LIMIT 1")
        )
        .await,
        ["customer"]
    );
    let org = h.org;
    for sql in [
        format!("UPDATE conversations SET status = 'gone' WHERE id = '{id}'"),
        // Neither the wire number nor the protobuf name is a label.
        format!("UPDATE conversations SET status = '2' WHERE id = '{id}'"),
        format!("UPDATE conversations SET status = 'CONVERSATION_STATUS_ACTIVE' WHERE id = '{id}'"),
        format!("UPDATE conversations SET channel = 'carrier_pigeon' WHERE id = '{id}'"),
        format!("UPDATE conversations SET priority = 'urgent' WHERE id = '{id}'"),
        format!("UPDATE conversations SET ended_by = 'nobody' WHERE id = '{id}'"),
        format!("UPDATE conversations SET request_status_at_end = 'Closed' WHERE id = '{id}'"),
        format!(
            "UPDATE requests SET status = 'reopened' WHERE id = (SELECT request_id FROM conversations WHERE id = '{id}')"
        ),
        format!(
            "UPDATE requests SET priority = '3' WHERE id = (SELECT request_id FROM conversations WHERE id = '{id}')"
        ),
        format!("UPDATE conversation_identities SET kind = 'fax' WHERE conversation_id = '{id}'"),
        format!(
            "UPDATE conversation_identities SET channel = 'telex' WHERE conversation_id = '{id}'"
        ),
        format!("UPDATE messages SET author_kind = 'robot' WHERE conversation_id = '{id}'"),
        format!(
            "INSERT INTO blocked_identities (org_id, block_id, kind, value) VALUES ('{org}', gen_random_uuid(), 'EMAIL', 'a@example.com')"
        ),
    ] {
        let err = h.db.execute_unprepared(&sql).await.unwrap_err();
        assert_eq!(
            livedesk_platform::db::sqlstate(&err).as_deref(),
            Some("23514"),
            "{sql}: {err}"
        );
    }
    h.db.execute_unprepared(&format!(
        "INSERT INTO blocked_identities (org_id, block_id, kind, value) VALUES ('{org}', gen_random_uuid(), 'email', 'a@example.com')"
    ))
    .await
    .unwrap();
}

#[tokio::test]
async fn an_unknown_stored_status_fails_get_conversation_with_internal() {
    let h = Harness::start().await;
    let bad = conversation(&h.start_chat("v1", "hello", "").await.unwrap());
    let good = conversation(&h.start_chat("v2", "hello", "").await.unwrap());
    // Readable as long as every label is known, and read as its value.
    let read = h.get(&bad.id).await;
    assert_eq!(read.status, pb::ConversationStatus::Queued as i32);
    assert_eq!(
        read.channel,
        livedesk_proto::common::v1::Channel::WebChat as i32
    );

    // A status the CHECK would refuse, as a later release or a hand edit
    // could leave behind.
    h.exec("ALTER TABLE conversations DROP CONSTRAINT conversations_status_label")
        .await;
    h.exec(&format!(
        "UPDATE conversations SET status = 'hibernating' WHERE id = '{}'",
        bad.id
    ))
    .await;
    let err = h
        .client()
        .await
        .get_conversation(livedesk_testkit::authed(
            &h.token("sup", livedesk_auth::Role::Supervisor),
            pb::GetConversationRequest { id: bad.id.clone() },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Internal, "{err:?}");
    assert!(!err.message().contains("hibernating"), "{err:?}");
    // The other conversation still reads.
    assert_eq!(
        h.get(&good.id).await.status,
        pb::ConversationStatus::Queued as i32
    );
}

/// The schema as it was before enums became text.
async fn schema_before_labels(env: &TestEnv) -> DatabaseConnection {
    env.schema_at(
        "conversations_before",
        &[
            include_str!("../migrations/0001_init.sql"),
            include_str!("../migrations/0002_templates_policies.sql"),
            include_str!("../migrations/0003_requests_email_tags_attachments.sql"),
            include_str!("../migrations/0004_blocked_ips.sql"),
            include_str!("../migrations/0005_forms.sql"),
            include_str!("../migrations/0006_queue_members.sql"),
            include_str!("../migrations/0007_privacy.sql"),
        ],
    )
    .await
    .unwrap()
}

const ROWS: &str = "\
    INSERT INTO requests (id, org_id, customer_principal_id, status, priority) \
      VALUES ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000aa', 'v-1', 3, 2); \
    INSERT INTO conversations (id, org_id, request_id, channel, queue_id, status, priority, customer_principal_id, ended_by, request_status_at_end) \
      VALUES ('00000000-0000-7000-8000-000000000002', '00000000-0000-7000-8000-0000000000aa', '00000000-0000-7000-8000-000000000001', \
              3, gen_random_uuid(), 4, 3, 'v-1', 5, 2), \
             ('00000000-0000-7000-8000-000000000003', '00000000-0000-7000-8000-0000000000aa', '00000000-0000-7000-8000-000000000001', \
              1, gen_random_uuid(), 2, 1, 'v-1', 0, 0); \
    INSERT INTO conversation_identities (conversation_id, org_id, channel, kind, value) \
      VALUES ('00000000-0000-7000-8000-000000000002', '00000000-0000-7000-8000-0000000000aa', 3, 5, '+15550100'); \
    INSERT INTO messages (id, org_id, conversation_id, sequence, author_kind, text) \
      VALUES (gen_random_uuid(), '00000000-0000-7000-8000-0000000000aa', '00000000-0000-7000-8000-000000000002', 1, 4, 'hi'); \
    INSERT INTO blocked_identities (org_id, block_id, kind, value) \
      VALUES ('00000000-0000-7000-8000-0000000000aa', gen_random_uuid(), 2, 'a@example.com');";

#[tokio::test]
async fn the_migration_turns_stored_numbers_into_labels_and_refuses_an_unknown_number() {
    let env = TestEnv::new().await.unwrap();
    let db = schema_before_labels(&env).await;
    db.execute_unprepared(ROWS).await.unwrap();
    db.execute_unprepared(include_str!("../migrations/0008_enums_as_text.sql"))
        .await
        .unwrap();
    assert_eq!(
        one_text(
            &db,
            "SELECT channel || ',' || status || ',' || priority || ',' || ended_by || ',' || request_status_at_end AS v \
             FROM conversations ORDER BY id"
        )
        .await,
        [
            "whatsapp,ended,high,resource_deleted,pending",
            "web_chat,active,low,unspecified,unspecified"
        ]
    );
    assert_eq!(
        one_text(&db, "SELECT status || ',' || priority AS v FROM requests").await,
        ["closed,medium"]
    );
    assert_eq!(
        one_text(
            &db,
            "SELECT channel || ',' || kind AS v FROM conversation_identities"
        )
        .await,
        ["whatsapp,whatsapp"]
    );
    assert_eq!(
        one_text(&db, "SELECT author_kind AS v FROM messages").await,
        ["bot"]
    );
    assert_eq!(
        one_text(&db, "SELECT kind AS v FROM blocked_identities").await,
        ["email"]
    );
    // The natural-close index is rebuilt on the labels.
    let index = one_text(
        &db,
        "SELECT indexdef AS v FROM pg_indexes WHERE indexname = 'conversations_live_activity'",
    )
    .await;
    assert!(
        index[0].contains("'queued'::text, 'active'::text, 'paused'::text"),
        "{index:?}"
    );

    // A number outside its enum has no label: the migration fails.
    let env = TestEnv::new().await.unwrap();
    let db = schema_before_labels(&env).await;
    db.execute_unprepared(&ROWS.replace(", 4, 3, 'v-1', 5, 2)", ", 9, 3, 'v-1', 5, 2)"))
        .await
        .unwrap();
    let err = db
        .execute_unprepared(include_str!("../migrations/0008_enums_as_text.sql"))
        .await
        .unwrap_err();
    assert_eq!(
        livedesk_platform::db::sqlstate(&err).as_deref(),
        Some("23502"),
        "{err}"
    );
}
