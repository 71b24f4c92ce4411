//! Email really goes out (NTF-2): EmailRequested events become messages on
//! a real SMTP server (scripts/smtp-server.py through the testkit), with a
//! stable Message-ID, text and escaped HTML, retries on 4xx and outages,
//! FAILED with the relay's reason on 5xx, once per event even when it is
//! redelivered or two replicas run, and nothing for a blocked customer
//! (NTF-3) or a header-injection attempt.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use crate::common::*;
use livedesk_auth::Role;
use livedesk_events::Subjects;
use livedesk_proto::EventType;
use livedesk_proto::conversations::v1 as cv;
use livedesk_proto::events::v1::EventEnvelope;
use livedesk_proto::notifications::v1::{
    DeliveryStatus, EmailDelivery, GetEmailDeliveryRequest, ListEmailDeliveriesRequest,
};
use livedesk_testkit::smtp::{Mail, SmtpServer};
use livedesk_testkit::{TestEnv, authed, eventually, new_org};
use prost::Message as _;
use uuid::Uuid;

const DOMAIN: &str = "livedesk.example";

fn email(
    request: &str,
    conversation: &str,
    to: &str,
    subject: &str,
    text: &str,
) -> cv::EmailRequested {
    cv::EmailRequested {
        email_id: Uuid::now_v7().to_string(),
        request_id: request.to_owned(),
        conversation_id: conversation.to_owned(),
        to: vec![to.to_owned()],
        subject: subject.to_owned(),
        text_body: text.to_owned(),
        kind: "transcript".into(),
        ..Default::default()
    }
}

/// A unique recipient (the relay's fault rules key on it).
fn rcpt(prefix: &str) -> String {
    format!("{prefix}{}@shop.example", Uuid::now_v7().simple())
}

/// The deliveries of `request` once `done` holds for all `n` of them.
async fn wait_deliveries(
    env: &TestEnv,
    client: &Client,
    org: Uuid,
    request: &str,
    n: usize,
    what: &str,
    done: impl Fn(&EmailDelivery) -> bool,
) -> Vec<EmailDelivery> {
    let token = env.token(org, "sup-1", Role::Supervisor);
    eventually(30, what, || async {
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
            .into_inner()
            .deliveries;
        (list.len() == n && list.iter().all(&done)).then_some(list)
    })
    .await
    .unwrap()
}

fn is(status: DeliveryStatus) -> impl Fn(&EmailDelivery) -> bool {
    move |d| d.status == status as i32
}

fn message_id(d: &EmailDelivery) -> String {
    format!("<{}@{DOMAIN}>", d.id)
}

fn sent_to(smtp: &SmtpServer, to: &str) -> Vec<Mail> {
    smtp.messages()
        .unwrap()
        .into_iter()
        .filter(|m| m.envelope_to().iter().any(|a| a == to))
        .collect()
}

// spec: NTF-2
// spec: CNV-8
#[tokio::test]
async fn a_requested_email_arrives_with_its_headers_text_and_escaped_html() {
    let env = TestEnv::new().await.unwrap();
    let smtp = SmtpServer::start().await.unwrap();
    // A period far beyond the test: only the wake-up after commit can
    // send it in time (no polling delay on the happy path).
    let (_svc, client) =
        start_with_smtp(&env, &smtp.url(), &[("EMAIL_WORKER_PERIOD_MS", "600000")]).await;
    let (org, request, conv) = (
        new_org(),
        Uuid::now_v7().to_string(),
        Uuid::now_v7().to_string(),
    );
    let to = rcpt("ana-");
    let text = "Ana: my order <b>#12</b> & \"gift\"\nAda: re-sent <script>alert(1)</script>";
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &email(&request, &conv, &to, "Your transcript", text),
    )
    .await;
    let list = wait_deliveries(
        &env,
        &client,
        org,
        &request,
        1,
        "the email sent",
        is(DeliveryStatus::Sent),
    )
    .await;
    assert_eq!(list[0].attempts, 1);
    assert!(list[0].last_error.is_empty());
    let mail = smtp
        .wait_for_message(10, |m| {
            m.message_id().as_deref() == Some(message_id(&list[0]).as_str())
        })
        .await
        .unwrap();
    assert_eq!(mail.header("To").as_deref(), Some(to.as_str()));
    assert_eq!(mail.envelope_to(), vec![to.clone()]);
    assert_eq!(mail.header("Subject").as_deref(), Some("Your transcript"));
    assert_eq!(
        mail.header("From").as_deref(),
        Some("support@livedesk.example")
    );
    let content_type = mail.header("Content-Type").unwrap();
    assert!(
        content_type.starts_with("multipart/alternative"),
        "{content_type}"
    );
    let body = mail.body();
    assert!(body.contains("Content-Type: text/plain"), "{body}");
    assert!(body.contains("Content-Type: text/html"), "{body}");
    // The text part carries the text as written...
    let plain = mail.part("text/plain").unwrap();
    assert!(plain.contains("my order <b>#12</b> & \"gift\""), "{plain}");
    // ...and the HTML part the same text escaped, never as markup.
    let html = mail.part("text/html").unwrap();
    assert!(
        html.contains("my order &lt;b&gt;#12&lt;/b&gt; &amp; &quot;gift&quot;<br>"),
        "{html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        !html.contains("<script>") && !html.contains("<b>"),
        "{html}"
    );
}

