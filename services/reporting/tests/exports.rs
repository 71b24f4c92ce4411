//! Streamed CSV exports (RPT-4, RPT-5, BLK-7).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, Times, col, ended, parse_csv, ts};
use livedesk_auth::Role;
use livedesk_proto::blocking::v1::{Block, CustomerBlocked, CustomerUnblocked};
use livedesk_proto::common::v1::{CustomerIdentity, IdentityKind};
use livedesk_proto::conversations::v1::{ConversationStatus, MessageDropped};
use livedesk_proto::reporting::v1::ExportKind;
use livedesk_proto::routing::v1::{AgentState, AgentStateChanged, WrapUp, WrapUpSubmitted};
use livedesk_proto::scheduling::v1::{FieldValue, FormSubmission, FormSubmitted};
use livedesk_testkit::{eventually, new_org};
use uuid::Uuid;

// spec: RPT-4, RPT-5
#[tokio::test]
async fn conversations_export_is_safe_csv_within_org_and_role() {
    let h = Harness::start().await;
    let org = new_org();
    let (c1, c2) = (Uuid::now_v7(), Uuid::now_v7());
    let e1 = ended(
        c1,
        &["=cmd()", "vip"],
        &["a1"],
        Times {
            queued: 0,
            assigned: Some(10),
            first_response: Some(20),
            ended: 110,
        },
        ConversationStatus::Ended,
        false,
    );
    let e2 = ended(
        c2,
        &["après-vente"],
        &["a2"],
        Times {
            queued: 0,
            assigned: Some(30),
            first_response: None,
            ended: 330,
        },
        ConversationStatus::Blocked,
        false,
    );
    h.publish("conversations", org, &c1.to_string(), &e1).await;
    h.publish("conversations", org, &c2.to_string(), &e2).await;
    let wrap = WrapUpSubmitted {
        wrap_up: Some(WrapUp {
            conversation_id: c2.to_string(),
            agent_id: "a2".into(),
            code: "refund".into(),
            automatic: false,
            submitted_at: ts(340),
        }),
    };
    h.publish("routing", org, &c2.to_string(), &wrap).await;
    let sup = h.token(org, "sup-1", Role::Supervisor);
    let (header, rows) = eventually(
        20,
        "both conversations and the wrap-up exported",
        || async {
            let (header, rows) = parse_csv(
                &h.export(&sup, ExportKind::Conversations, false, false)
                    .await
                    .ok()?,
                false,
            );
            (rows.len() == 2 && col(&header, &rows[1], "wrap_up_code") == "refund")
                .then_some((header, rows))
        },
    )
    .await
    .unwrap();
    assert_eq!(header[0], "conversation_id");
    assert_eq!(header.len(), 16);
    // Key order: by ended_at.
    assert_eq!(col(&header, &rows[0], "conversation_id"), c1.to_string());
    assert_eq!(
        col(&header, &rows[0], "tags"),
        "'=cmd()|vip",
        "formula escaped"
    );
    assert_eq!(col(&header, &rows[0], "wait_seconds"), "10.000");
    assert_eq!(col(&header, &rows[0], "handle_seconds"), "100.000");
    assert_eq!(col(&header, &rows[0], "first_response_seconds"), "20.000");
    assert_eq!(col(&header, &rows[0], "messages"), "7");
    assert_eq!(col(&header, &rows[0], "blocked"), "false");
    assert_eq!(
        col(&header, &rows[0], "ended_at"),
        "2026-01-01T10:01:50.000Z"
    );
    assert_eq!(col(&header, &rows[1], "tags"), "après-vente", "UTF-8 kept");
    assert_eq!(col(&header, &rows[1], "status"), "blocked");
    assert_eq!(col(&header, &rows[1], "blocked"), "true");

    // `;` and BOM for spreadsheet locales.
    let bytes = h
        .export(&sup, ExportKind::Conversations, true, true)
        .await
        .unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBFconversation_id;created_at;"));
    let (_, semi_rows) = parse_csv(&bytes, true);
    assert_eq!(semi_rows, rows);

    // RPT-5: an agent exports only their own conversations; another org nothing.
    let agent = h.token(org, "a2", Role::Agent);
    let (_, mine) = parse_csv(
        &h.export(&agent, ExportKind::Conversations, false, false)
            .await
            .unwrap(),
        false,
    );
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0][0], c2.to_string());
    let stranger = h.token(new_org(), "sup-x", Role::Admin);
    let (header_only, none) = parse_csv(
        &h.export(&stranger, ExportKind::Conversations, false, false)
            .await
            .unwrap(),
        false,
    );
    assert_eq!(header_only, header);
    assert!(none.is_empty());
    let visitor = h.token(org, "v-1", Role::Visitor);
    assert_eq!(
        h.export(&visitor, ExportKind::Conversations, false, false)
            .await
            .unwrap_err()
            .code(),
        tonic::Code::PermissionDenied
    );
}

