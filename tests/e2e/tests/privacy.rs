//! Data-subject rights across the six services (PRV-1, PRV-2, PRV-3), on
//! real PostgreSQL and NATS: two customers with chats, messages,
//! attachments, emails, a form submission and a block; customer A is
//! exported, then erased, and every service's database is searched for
//! what is left of A while B's data must still be there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use livedesk_auth::Role;
use livedesk_e2e::Suite;
use livedesk_proto::blocking::v1::CheckIdentitiesRequest;
use livedesk_proto::common::v1::{Channel, CustomerIdentity, IdentityKind};
use livedesk_proto::conversations::v1 as cnv;
use livedesk_proto::privacy::v1 as prv;
use livedesk_proto::privacy::v1::privacy_service_client::PrivacyServiceClient;
use livedesk_proto::routing::v1 as rtg;
use livedesk_proto::scheduling::v1::{FieldValue, SubmitFormRequest};
use livedesk_testkit::{authed, eventually};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use uuid::Uuid;

const SERVICES: [&str; 6] = [
    "blocking",
    "conversations",
    "notifications",
    "reporting",
    "routing",
    "scheduling",
];

/// One customer's recognisable data.
struct Customer {
    name: &'static str,
    email: &'static str,
    phone: &'static str,
    secret: &'static str,
    file: &'static str,
    visitor: String,
    token: String,
    conversation_id: String,
    request_id: String,
}

impl Customer {
    /// Strings that must not survive an erasure (lowercase).
    fn markers(&self) -> Vec<String> {
        vec![
            self.name.to_lowercase(),
            self.email.split('@').next().unwrap_or_default().to_owned(),
            self.phone.trim_start_matches("+33").to_owned(),
            self.secret.to_owned(),
            self.file.trim_end_matches(".txt").to_owned(),
            self.visitor.clone(),
        ]
    }

    fn identities(&self) -> Vec<CustomerIdentity> {
        vec![CustomerIdentity {
            kind: IdentityKind::Email as i32,
            value: self.email.into(),
        }]
    }
}

async fn db(suite: &Suite, service: &str) -> DatabaseConnection {
    suite.env.db(service).await.unwrap()
}

/// Rows per table of one database whose text (or, for bytea, hex) holds
/// one of `markers`. The outbox and processed-event ids are transport, not
/// data held, and are left out.
async fn hits(db: &DatabaseConnection, markers: &[String]) -> BTreeMap<String, i64> {
    let tables = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public' \
             AND table_type = 'BASE TABLE' AND table_name NOT IN ('seaql_migrations', 'event_outbox', 'processed_events')",
        ))
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for t in tables {
        let table: String = t.try_get("", "t").unwrap();
        let mut n = 0;
        for m in markers {
            let hex: String = m.bytes().map(|b| format!("{b:02x}")).collect();
            let row = db
                .query_one_raw(Statement::from_sql_and_values(
                    db.get_database_backend(),
                    format!(
                        "SELECT count(*) AS n FROM \"{table}\" x WHERE position($1 IN lower(x::text)) > 0 OR position($2 IN lower(x::text)) > 0"
                    ),
                    [m.clone().into(), hex.into()],
                ))
                .await
                .unwrap()
                .unwrap();
            n += row.try_get::<i64>("", "n").unwrap();
        }
        if n > 0 {
            out.insert(table, n);
        }
    }
    out
}

async fn all_hits(suite: &Suite, markers: &[String]) -> BTreeMap<String, BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    for s in SERVICES {
        out.insert(s.to_owned(), hits(&db(suite, s).await, markers).await);
    }
    out
}

async fn dump(db: &DatabaseConnection, table: &str) -> Vec<String> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT x::text AS r FROM \"{table}\" x"),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", "r").unwrap())
        .collect()
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    livedesk_testkit::count(db, sql, []).await.unwrap()
}