// spec: NTF-2
#[tokio::test]
async fn a_relay_outage_delays_the_email_which_then_arrives_exactly_once() {
    let env = TestEnv::new().await.unwrap();
    let mut smtp = SmtpServer::start().await.unwrap();
    let (_svc, client) = start_with_smtp(&env, &smtp.url(), &[]).await;
    smtp.stop().await.unwrap();
    let (org, request, conv) = (
        new_org(),
        Uuid::now_v7().to_string(),
        Uuid::now_v7().to_string(),
    );
    let to = rcpt("outage-");
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &email(&request, &conv, &to, "Transcript", "hello"),
    )
    .await;
    let list = wait_deliveries(&env, &client, org, &request, 1, "a failed attempt", |d| {
        d.status == DeliveryStatus::Retrying as i32 && d.attempts >= 1
    })
    .await;
    assert!(!list[0].last_error.is_empty());
    smtp.resume().await.unwrap();
    let list = wait_deliveries(
        &env,
        &client,
        org,
        &request,
        1,
        "the email sent",
        is(DeliveryStatus::Sent),
    )
    .await;
    assert!(list[0].attempts >= 2, "{:?}", list[0]);
    let id = message_id(&list[0]);
    smtp.wait_for_message(10, |m| m.message_id().as_deref() == Some(id.as_str()))
        .await
        .unwrap();
    assert_eq!(smtp.with_message_id(&id).unwrap().len(), 1);
}

// spec: NTF-2
#[tokio::test]
async fn a_4xx_is_retried_with_backoff_then_delivered_and_attempts_are_counted() {
    let env = TestEnv::new().await.unwrap();
    let smtp = SmtpServer::start().await.unwrap();
    let (_svc, client) = start_with_smtp(&env, &smtp.url(), &[]).await;
    let (org, request, conv) = (
        new_org(),
        Uuid::now_v7().to_string(),
        Uuid::now_v7().to_string(),
    );
    let to = rcpt("tempfail-2-");
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &email(&request, &conv, &to, "Transcript", "hello"),
    )
    .await;
    let list = wait_deliveries(
        &env,
        &client,
        org,
        &request,
        1,
        "the email sent",
        is(DeliveryStatus::Sent),
    )
    .await;
    assert_eq!(
        list[0].attempts, 3,
        "two 451s, then accepted: {:?}",
        list[0]
    );
    assert_eq!(
        smtp.with_message_id(&message_id(&list[0])).unwrap().len(),
        1
    );
    assert_eq!(sent_to(&smtp, &to).len(), 1);
}