// spec: BLK-7, RPT-4
#[tokio::test]
async fn blocked_conversations_export_masks_identities_and_counts_dropped_messages() {
    let h = Harness::start().await;
    let org = new_org();
    let (conversation, block_id) = (Uuid::now_v7(), Uuid::now_v7());
    let dropped = MessageDropped {
        conversation_id: conversation.to_string(),
        block_id: block_id.to_string(),
        identity: None,
    };
    // Two drops arrive before the block itself (another stream): tolerated.
    h.publish("conversations", org, &conversation.to_string(), &dropped)
        .await;
    h.publish("conversations", org, &conversation.to_string(), &dropped)
        .await;
    let mut block = Block {
        id: block_id.to_string(),
        conversation_id: conversation.to_string(),
        identities: vec![
            CustomerIdentity {
                kind: IdentityKind::Email as i32,
                value: "melissa@gmail.com".into(),
            },
            CustomerIdentity {
                kind: IdentityKind::Phone as i32,
                value: "+447966197542".into(),
            },
        ],
        reason: "abusive".into(),
        blocked_by: "a1".into(),
        blocked_at: ts(100),
        active: true,
        channel: 3,
        customer_name: "+447966197542".into(),
        ..Default::default()
    };
    h.publish(
        "blocking",
        org,
        &block_id.to_string(),
        &CustomerBlocked {
            block: Some(block.clone()),
        },
    )
    .await;
    h.publish("conversations", org, &conversation.to_string(), &dropped)
        .await;
    block.unblocked_by = "admin-1".into();
    block.unblocked_at = ts(500);
    block.active = false;
    h.publish(
        "blocking",
        org,
        &block_id.to_string(),
        &CustomerUnblocked { block: Some(block) },
    )
    .await;

    let admin = h.token(org, "admin-1", Role::Admin);
    let (header, rows) = eventually(
        20,
        "the block exported with three drops and its unblock",
        || async {
            let (header, rows) = parse_csv(
                &h.export(&admin, ExportKind::BlockedConversations, false, false)
                    .await
                    .ok()?,
                false,
            );
            let done = rows.len() == 1
                && col(&header, &rows[0], "dropped_messages") == "3"
                && col(&header, &rows[0], "unblocked_by") == "admin-1";
            done.then_some((header, rows))
        },
    )
    .await
    .unwrap();
    let r = &rows[0];
    assert_eq!(col(&header, r, "block_id"), block_id.to_string());
    assert_eq!(col(&header, r, "conversation_id"), conversation.to_string());
    assert_eq!(col(&header, r, "blocked_by"), "a1");
    assert_eq!(col(&header, r, "reason"), "abusive");
    assert_eq!(col(&header, r, "channel"), "whatsapp");
    assert_eq!(col(&header, r, "unblocked_at"), "2026-01-01T10:08:20.000Z");
    let identity = col(&header, r, "customer_identity");
    assert!(
        identity.contains("email:") && identity.contains("phone:"),
        "{identity}"
    );
    assert!(!identity.contains("melissa@"), "email masked: {identity}");
    assert!(!identity.contains("+4479661"), "phone masked: {identity}");
    assert!(identity.contains("7542"), "last digits kept: {identity}");
    assert_eq!(col(&header, r, "customer_name"), "*********7542");

    // Another org sees nothing; a visitor is refused.
    let stranger = h.token(new_org(), "admin-x", Role::Admin);
    let (_, none) = parse_csv(
        &h.export(&stranger, ExportKind::BlockedConversations, false, false)
            .await
            .unwrap(),
        false,
    );
    assert!(none.is_empty());
    let visitor = h.token(org, "v-1", Role::Visitor);
    assert_eq!(
        h.export(&visitor, ExportKind::BlockedConversations, false, false)
            .await
            .unwrap_err()
            .code(),
        tonic::Code::PermissionDenied
    );
}