/// Starts a chat for `c`, posts a message and an attachment, gives its
/// request a contact and sends it an email, and submits the offline form.
async fn play_customer(suite: &Suite, org: Uuid, staff: &str, c: &mut Customer) {
    let mut conv = suite.clients.conversations.clone();
    let started = conv
        .start_conversation(authed(
            &c.token,
            cnv::StartConversationRequest {
                channel: Channel::WebChat as i32,
                customer: Some(cnv::Customer {
                    name: c.name.into(),
                    email: c.email.into(),
                    phone: c.phone.into(),
                    ..Default::default()
                }),
                first_message: format!("hello {}", c.secret),
                client_request_id: Uuid::now_v7().to_string(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let Some(cnv::start_conversation_response::Outcome::Conversation(started)) = started.outcome
    else {
        panic!("no conversation started: {started:?}");
    };
    c.conversation_id = started.id.clone();
    c.request_id = started.request_id.clone();
    conv.send_message(authed(
        &c.token,
        cnv::SendMessageRequest {
            conversation_id: c.conversation_id.clone(),
            text: format!("{} write to {} or call {}", c.secret, c.email, c.phone),
            client_message_id: Uuid::now_v7().to_string(),
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    let body = format!("attachment of {}", c.secret).into_bytes();
    let parts = vec![
        cnv::UploadAttachmentRequest {
            part: Some(cnv::upload_attachment_request::Part::Metadata(
                cnv::AttachmentMetadata {
                    conversation_id: c.conversation_id.clone(),
                    file_name: c.file.into(),
                    content_type: "text/plain".into(),
                    size_bytes: body.len() as u64,
                    sha256: String::new(),
                },
            )),
        },
        cnv::UploadAttachmentRequest {
            part: Some(cnv::upload_attachment_request::Part::Chunk(body)),
        },
    ];
    conv.upload_attachment(authed(&c.token, tokio_stream::iter(parts)))
        .await
        .unwrap();
    let contact = conv
        .create_contact(authed(
            staff,
            cnv::CreateContactRequest {
                name: c.name.into(),
                email: c.email.into(),
                phone: c.phone.into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    conv.attach_contact(authed(
        staff,
        cnv::AttachContactRequest {
            request_id: c.request_id.clone(),
            contact_id: contact.id,
        },
    ))
    .await
    .unwrap();
    conv.send_email(authed(
        staff,
        cnv::SendEmailRequest {
            request_id: c.request_id.clone(),
            subject: format!("About {}", c.secret),
            text_body: format!("Dear {}, {}", c.name, c.secret),
            client_request_id: Uuid::now_v7().to_string(),
        },
    ))
    .await
    .unwrap();
    suite
        .clients
        .scheduling
        .clone()
        .submit_form(authed(
            &c.token,
            SubmitFormRequest {
                form_id: livedesk_platform::defaults::default_offline_form_id(org).to_string(),
                values: vec![
                    FieldValue {
                        key: "name".into(),
                        value: c.name.into(),
                    },
                    FieldValue {
                        key: "email".into(),
                        value: c.email.into(),
                    },
                    FieldValue {
                        key: "message".into(),
                        value: format!("form {}", c.secret),
                    },
                ],
                client_request_id: Uuid::now_v7().to_string(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
}

async fn wait_erased(
    privacy: &mut PrivacyServiceClient<tonic::transport::Channel>,
    admin: &str,
    id: &str,
) {
    eventually(60, "every service erased its share", || {
        let mut privacy = privacy.clone();
        async move {
            let e = privacy
                .get_erasure(authed(admin, prv::GetErasureRequest { id: id.into() }))
                .await
                .ok()?
                .into_inner();
            (e.completed_services == SERVICES).then_some(())
        }
    })
    .await
    .unwrap();
}

// spec: PRV-1, PRV-2
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn export_then_erase_one_customer_leaves_the_other_untouched() {
    let suite = Suite::start().await.unwrap();
    let org = Uuid::now_v7();
    let token = |sub: &str, role: Role| suite.env.token(org, sub, role);
    let admin = token("admin-ada", Role::Admin);
    let supervisor = token("supervisor-sam", Role::Supervisor);
    let agent = token("agent-alan", Role::Agent);
    suite
        .clients
        .routing
        .clone()
        .set_agent_state(authed(
            &agent,
            rtg::SetAgentStateRequest {
                state: rtg::AgentState::Available as i32,
                display_name: "Alan".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let visitor_a = format!("visitor-alicez-{}", Uuid::now_v7().simple());
    let visitor_b = format!("visitor-bobkeep-{}", Uuid::now_v7().simple());
    let mut a = Customer {
        name: "Alicia Zyxwvq",
        email: "alicez.erase@example.com",
        phone: "+33611112222",
        secret: "alicesecretqq",
        file: "alicefileqq.txt",
        token: token(&visitor_a, Role::Visitor),
        visitor: visitor_a,
        conversation_id: String::new(),
        request_id: String::new(),
    };
    let mut b = Customer {
        name: "Bobby Keepmeqq",
        email: "bobkeep.stay@example.com",
        phone: "+33633334444",
        secret: "bobsecretqq",
        file: "bobfileqq.txt",
        token: token(&visitor_b, Role::Visitor),
        visitor: visitor_b,
        conversation_id: String::new(),
        request_id: String::new(),
    };
    play_customer(&suite, org, &supervisor, &mut a).await;
    play_customer(&suite, org, &supervisor, &mut b).await;

    // A is blocked (the chat ends as BLOCKED); B's chat is ended by staff.
    livedesk_e2e::block_customer(&suite.clients, &supervisor, &a.conversation_id, "abuse")
        .await
        .unwrap();
    suite
        .clients
        .conversations
        .clone()
        .end_conversation(authed(
            &supervisor,
            cnv::EndConversationRequest {
                id: b.conversation_id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();

    // Every service has learnt of both customers before the export.
    let (reporting, notifications) = (
        db(&suite, "reporting").await,
        db(&suite, "notifications").await,
    );
    eventually(30, "both conversations ended in reporting", || async {
        (count(
            &reporting,
            "SELECT count(*) AS n FROM conversation_facts WHERE ended_at IS NOT NULL",
        )
        .await
            == 2)
            .then_some(())
    })
    .await
    .unwrap();
    for c in [&a, &b] {
        let sql = format!(
            "SELECT count(*) AS n FROM email_deliveries WHERE request_id = '{}'",
            c.request_id
        );
        let (sql, notifications) = (&sql, &notifications);
        let got = eventually(30, "the email recorded by notifications", || async move {
            (count(notifications, sql).await >= 1).then_some(())
        })
        .await;
        if let Err(e) = got {
            panic!("{e}: {:?}", dump(notifications, "email_deliveries").await);
        }
    }
    eventually(30, "the form submissions in reporting", || async {
        (count(&reporting, "SELECT count(*) AS n FROM form_submissions").await == 2).then_some(())
    })
    .await
    .unwrap();
    eventually(30, "the block in reporting", || async {
        (count(&reporting, "SELECT count(*) AS n FROM blocks WHERE known").await == 1).then_some(())
    })
    .await
    .unwrap();

    let mut privacy = PrivacyServiceClient::new(suite.conversations.channel().await.unwrap());

    // PRV-1: agents may not export; admins get one document with A's data
    // from every service and nothing of B.
    let refused = privacy
        .export_customer_data(authed(
            &agent,
            prv::ExportCustomerDataRequest {
                identities: a.identities(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let json = privacy
        .export_customer_data(authed(
            &supervisor,
            prv::ExportCustomerDataRequest {
                identities: a.identities(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .json;
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let lower = json.to_lowercase();
    for m in b.markers() {
        assert!(!lower.contains(&m), "B's {m:?} leaked into A's export");
    }
    assert!(lower.contains(a.secret) && lower.contains(a.email) && lower.contains(a.file));
    let services = &doc["services"];
    let non_empty = |path: &[&str]| {
        let mut v = services;
        for p in path {
            v = &v[*p];
        }
        assert!(
            v.as_array().is_some_and(|a| !a.is_empty()),
            "export has no {path:?}: {json}"
        );
    };
    non_empty(&["conversations", "conversations"]);
    non_empty(&["conversations", "messages"]);
    non_empty(&["conversations", "attachments"]);
    non_empty(&["conversations", "emails"]);
    non_empty(&["conversations", "contacts"]);
    non_empty(&["routing", "queue_entries"]);
    non_empty(&["blocking", "blocks"]);
    non_empty(&["scheduling", "form_submissions"]);
    non_empty(&["reporting", "conversation_facts"]);
    non_empty(&["reporting", "form_submissions"]);
    non_empty(&["notifications", "email_deliveries"]);

    // PRV-2: only admins, only with confirm.
    let e = privacy
        .erase_customer(authed(
            &supervisor,
            prv::EraseCustomerRequest {
                identities: a.identities(),
                confirm: true,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::PermissionDenied);
    let e = privacy
        .erase_customer(authed(
            &admin,
            prv::EraseCustomerRequest {
                identities: a.identities(),
                confirm: false,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::FailedPrecondition);

    let b_before = all_hits(&suite, &b.markers()).await;
    let a_before = all_hits(&suite, &a.markers()).await;
    for s in SERVICES {
        assert!(!a_before[s].is_empty(), "{s} held nothing of A to erase");
    }
    let erasure = privacy
        .erase_customer(authed(
            &admin,
            prv::EraseCustomerRequest {
                identities: a.identities(),
                confirm: true,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(erasure.requested_by, "admin-ada");
    wait_erased(&mut privacy, &admin, &erasure.id).await;

    // Nothing of A anywhere; B still wherever B was.
    let a_after = all_hits(&suite, &a.markers()).await;
    for s in SERVICES {
        assert!(a_after[s].is_empty(), "{s} still holds A: {:?}", a_after[s]);
    }
    let b_after = all_hits(&suite, &b.markers()).await;
    for (s, tables) in &b_before {
        for (t, n) in tables {
            assert!(
                b_after[s].get(t).copied().unwrap_or(0) >= *n,
                "B's data in {s}.{t} was touched: {n} -> {:?}",
                b_after[s].get(t)
            );
        }
    }
    // The attachment object is gone, B's stays readable.
    let conversations = db(&suite, "conversations").await;
    assert_eq!(
        count(
            &conversations,
            &format!(
                "SELECT count(*) AS n FROM attachments WHERE conversation_id = '{}'",
                a.conversation_id
            )
        )
        .await,
        0
    );
    let mut download = suite
        .clients
        .conversations
        .clone()
        .download_attachment(authed(
            &b.token,
            cnv::DownloadAttachmentRequest {
                id: conversations
                    .query_one_raw(Statement::from_string(
                        conversations.get_database_backend(),
                        format!(
                            "SELECT id::text AS id FROM attachments WHERE conversation_id = '{}'",
                            b.conversation_id
                        ),
                    ))
                    .await
                    .unwrap()
                    .unwrap()
                    .try_get::<String>("", "id")
                    .unwrap(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(download.message().await.unwrap().is_some());
    // Statistics keep anonymous counts: both facts stay.
    assert_eq!(
        count(&reporting, "SELECT count(*) AS n FROM conversation_facts").await,
        2
    );
    assert_eq!(
        count(&reporting, "SELECT count(*) AS n FROM form_submissions").await,
        2
    );
    // The audit names who and when, not A's identities in clear.
    assert_eq!(
        count(&conversations, "SELECT count(*) AS n FROM erasures WHERE cause = 'request' AND requested_by = 'admin-ada'").await,
        1
    );
    // Blocking kept A's block: the erased customer is still refused.
    let verdict = suite
        .clients
        .blocking
        .clone()
        .check_identities(authed(
            &agent,
            CheckIdentitiesRequest {
                identities: vec![CustomerIdentity {
                    kind: IdentityKind::WebVisitor as i32,
                    value: a.visitor.clone(),
                }],
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        verdict.blocked,
        "an erasure must not lift a block: {:?} {:?} {:?}",
        dump(&db(&suite, "blocking").await, "blocks").await,
        dump(&db(&suite, "blocking").await, "block_identities").await,
        dump(&db(&suite, "blocking").await, "erasure_keys").await,
    );

    // A second erasure changes nothing more.
    let digest = |db: DatabaseConnection, cid: String| async move {
        db.query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT coalesce(md5(string_agg(x::text, '|' ORDER BY x.id)), '') AS d FROM messages x WHERE conversation_id = '{cid}'"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<String>("", "d")
        .unwrap()
    };
    let before = (
        digest(conversations.clone(), a.conversation_id.clone()).await,
        digest(conversations.clone(), b.conversation_id.clone()).await,
    );
    let again = privacy
        .erase_customer(authed(
            &admin,
            prv::EraseCustomerRequest {
                identities: a.identities(),
                confirm: true,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    wait_erased(&mut privacy, &admin, &again.id).await;
    let after = (
        digest(conversations.clone(), a.conversation_id.clone()).await,
        digest(conversations.clone(), b.conversation_id.clone()).await,
    );
    assert_eq!(before, after, "a second erasure changed messages");
    assert_eq!(all_hits(&suite, &b.markers()).await, b_after);

    suite.stop().await.unwrap();
}

// spec: PRV-3
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retention_purges_only_conversations_ended_before_the_period() {
    let suite = Suite::start().await.unwrap();
    let org = Uuid::now_v7();
    let admin = suite.env.token(org, "admin-ada", Role::Admin);
    let agent = suite.env.token(org, "agent-alan", Role::Agent);
    let mut conv = suite.clients.conversations.clone();
    // Out-of-range settings are refused and change nothing.
    let bad = conv
        .update_settings(authed(
            &admin,
            cnv::ConversationSettings {
                mask_pii: true,
                natural_close_days: 7,
                retention_days: 40_000,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    suite
        .clients
        .routing
        .clone()
        .set_agent_state(authed(
            &agent,
            rtg::SetAgentStateRequest {
                state: rtg::AgentState::Available as i32,
                display_name: "Alan".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for who in ["oldvisitorqq", "newvisitorqq"] {
        let visitor = suite.env.token(
            org,
            &format!("{who}-{}", Uuid::now_v7().simple()),
            Role::Visitor,
        );
        let started = conv
            .start_conversation(authed(
                &visitor,
                cnv::StartConversationRequest {
                    channel: Channel::WebChat as i32,
                    customer: Some(cnv::Customer {
                        name: format!("{who} name"),
                        ..Default::default()
                    }),
                    first_message: format!("text of {who}"),
                    client_request_id: Uuid::now_v7().to_string(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        let Some(cnv::start_conversation_response::Outcome::Conversation(c)) = started.outcome
        else {
            panic!("not started");
        };
        conv.end_conversation(authed(
            &admin,
            cnv::EndConversationRequest {
                id: c.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
        ids.push(c.id);
    }
    let db = db(&suite, "conversations").await;
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!(
            "UPDATE conversations SET ended_at = now() - interval '2 days' WHERE id = '{}'",
            ids[0]
        ),
    ))
    .await
    .unwrap();
    conv.update_settings(authed(
        &admin,
        cnv::ConversationSettings {
            mask_pii: true,
            natural_close_days: 7,
            retention_days: 1,
        },
    ))
    .await
    .unwrap();
    let erasure: String = eventually(30, "the retention sweep to claim the old conversation", || {
        let db = db.clone();
        let old = ids[0].clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(
                    db.get_database_backend(),
                    format!("SELECT erasure_id::text AS e FROM conversations WHERE id = '{old}' AND erasure_id IS NOT NULL"),
                ))
                .await
                .ok()??;
            row.try_get::<String>("", "e").ok()
        }
    })
    .await
    .unwrap();
    let mut privacy = PrivacyServiceClient::new(suite.conversations.channel().await.unwrap());
    wait_erased(&mut privacy, &admin, &erasure).await;
    let old = hits(&db, &["oldvisitorqq".to_owned()]).await;
    assert!(
        old.is_empty(),
        "the old conversation was not purged: {old:?}"
    );
    let recent = hits(&db, &["newvisitorqq".to_owned()]).await;
    assert!(
        recent.contains_key("messages") && recent.contains_key("conversations"),
        "{recent:?}"
    );
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) AS n FROM conversations WHERE id = '{}' AND erasure_id IS NULL",
                ids[1]
            )
        )
        .await,
        1,
        "the recent conversation must stay"
    );
    suite.stop().await.unwrap();
}

// spec: PRV-1
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_export_fails_closed_when_a_service_is_down() {
    let mut suite = Suite::start().await.unwrap();
    let org = Uuid::now_v7();
    let admin = suite.env.token(org, "admin-ada", Role::Admin);
    let mut privacy = PrivacyServiceClient::new(suite.conversations.channel().await.unwrap());
    let ask = || prv::ExportCustomerDataRequest {
        identities: vec![CustomerIdentity {
            kind: IdentityKind::Email as i32,
            value: "someone@example.com".into(),
        }],
    };
    // With every service up, an export of nobody is an empty document.
    privacy
        .export_customer_data(authed(&admin, ask()))
        .await
        .unwrap();
    // Reporting down: no partial export presented as complete.
    suite.reporting.shutdown().await.unwrap();
    let down = privacy
        .export_customer_data(authed(&admin, ask()))
        .await
        .unwrap_err();
    assert_eq!(down.code(), tonic::Code::Unavailable, "{down:?}");
    suite.stop().await.unwrap();
}