// spec: NTF-2
#[tokio::test]
async fn a_5xx_fails_at_once_with_the_relays_reason_and_no_address() {
    let env = TestEnv::new().await.unwrap();
    let smtp = SmtpServer::start().await.unwrap();
    let (_svc, client) = start_with_smtp(&env, &smtp.url(), &[]).await;
    let (org, request, conv) = (
        new_org(),
        Uuid::now_v7().to_string(),
        Uuid::now_v7().to_string(),
    );
    let to = rcpt("reject-");
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &email(&request, &conv, &to, "Transcript", "hello"),
    )
    .await;
    let list = wait_deliveries(
        &env,
        &client,
        org,
        &request,
        1,
        "the email failed",
        is(DeliveryStatus::Failed),
    )
    .await;
    let got = client
        .clone()
        .get_email_delivery(authed(
            &env.token(org, "agent-1", Role::Agent),
            GetEmailDeliveryRequest {
                id: list[0].id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.status, DeliveryStatus::Failed as i32);
    assert_eq!(got.attempts, 1, "a permanent refusal is not retried");
    assert!(got.last_error.contains("550"), "{}", got.last_error);
    assert!(
        got.last_error.contains("mailbox unavailable"),
        "{}",
        got.last_error
    );
    assert!(!got.last_error.contains('@'), "{}", got.last_error);
    assert!(smtp.messages().unwrap().is_empty());
}

// spec: NTF-2
// spec: EVT-3
#[tokio::test]
async fn a_redelivered_event_sends_one_message() {
    let env = TestEnv::new().await.unwrap();
    let smtp = SmtpServer::start().await.unwrap();
    let (_svc, client) = start_with_smtp(&env, &smtp.url(), &[]).await;
    let (org, request, conv) = (
        new_org(),
        Uuid::now_v7().to_string(),
        Uuid::now_v7().to_string(),
    );
    let to = rcpt("twice-");
    let event = email(&request, &conv, &to, "Transcript", "hello");
    // One envelope (one event id) published three times, as JetStream
    // redelivers: no Nats-Msg-Id, so the broker does not de-duplicate.
    let envelope = EventEnvelope {
        event_id: Uuid::now_v7().to_string(),
        org_id: org.to_string(),
        occurred_at: None,
        r#type: cv::EmailRequested::TYPE.to_owned(),
        aggregate_id: conv.clone(),
        schema_version: 1,
        producer: "conversations".into(),
        payload: event.encode_to_vec(),
        aggregate_sequence: 0,
    };
    // Creates the streams, and a first email of another request.
    let marker_request = Uuid::now_v7().to_string();
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &email(&marker_request, &conv, &rcpt("first-"), "First", "x"),
    )
    .await;
    let js = async_nats::jetstream::new(env.nats().await.unwrap());
    let subject =
        Subjects::new(env.prefix.clone()).event("conversations", cv::EmailRequested::TYPE);
    for _ in 0..2 {
        js.publish(subject.clone(), envelope.encode_to_vec().into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let list = wait_deliveries(
        &env,
        &client,
        org,
        &request,
        1,
        "the email sent",
        is(DeliveryStatus::Sent),
    )
    .await;
    js.publish(subject.clone(), envelope.encode_to_vec().into())
        .await
        .unwrap()
        .await
        .unwrap();
    // A later event of the same conversation (one ordered lane): once it
    // is sent, the redelivery before it was handled.
    let last_request = Uuid::now_v7().to_string();
    let last = rcpt("last-");
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &email(&last_request, &conv, &last, "Last", "x"),
    )
    .await;
    wait_deliveries(
        &env,
        &client,
        org,
        &last_request,
        1,
        "the last email sent",
        is(DeliveryStatus::Sent),
    )
    .await;
    smtp.wait_for_message(10, |m| m.envelope_to().contains(&last))
        .await
        .unwrap();
    assert_eq!(
        smtp.with_message_id(&message_id(&list[0])).unwrap().len(),
        1
    );
    assert_eq!(sent_to(&smtp, &to).len(), 1);
    wait_deliveries(
        &env,
        &client,
        org,
        &request,
        1,
        "still one delivery",
        is(DeliveryStatus::Sent),
    )
    .await;
}

// spec: NTF-2
// spec: CNV-14
#[tokio::test]
async fn two_replicas_send_each_delivery_once() {
    let env = TestEnv::new().await.unwrap();
    let smtp = SmtpServer::start().await.unwrap();
    let (_a, client) = start_with_smtp(&env, &smtp.url(), &[]).await;
    let (_b, _) = start_with_smtp(&env, &smtp.url(), &[]).await;
    let (org, request) = (new_org(), Uuid::now_v7().to_string());
    const N: usize = 24;
    for i in 0..N {
        // Many conversations: handled concurrently, by both replicas.
        let conv = Uuid::now_v7().to_string();
        let mut e = email(
            &request,
            &conv,
            &rcpt("pair-"),
            &format!("Re: order {i}"),
            "Your parcel left today.",
        );
        e.kind = "reply".into();
        publish(&env, "conversations", org, &conv, &e).await;
    }
    let list = wait_deliveries(
        &env,
        &client,
        org,
        &request,
        N,
        "every email sent",
        is(DeliveryStatus::Sent),
    )
    .await;
    assert!(
        list.iter().all(|d| d.attempts == 1 && d.kind == "reply"),
        "{list:?}"
    );
    let ids: HashSet<String> = list.iter().map(message_id).collect();
    let mails = eventually(10, "every message stored", || async {
        let m = smtp.messages().unwrap();
        (m.len() >= N).then_some(m)
    })
    .await
    .unwrap();
    assert_eq!(mails.len(), N, "no message twice");
    let got: HashSet<String> = mails.iter().filter_map(Mail::message_id).collect();
    assert_eq!(got, ids);
}

// spec: NTF-2
// spec: NTF-3
#[tokio::test]
async fn a_blocked_customers_transcript_and_an_injection_attempt_send_nothing() {
    let env = TestEnv::new().await.unwrap();
    let smtp = SmtpServer::start().await.unwrap();
    let (_svc, client) = start_with_smtp(&env, &smtp.url(), &[]).await;
    let (org, request) = (new_org(), Uuid::now_v7().to_string());
    let blocked_conv = Uuid::now_v7().to_string();
    let ended = cv::ConversationEnded {
        conversation_id: blocked_conv.clone(),
        status: cv::ConversationStatus::Blocked as i32,
        customer_principal_id: "visitor-9".into(),
        ..Default::default()
    };
    publish(&env, "conversations", org, &blocked_conv, &ended).await;
    let blocked_to = rcpt("troll-");
    publish(
        &env,
        "conversations",
        org,
        &blocked_conv,
        &email(&request, &blocked_conv, &blocked_to, "Your transcript", "x"),
    )
    .await;
    let conv = Uuid::now_v7().to_string();
    let victim = rcpt("ana-");
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &email(&request, &conv, &victim, "Hi\r\nBcc: spy@evil.example", "x"),
    )
    .await;
    let mut injected_to = email(&request, &conv, &victim, "Hi", "x");
    injected_to.to = vec![format!("{victim}\r\nBcc: spy@evil.example")];
    publish(&env, "conversations", org, &conv, &injected_to).await;
    let mut list = wait_deliveries(&env, &client, org, &request, 3, "three outcomes", |d| {
        d.status == DeliveryStatus::Suppressed as i32 || d.status == DeliveryStatus::Failed as i32
    })
    .await;
    list.sort_by_key(|d| d.status);
    let statuses: Vec<i32> = list.iter().map(|d| d.status).collect();
    assert_eq!(
        statuses,
        [
            DeliveryStatus::Failed as i32,
            DeliveryStatus::Failed as i32,
            DeliveryStatus::Suppressed as i32
        ]
    );
    assert!(
        list.iter().all(|d| d.attempts == 0),
        "never attempted: {list:?}"
    );
    // A later email of the blocked conversation's lane goes through the
    // same worker: once it arrived, nothing else is pending.
    let marker_request = Uuid::now_v7().to_string();
    let marker = rcpt("marker-");
    publish(
        &env,
        "conversations",
        org,
        &conv,
        &email(&marker_request, &conv, &marker, "Marker", "x"),
    )
    .await;
    wait_deliveries(
        &env,
        &client,
        org,
        &marker_request,
        1,
        "the marker sent",
        is(DeliveryStatus::Sent),
    )
    .await;
    let all = smtp.messages().unwrap();
    assert_eq!(all.len(), 1, "only the marker arrived");
    assert!(!all[0].raw.contains("spy@evil.example"));
    assert!(sent_to(&smtp, &blocked_to).is_empty());
    assert!(sent_to(&smtp, &victim).is_empty());
}