// spec: RPT-4, RPT-5
#[tokio::test]
async fn agent_activity_and_form_submissions_export() {
    let h = Harness::start().await;
    let org = new_org();
    let change = |agent: &str, from: AgentState, to: AgentState, reason: &str| AgentStateChanged {
        agent_id: agent.into(),
        from: from as i32,
        to: to as i32,
        away_reason: reason.into(),
        changed_by: "a1".into(),
    };
    h.publish(
        "routing",
        org,
        "a1",
        &change("a1", AgentState::Offline, AgentState::Available, ""),
    )
    .await;
    h.publish(
        "routing",
        org,
        "a1",
        &change("a1", AgentState::Available, AgentState::Away, "lunch"),
    )
    .await;
    let conversation = Uuid::now_v7();
    let wrap = WrapUpSubmitted {
        wrap_up: Some(WrapUp {
            conversation_id: conversation.to_string(),
            agent_id: "a1".into(),
            code: "sold".into(),
            automatic: true,
            submitted_at: None,
        }),
    };
    h.publish("routing", org, &conversation.to_string(), &wrap)
        .await;
    h.publish(
        "routing",
        org,
        "a2",
        &change("a2", AgentState::Offline, AgentState::Available, ""),
    )
    .await;
    let submission = FormSubmission {
        id: Uuid::now_v7().to_string(),
        form_id: "offline".into(),
        kind: 1,
        values: vec![
            FieldValue {
                key: "name".into(),
                value: "Melissa".into(),
            },
            FieldValue {
                key: "email".into(),
                value: "melissa@gmail.com".into(),
            },
            FieldValue {
                key: "message".into(),
                value: "=HYPERLINK(\"x\")".into(),
            },
        ],
        submitted_at: None,
        dropped: false,
        queue_id: "sales".into(),
        ..Default::default()
    };
    h.publish(
        "scheduling",
        org,
        &submission.id,
        &FormSubmitted {
            submission: Some(submission.clone()),
            notify_email: String::new(),
            ..Default::default()
        },
    )
    .await;

    let sup = h.token(org, "sup-1", Role::Supervisor);
    let (header, rows) = eventually(20, "agent activity exported", || async {
        let (header, rows) = parse_csv(
            &h.export_in(&sup, ExportKind::AgentActivity, None, false, false)
                .await
                .ok()?,
            false,
        );
        (rows.len() == 4).then_some((header, rows))
    })
    .await
    .unwrap();
    let a1: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "a1").collect();
    let states: Vec<&Vec<String>> = a1
        .iter()
        .copied()
        .filter(|r| col(&header, r, "record") == "state")
        .collect();
    assert_eq!(states.len(), 2);
    assert_eq!(col(&header, states[0], "state"), "available");
    assert_eq!(
        col(&header, states[0], "ended_at"),
        col(&header, states[1], "started_at"),
        "intervals are contiguous"
    );
    assert!(!col(&header, states[0], "duration_seconds").is_empty());
    assert_eq!(col(&header, states[1], "state"), "away");
    assert_eq!(col(&header, states[1], "reason_or_code"), "lunch");
    assert!(
        col(&header, states[1], "duration_seconds").is_empty(),
        "the current state is still open"
    );
    assert!(
        a1.iter().any(|r| col(&header, r, "record") == "wrap_up"
            && col(&header, r, "reason_or_code") == "sold")
    );

    // An agent sees only their own activity.
    let agent = h.token(org, "a2", Role::Agent);
    let (_, mine) = parse_csv(
        &h.export_in(&agent, ExportKind::AgentActivity, None, false, false)
            .await
            .unwrap(),
        false,
    );
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0][0], "a2");

    let (header, rows) = eventually(20, "the form submission exported", || async {
        let (header, rows) = parse_csv(
            &h.export_in(&sup, ExportKind::FormSubmissions, None, false, false)
                .await
                .ok()?,
            false,
        );
        (rows.len() == 1).then_some((header, rows))
    })
    .await
    .unwrap();
    assert_eq!(col(&header, &rows[0], "submission_id"), submission.id);
    assert_eq!(col(&header, &rows[0], "kind"), "offline");
    let fields = col(&header, &rows[0], "fields");
    assert!(fields.starts_with("name=Melissa; email="), "{fields}");
    assert!(!fields.contains("melissa@"), "email masked: {fields}");
    // Form submissions are for supervisors and admins only.
    assert_eq!(
        h.export(&agent, ExportKind::FormSubmissions, false, false)
            .await
            .unwrap_err()
            .code(),
        tonic::Code::PermissionDenied
    );
}

