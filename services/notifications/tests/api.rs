//! Bad input, roles, tenancy, email deliveries, idempotency, retention and
//! shutdown of the notifications service.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;
use livedesk_auth::Role;
use livedesk_events::{EventHandler, Outbox, ReceivedEvent, Subjects};
use livedesk_platform::db::stmt;
use livedesk_proto::EventType;
use livedesk_proto::conversations::v1 as cv;
use livedesk_proto::events::v1::EventEnvelope;
use livedesk_proto::notifications::v1::{
    DeliveryStatus, EmailDelivery, GetEmailDeliveryRequest, ListEmailDeliveriesRequest,
    SubscribeRequest,
};
use livedesk_testkit::{TestEnv, authed, eventually, new_org};
use prost::Message as _;
use sea_orm::{ConnectionTrait, TransactionTrait};
use tonic::Code;
use uuid::Uuid;

async fn count(db: &sea_orm::DatabaseConnection, sql: &str, org: Uuid) -> i64 {
    let row = db
        .query_one_raw(stmt(sql, [org.into()]))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

// spec: TEN-4
// spec: NTF-1
#[tokio::test]
async fn subscribe_refuses_bad_start_points_and_services() {
    let env = TestEnv::new().await.unwrap();
    let (_svc, client) = start(&env).await;
    let org = new_org();
    let visitor = env.token(org, "visitor-1", Role::Visitor);
    let both = client
        .clone()
        .subscribe(authed(
            &visitor,
            SubscribeRequest {
                after_sequence: 3,
                replay_all: true,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(both.code(), Code::InvalidArgument);
    assert!(both.message().contains("replay_all"), "{}", both.message());
    let ahead = client
        .clone()
        .subscribe(authed(
            &visitor,
            SubscribeRequest {
                after_sequence: 9,
                replay_all: false,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(ahead.code(), Code::InvalidArgument);
    assert!(ahead.message().contains("after_sequence"));
    let service = env.token(org, "routing", Role::Service);
    let denied = client
        .clone()
        .subscribe(authed(&service, SubscribeRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let anonymous = client
        .clone()
        .subscribe(tonic::Request::new(SubscribeRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
}

async fn deliveries(
    env: &TestEnv,
    client: &Client,
    org: Uuid,
    request: &str,
    n: usize,
) -> Vec<EmailDelivery> {
    let token = env.token(org, "sup-1", Role::Supervisor);
    eventually(30, "email deliveries recorded", || async {
        let list = client
            .clone()
            .list_email_deliveries(authed(
                &token,
                ListEmailDeliveriesRequest {
                    request_id: request.to_owned(),
                },
            ))
            .await
            .ok()?
            .into_inner();
        (list.deliveries.len() >= n).then_some(list.deliveries)
    })
    .await
    .unwrap()
}

fn email(request: &str, conversation: &str, to: &str, subject: &str) -> cv::EmailRequested {
    cv::EmailRequested {
        email_id: Uuid::now_v7().to_string(),
        request_id: request.to_owned(),
        conversation_id: conversation.to_owned(),
        to: vec![to.to_owned()],
        subject: subject.to_owned(),
        text_body: "Transcript".into(),
        kind: "transcript".into(),
        ..Default::default()
    }
}

// spec: NTF-2
// spec: NTF-3
// spec: TEN-3
// spec: TEN-4
#[tokio::test]
async fn email_requests_are_recorded_validated_suppressed_and_queryable_by_staff_of_the_org() {
    let env = TestEnv::new().await.unwrap();
    let smtp = livedesk_testkit::smtp::SmtpServer::start().await.unwrap();
    let (_svc, client) = start_with_smtp(&env, &smtp.url(), &[]).await;
    let org = new_org();
    let (request, conv, blocked_conv) = (
        Uuid::now_v7().to_string(),
        Uuid::now_v7().to_string(),
        Uuid::now_v7().to_string(),
    );
    // A conversation that ended BLOCKED: its customer gets no email (NTF-3).
    let ended = cv::ConversationEnded {
        conversation_id: blocked_conv.clone(),
        status: cv::ConversationStatus::Blocked as i32,
        customer_principal_id: "visitor-9".into(),
        ..Default::default()
    };
    publish(&env, "conversations", org, &blocked_conv, &ended).await;
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &email(&request, &conv, "ana@shop.example", "Your transcript"),
    )
    .await;
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &email(
            &request,
            &conv,
            "ana@shop.example",
            "Hi\r\nBcc: spy@evil.example",
        ),
    )
    .await;
    publish(
        &env,
        "conversations",
        org,
        &blocked_conv,
        &email(
            &request,
            &blocked_conv,
            "bad@guy.example",
            "Your transcript",
        ),
    )
    .await;
    // Events of different conversations are handled concurrently (ordered
    // lanes per aggregate), so the deliveries' order is not the publish
    // order: compare by status.
    // The valid one is sent by the delivery worker (tests/smtp.rs).
    let mut list = eventually(30, "the valid email sent", || async {
        let list = deliveries(&env, &client, org, &request, 3).await;
        list.iter()
            .any(|d| d.status == DeliveryStatus::Sent as i32)
            .then_some(list)
    })
    .await
    .unwrap();
    list.sort_by_key(|d| d.status);
    let statuses: Vec<i32> = list.iter().map(|d| d.status).collect();
    assert_eq!(
        statuses,
        [
            DeliveryStatus::Sent as i32,
            DeliveryStatus::Failed as i32,
            DeliveryStatus::Suppressed as i32
        ],
        "{list:?}"
    );
    assert!(
        list[1].last_error.contains("subject"),
        "header injection refused: {}",
        list[1].last_error
    );
    assert!(!list[1].last_error.contains('@'), "no address in the error");

    let staff = env.token(org, "agent-1", Role::Agent);
    let got = client
        .clone()
        .get_email_delivery(authed(
            &staff,
            GetEmailDeliveryRequest {
                id: list[0].id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, list[0]);
    let other_org = env.token(new_org(), "agent-1", Role::Agent);
    let hidden = client
        .clone()
        .get_email_delivery(authed(
            &other_org,
            GetEmailDeliveryRequest {
                id: list[0].id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let listed = client
        .clone()
        .list_email_deliveries(authed(
            &other_org,
            ListEmailDeliveriesRequest {
                request_id: request.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.deliveries.is_empty());
    let visitor = env.token(org, "visitor-1", Role::Visitor);
    let denied = client
        .clone()
        .get_email_delivery(authed(
            &visitor,
            GetEmailDeliveryRequest {
                id: list[0].id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let bad = client
        .clone()
        .get_email_delivery(authed(
            &staff,
            GetEmailDeliveryRequest { id: "nope".into() },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let empty = client
        .clone()
        .list_email_deliveries(authed(&staff, ListEmailDeliveriesRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument);
}

fn received<E: EventType>(producer: &str, org: Uuid, event: &E) -> ReceivedEvent {
    let envelope = EventEnvelope {
        event_id: Uuid::now_v7().to_string(),
        org_id: org.to_string(),
        occurred_at: None,
        r#type: E::TYPE.to_owned(),
        aggregate_id: String::new(),
        schema_version: 1,
        producer: producer.to_owned(),
        payload: event.encode_to_vec(),
        aggregate_sequence: 0,
    };
    ReceivedEvent::decode("test", &envelope.encode_to_vec()).unwrap()
}

// spec: EVT-3
#[tokio::test]
async fn handling_the_same_event_twice_changes_nothing_twice() {
    let env = TestEnv::new().await.unwrap();
    let (_svc, _client) = start(&env).await; // migrates the database
    let db = db(&env).await;
    let nats = env.nats().await.unwrap();
    let subjects = Subjects::new(env.prefix.clone());
    let outbox = Outbox::new(
        db.clone(),
        async_nats::jetstream::new(nats.clone()),
        subjects.clone(),
        "notifications",
    );
    let handler = livedesk_notifications::FeedEvents::new(nats, subjects, outbox);
    let org = new_org();
    let conv = Uuid::now_v7().to_string();
    let events = [
        received("conversations", org, &queued(&conv, "q1", "visitor-1")),
        received(
            "conversations",
            org,
            &message(
                &conv,
                "agent-1",
                "hi",
                &["visitor-1", "agent-1"],
                "visitor-1",
            ),
        ),
        received(
            "conversations",
            org,
            &cv::ConversationEnded {
                conversation_id: conv.clone(),
                agent_ids: vec!["agent-1".into()],
                ..Default::default()
            },
        ),
        received(
            "conversations",
            org,
            &email("r1", &conv, "ana@shop.example", "Transcript"),
        ),
    ];
    for _ in 0..2 {
        for event in &events {
            let txn = db.begin().await.unwrap();
            handler.handle(&txn, event).await.unwrap();
            txn.commit().await.unwrap();
        }
    }
    // visitor: message + ended; agent: ended.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM notifications WHERE org_id = $1",
            org
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &db,
            "SELECT coalesce(sum(last_seq), 0)::bigint AS n FROM feeds WHERE org_id = $1",
            org
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM email_deliveries WHERE org_id = $1",
            org
        )
        .await,
        1
    );
}

// spec: NTF-1
#[tokio::test]
async fn retention_deletes_old_rows_and_keeps_numbering() {
    let env = TestEnv::new().await.unwrap();
    let (_svc, client) = start(&env).await;
    let db = db(&env).await;
    let org = new_org();
    let conv = Uuid::now_v7().to_string();
    let mut visitor = subscribe(&env, &client, org, "visitor-1", Role::Visitor, 0, false).await;
    for t in ["old", "new"] {
        publish(
            &env,
            "conversations",
            org,
            &conv,
            &message(&conv, "agent-1", t, &["visitor-1"], "visitor-1"),
        )
        .await;
    }
    next(&mut visitor).await;
    next(&mut visitor).await;
    db.execute_raw(stmt("UPDATE notifications SET created_at = now() - interval '8 days' WHERE org_id = $1 AND seq = 1", [org.into()]))
        .await
        .unwrap();
    let deleted = livedesk_notifications::sweep_retention(&db, 7, &Default::default())
        .await
        .unwrap();
    assert!(deleted >= 1);
    let mut all = subscribe(&env, &client, org, "visitor-1", Role::Visitor, 0, true).await;
    let kept = next(&mut all).await;
    assert_eq!((kept.sequence, text(&kept)), (2, "new".into()));
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &message(&conv, "agent-1", "next", &["visitor-1"], "visitor-1"),
    )
    .await;
    assert_eq!(
        next(&mut visitor).await.sequence,
        3,
        "numbering continues after a sweep"
    );
}

// spec: NTF-1
#[tokio::test]
async fn an_undecodable_feed_row_ends_the_stream_with_internal_and_is_never_skipped() {
    let env = TestEnv::new().await.unwrap();
    let (_svc, client) = start(&env).await;
    let db = db(&env).await;
    let org = new_org();
    // Row 1 is not an encoded Notification (a field with an invalid wire
    // type); row 2 is a good one. Skipping the first would send the second.
    let good = livedesk_proto::notifications::v1::Notification {
        conversation_id: "c-1".into(),
        ..Default::default()
    }
    .encode_to_vec();
    db.execute_raw(stmt(
        "INSERT INTO feeds (org_id, recipient, last_seq) VALUES ($1, 'visitor-1', 2)",
        [org.into()],
    ))
    .await
    .unwrap();
    for (seq, body) in [(1i64, vec![0x0f_u8, 0xff, 0xff]), (2, good)] {
        db.execute_raw(stmt(
            "INSERT INTO notifications (org_id, recipient, seq, event_id, conversation_id, kind, body) \
             VALUES ($1, 'visitor-1', $2, $3, 'c-1', 'message', $4)",
            [org.into(), seq.into(), Uuid::now_v7().into(), body.into()],
        ))
        .await
        .unwrap();
    }
    let mut stream = subscribe(&env, &client, org, "visitor-1", Role::Visitor, 0, true).await;
    let first = tokio::time::timeout(std::time::Duration::from_secs(30), stream.message())
        .await
        .expect("the stream answered");
    match first {
        Err(status) => {
            assert_eq!(status.code(), Code::Internal, "{status:?}");
            assert_eq!(status.message(), "internal error", "nothing internal leaks");
        }
        Ok(item) => panic!("the undecodable row was skipped or sent: {item:?}"),
    }
}

// spec: NTF-2
#[tokio::test]
async fn a_delivery_status_the_service_does_not_know_cannot_be_stored() {
    let env = TestEnv::new().await.unwrap();
    let (_svc, _client) = start(&env).await;
    let db = db(&env).await;
    let insert = |status: &'static str| {
        stmt(
            "INSERT INTO email_deliveries (id, org_id, source_event_id, kind, recipients, subject, status) \
             VALUES ($1, $2, $3, 'transcript', '{}', 's', $4)",
            [
                Uuid::now_v7().into(),
                new_org().into(),
                Uuid::now_v7().into(),
                status.into(),
            ],
        )
    };
    db.execute_raw(insert("sent")).await.unwrap();
    for unknown in ["delivered", "2", "SENT"] {
        let err = db.execute_raw(insert(unknown)).await.unwrap_err();
        assert_eq!(
            livedesk_platform::db::constraint_name(&err).as_deref(),
            Some("email_deliveries_status_known"),
            "{unknown:?}: {err}"
        );
    }
}

// spec: TEN-7
#[tokio::test]
async fn shutdown_ends_open_streams_and_completes() {
    let env = TestEnv::new().await.unwrap();
    // A long grace period: a stream left open would hold the stop for all
    // of it, so a stop well inside it shows the streams were ended.
    let grace = std::time::Duration::from_secs(20);
    let vars = [(
        "LIVEDESK_SHUTDOWN_GRACE_SECONDS".to_owned(),
        grace.as_secs().to_string(),
    )];
    let svc = livedesk_testkit::spawn::<livedesk_notifications::App>(
        &env.service_env("notifications", &vars),
    )
    .await
    .unwrap();
    let client = Client::new(svc.channel().await.unwrap());
    let org = new_org();
    let mut visitor = subscribe(&env, &client, org, "visitor-1", Role::Visitor, 0, false).await;
    let started = std::time::Instant::now();
    let stopped = tokio::time::timeout(grace * 2, svc.stop()).await;
    assert!(
        matches!(stopped, Ok(Ok(()))),
        "graceful stop completed: {stopped:?}"
    );
    assert!(
        started.elapsed() < grace / 2,
        "the stop waited {:?}: open streams held it (grace {grace:?})",
        started.elapsed()
    );
    let end = tokio::time::timeout(std::time::Duration::from_secs(30), visitor.message())
        .await
        .unwrap();
    assert!(!matches!(end, Ok(Some(_))), "the stream ended: {end:?}");
}
