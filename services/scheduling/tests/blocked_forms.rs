//! Form submissions from blocked submitters (BLK-3, BLK-9): dropped before
//! anything is stored, answered like a stored submission, announced as
//! `FormSubmissionDropped` for blocking's count; blocking down fails closed.
//! The blocks are real (blocking's `BlockCustomer`/`BlockIp`), and the
//! count is read back from the block.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{World, nowhere, scheduling_env_with, spawn_routing};
use futures::{FutureExt, StreamExt};
use livedesk_auth::Role;
use livedesk_events::Subjects;
use livedesk_platform::defaults::default_offline_form_id;
use livedesk_proto::EventType;
use livedesk_proto::events::v1::EventEnvelope;
use livedesk_proto::scheduling::v1 as pb;
use livedesk_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use livedesk_testkit::{TestEnv, authed, new_org};
use prost::Message;

fn value(key: &str, value: &str) -> pb::FieldValue {
    pb::FieldValue {
        key: key.into(),
        value: value.into(),
    }
}

fn offline(org: uuid::Uuid, email: &str, ip: &str, key: &str) -> pb::SubmitFormRequest {
    pb::SubmitFormRequest {
        form_id: default_offline_form_id(org).to_string(),
        values: vec![
            value("name", "Ana"),
            value("email", email),
            value("message", "Call me back"),
        ],
        ip_address: ip.into(),
        client_request_id: key.into(),
        ..Default::default()
    }
}

async fn stored(w: &World) -> usize {
    let mut c = w.client().await;
    c.list_form_submissions(authed(
        &w.token(Role::Supervisor),
        pb::ListFormSubmissionsRequest { page: None },
    ))
    .await
    .unwrap()
    .into_inner()
    .submissions
    .len()
}

/// Submits as a visitor and returns the answer and the one event published.
async fn submit_blocked(
    w: &World,
    req: pb::SubmitFormRequest,
) -> (pb::FormSubmission, pb::FormSubmissionDropped) {
    let nats = w.env.nats().await.unwrap();
    let subjects = Subjects::new(w.env.prefix.clone());
    let mut dropped = nats
        .subscribe(subjects.event("scheduling", pb::FormSubmissionDropped::TYPE))
        .await
        .unwrap();
    let mut submitted = nats
        .subscribe(subjects.event("scheduling", pb::FormSubmitted::TYPE))
        .await
        .unwrap();
    let mut c = w.client().await;
    let answer = c
        .submit_form(authed(&w.token(Role::Visitor), req))
        .await
        .unwrap()
        .into_inner();
    let msg = tokio::time::timeout(std::time::Duration::from_secs(10), dropped.next())
        .await
        .unwrap()
        .unwrap();
    let env = EventEnvelope::decode(msg.payload).unwrap();
    let event = pb::FormSubmissionDropped::decode(env.payload.as_slice()).unwrap();
    // Published in commit order: had a FormSubmitted been staged, it would be here too.
    assert!(submitted.next().now_or_never().flatten().is_none());
    (answer, event)
}

// spec: BLK-3
#[tokio::test]
async fn a_blocked_email_is_dropped_unstored_and_counted_without_revealing_the_block() {
    let w = World::with_conversations().await;
    let block = w.block_email("ana@example.com").await;
    // Checked as a normalized email identity: the block holds the
    // normalized address, the form has it in another case and padded.
    let (answer, event) = submit_blocked(&w, offline(w.org, " Ana@Example.com ", "", "k-1")).await;
    // The submitter sees a submission like any other.
    assert!(!answer.dropped);
    assert!(!answer.id.is_empty());
    assert_eq!(answer.values.len(), 3);
    assert_eq!(event.block_id, block.id);
    assert_eq!(event.form_id, default_offline_form_id(w.org).to_string());
    assert_eq!(stored(&w).await, 0, "nothing stored");
    // Counted on the block by blocking.
    w.wait_dropped(&block.id, 1).await;

    // A retry with the same key answers the same and is not counted again.
    let nats = w.env.nats().await.unwrap();
    let mut again = nats
        .subscribe(
            Subjects::new(w.env.prefix.clone())
                .event("scheduling", pb::FormSubmissionDropped::TYPE),
        )
        .await
        .unwrap();
    let mut c = w.client().await;
    let retry = c
        .submit_form(authed(
            &w.token(Role::Visitor),
            offline(w.org, "ana@example.com", "", "k-1"),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retry.id, answer.id);
    // The positive marker: a submission dropped for another block (an IP
    // block) after the retry. Its event is the next one published, and once
    // blocking has counted it, the retry would have been counted before it.
    let ip_block = w.block_ip("198.51.100.0/24").await;
    let (_, marker) = submit_blocked(
        &w,
        offline(w.org, "marker@example.com", "198.51.100.9", "k-2"),
    )
    .await;
    assert_eq!(marker.block_id, ip_block.id);
    let next = tokio::time::timeout(std::time::Duration::from_secs(10), again.next())
        .await
        .unwrap()
        .unwrap();
    let next = pb::FormSubmissionDropped::decode(
        EventEnvelope::decode(next.payload)
            .unwrap()
            .payload
            .as_slice(),
    )
    .unwrap();
    assert_eq!(next.block_id, ip_block.id, "the retry published nothing");
    w.wait_dropped(&ip_block.id, 1).await;
    assert_eq!(
        w.block(&block.id).await.dropped_messages,
        1,
        "the retry is not counted again"
    );

    // Someone else's submission is stored as usual.
    c.submit_form(authed(
        &w.token(Role::Visitor),
        offline(w.org, "bo@example.com", "", ""),
    ))
    .await
    .unwrap();
    assert_eq!(stored(&w).await, 1);
}

// spec: BLK-9
#[tokio::test]
async fn a_blocked_ip_is_dropped_and_unstored() {
    let w = World::new().await;
    let block = w.block_ip("203.0.113.0/24").await;
    let (answer, event) =
        submit_blocked(&w, offline(w.org, "cy@example.com", "203.0.113.7", "")).await;
    assert!(!answer.dropped);
    assert_eq!(event.block_id, block.id);
    assert_eq!(stored(&w).await, 0);
    w.wait_dropped(&block.id, 1).await;

    let mut c = w.client().await;
    let err = c
        .submit_form(authed(
            &w.token(Role::Visitor),
            offline(w.org, "cy@example.com", "not-an-ip", ""),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
}

// spec: BLK-3
#[tokio::test]
async fn blocking_down_is_unavailable_and_stores_nothing() {
    let env = TestEnv::new().await.unwrap();
    let routing = spawn_routing(&env).await;
    // Nothing listens there: blocking is down.
    let svc = livedesk_testkit::spawn::<livedesk_scheduling::App>(&scheduling_env_with(
        &env,
        &routing.url(),
        &nowhere(),
        5000,
    ))
    .await
    .unwrap();
    let org = new_org();
    let mut c = SchedulingServiceClient::new(svc.channel().await.unwrap());
    let err = c
        .submit_form(authed(
            &env.token(org, "v-1", Role::Visitor),
            offline(org, "dee@example.com", "", ""),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unavailable);
    let list = c
        .list_form_submissions(authed(
            &env.token(org, "sup-1", Role::Supervisor),
            pb::ListFormSubmissionsRequest { page: None },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(list.submissions.is_empty());
}