// spec: RPT-4
#[tokio::test]
async fn bad_export_requests_are_invalid_arguments() {
    let h = Harness::start().await;
    let sup = h.token(new_org(), "sup-1", Role::Supervisor);
    let err = h
        .export(&sup, ExportKind::Unspecified, false, false)
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("kind"), "{}", err.message());
}

/// The conversations export makes its cells safe in SQL
/// (`livedesk_safe_cell`, and `livedesk_safe_list`, which makes every
/// `|`-separated part safe), the other kinds in Rust (`safe_cell`): the
/// rules give the same answer on every kind of cell, formula starts,
/// quotes, line breaks and UTF-8 included.
#[tokio::test]
async fn the_sql_and_the_rust_formula_rules_agree() {
    use livedesk_reporting::domain::safe_cell;
    use sea_orm::{ConnectionTrait, Database};
    let h = Harness::start().await;
    let db = Database::connect(h.env.database_url("reporting"))
        .await
        .unwrap();
    let cells = [
        "",
        "plain",
        "=cmd()",
        "+1",
        "-1",
        "@SUM(A1)",
        "\t=x",
        "\r=x",
        "'quoted",
        "a\"b",
        "line\nbreak",
        "après-vente",
        " =space first",
        "==",
        "-",
        "日本語",
    ];
    for cell in cells {
        let row = db
            .query_one_raw(livedesk_platform::db::stmt(
                "SELECT livedesk_safe_cell($1) AS one, livedesk_safe_list(ARRAY[$1, $1]) AS list",
                [cell.into()],
            ))
            .await
            .unwrap()
            .unwrap();
        let one: String = row.try_get("", "one").unwrap();
        let list: String = row.try_get("", "list").unwrap();
        assert_eq!(one, safe_cell(cell), "{cell:?}");
        let each = safe_cell(cell).into_owned();
        assert_eq!(list, safe_cell(&format!("{each}|{each}")), "{cell:?}");
    }
}

/// The conversations export formats in the service what its first
/// streamed version formatted in SQL (`0005_export_functions.sql` and the
/// expressions below): the two give the same bytes, CRLF row ends aside,
/// for both delimiters, on rows made to hit every rule: formula starts in
/// text and in every `|`-separated part of a list (inside an element too),
/// NULL and empty values, quotes, delimiters and line breaks, floats at
/// every magnitude and on rounding ties, NaN and the infinities, timestamps
/// BC, after 9999 and infinite, 2-D arrays and NULL elements.
// spec: RPT-4
#[tokio::test]
async fn the_export_writes_what_the_sql_formatting_wrote() {
    use livedesk_platform::labels::{StoredEnum, sql_list};
    use livedesk_proto::common::v1::Channel;
    use livedesk_proto::conversations::v1::EndedBy;
    use sea_orm::sqlx::postgres::PgPoolCopyExt as _;
    use sea_orm::{ConnectionTrait, Database};
    use tokio_stream::StreamExt;

    fn label<E: StoredEnum>(column: &str) -> String {
        format!(
            "CASE WHEN {column} IN {} THEN {column} ELSE livedesk_unknown_label('conversation_facts.{column}') END",
            sql_list(E::ALL)
        )
    }
    let time =
        |c: &str| format!("to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");
    let text = |e: &str| format!("NULLIF(livedesk_safe_cell({e}), '')");
    let seconds = |c: &str| format!("round({c}::numeric, 3)");

    let h = Harness::start().await;
    let db = Database::connect(h.env.database_url("reporting"))
        .await
        .unwrap();
    let org = new_org();
    // One statement: random() follows the seed set in it.
    db.execute_unprepared(&format!(
        "SELECT setseed(0.11); \
         INSERT INTO conversation_facts (org_id, conversation_id, queue_id, channel, agent_ids, tags, reason, status, \
             ended_by, created_at, ended_at, message_count, blocked, wait_seconds, handle_seconds, \
             first_response_seconds, wrap_up_code) \
         SELECT '{org}', gen_random_uuid(), \
             (ARRAY['q1', '', '=q', 'a,b', 'a;b'])[1 + i % 5], \
             (ARRAY['unspecified', 'web_chat', 'messenger', 'whatsapp', 'instagram', 'email'])[1 + i % 6], \
             (ARRAY['{{}}', '{{a1}}', '{{a1,-a2}}', '{{NULL,\"\"}}', '{{\"\",\"\"}}', '{{\"x|=y\",\"@z\"}}', \
                    '{{{{a,=b}},{{c,d}}}}'])[1 + i % 7]::text[], \
             (ARRAY['{{}}', '{{billing,vip}}', '{{\"=HYPERLINK(\\\"x\\\")\",+1}}', '{{\"a,b\",\"c;d\",\"e\\\"f\"}}', \
                    E'{{\"\\tt\",\"\\rr\",\"l\\nl\"}}', '{{après-vente,日本語}}', '{{NULL}}', '{{|,||-}}'])[1 + i % 8]::text[], \
             (ARRAY['', 'question', 'refund, partial', 'said \"hello\"', E'two\\nlines', E'cr\\rhere', '=cmd()', \
                    '+33 6', '-', '@x', E'\\t=x', E'\\r=x', ' =space', 'a;b', 'après-vente', '''quoted'])[1 + i % 16], \
             (ARRAY['unspecified', 'queued', 'active', 'paused', 'ended', 'blocked'])[1 + i % 6], \
             (ARRAY['unspecified', 'agent', 'customer', 'inactivity', 'admin', 'resource_deleted', 'system'])[1 + i % 7], \
             CASE i % 9 WHEN 0 THEN NULL WHEN 1 THEN timestamptz '0044-03-15 12:00:00.123456Z BC' \
                 WHEN 2 THEN timestamptz '12345-06-07 08:09:10.999999Z' WHEN 3 THEN timestamptz '-infinity' \
                 ELSE timestamptz '1960-01-01Z' + make_interval(secs => random() * 4e9) END, \
             CASE WHEN i = 7 THEN timestamptz 'infinity' \
                 ELSE timestamptz '2026-01-01Z' + make_interval(secs => i * 0.0317) END, \
             i * 7919 - 1000000, i % 2 = 0, \
             CASE i % 11 WHEN 0 THEN NULL WHEN 1 THEN 'NaN' WHEN 2 THEN 'Infinity' WHEN 3 THEN '-Infinity' \
                 WHEN 4 THEN (i % 100) * 0.0005 WHEN 5 THEN -(i % 100) * 0.0005 WHEN 6 THEN 1234567890123455 + i \
                 ELSE (random() - 0.3) * 10 ^ (random() * 40 - 20) END, \
             CASE i % 4 WHEN 0 THEN '-0'::float8 WHEN 1 THEN 1e300 * random() WHEN 2 THEN 5e-324 ELSE random() * 1000 END, \
             random() * 100, \
             (ARRAY[NULL, '', 'resolved', '-escalated', 'follow up, later'])[1 + i % 5] \
         FROM generate_series(1, 3000) AS i"
    ))
    .await
    .unwrap();
    let cells = [
        "conversation_id".to_owned(),
        time("created_at"),
        time("ended_at"),
        text("queue_id"),
        label::<Channel>("channel"),
        "NULLIF(livedesk_safe_list(agent_ids), '')".to_owned(),
        "NULLIF(livedesk_safe_list(tags), '')".to_owned(),
        text("reason"),
        label::<ConversationStatus>("status"),
        label::<EndedBy>("ended_by"),
        seconds("wait_seconds"),
        seconds("handle_seconds"),
        seconds("first_response_seconds"),
        "message_count".to_owned(),
        text("wrap_up_code"),
        "CASE WHEN blocked THEN 'true' ELSE 'false' END".to_owned(),
    ]
    .join(", ");
    let pool = db.get_postgres_connection_pool();
    let sup = h.token(org, "sup-1", Role::Supervisor);
    for semicolon in [false, true] {
        let delimiter = if semicolon { ';' } else { ',' };
        let mut copied = Vec::new();
        let mut stream = pool
            .copy_out_raw(&format!(
                "COPY (SELECT {cells} FROM conversation_facts WHERE org_id = '{org}' AND ended_at IS NOT NULL \
                 ORDER BY ended_at, conversation_id) TO STDOUT WITH (FORMAT csv, DELIMITER '{delimiter}')"
            ))
            .await
            .unwrap();
        while let Some(piece) = stream.next().await {
            copied.extend_from_slice(&piece.unwrap());
        }
        drop(stream);
        // COPY's row ends are LF; a line break inside quotes stays.
        let mut want = Vec::with_capacity(copied.len() + 3000 * 2);
        let mut in_quotes = false;
        for b in copied {
            match b {
                b'"' => in_quotes = !in_quotes,
                b'\n' if !in_quotes => want.push(b'\r'),
                _ => {}
            }
            want.push(b);
        }
        let export = h
            .export_in(&sup, ExportKind::Conversations, None, semicolon, false)
            .await
            .unwrap();
        let header_end = export.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
        let got = &export[header_end..];
        if let Some(at) = got.iter().zip(&want).position(|(a, b)| a != b) {
            let line = want[..at]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            panic!(
                "delimiter {delimiter}: byte {at} differs\n  sql: {}\n  got: {}",
                String::from_utf8_lossy(&want[line..(at + 80).min(want.len())]),
                String::from_utf8_lossy(&got[line..(at + 80).min(got.len())]),
            );
        }
        assert_eq!(got.len(), want.len(), "delimiter {delimiter}");
    }
}

/// A client that goes away in the middle of a large conversations export
/// leaves no `COPY` running and no broken connection in the pool: the
/// `COPY`'s connection is closed, and later exports and statistics work.
#[tokio::test]
async fn an_export_the_client_abandons_leaves_nothing_running() {
    use livedesk_proto::reporting::v1::ExportCsvRequest;
    use livedesk_testkit::authed;
    use sea_orm::{ConnectionTrait, Database};
    use tokio_stream::StreamExt;
    let h = Harness::start().await;
    let db = Database::connect(h.env.database_url("reporting"))
        .await
        .unwrap();
    let org = new_org();
    // About 1 MB of CSV: far more than the two chunks in flight.
    db.execute_unprepared(&format!(
        "INSERT INTO conversation_facts (org_id, conversation_id, channel, status, ended_by, ended_at, reason) \
         SELECT '{org}', gen_random_uuid(), 'web_chat', 'ended', 'agent', \
                timestamptz '2026-01-01 10:00Z' + make_interval(secs => i), repeat('r', 300) \
         FROM generate_series(1, 3000) AS i"
    ))
    .await
    .unwrap();
    let sup = h.token(org, "sup-1", Role::Supervisor);
    for _ in 0..3 {
        let mut stream = h
            .client()
            .await
            .export_csv(authed(
                &sup,
                ExportCsvRequest {
                    kind: ExportKind::Conversations as i32,
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(!stream.next().await.unwrap().unwrap().data.is_empty());
        drop(stream);
    }
    eventually(20, "no COPY left running", || async {
        let running = livedesk_testkit::count(
            &db,
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT%' AND state <> 'idle'",
            [],
        )
        .await
        .ok()?;
        (running == 0).then_some(())
    })
    .await
    .unwrap();
    for _ in 0..3 {
        let whole = h
            .export_in(&sup, ExportKind::Conversations, None, false, false)
            .await
            .unwrap();
        assert_eq!(parse_csv(&whole, false).1.len(), 3000);
    }
}
