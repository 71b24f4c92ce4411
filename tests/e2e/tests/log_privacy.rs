//! No customer text, email address, phone number or card number in the
//! logs (TEN-8, CNV-9): every service of the suite runs in this process,
//! its log and span output is captured as JSON at DEBUG level (more than
//! production's INFO), a scenario full of personal data is played, and the
//! capture is searched for each value in clear.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use livedesk_auth::Role;
use livedesk_e2e::Suite;
use livedesk_proto::common::v1::Channel;
use livedesk_proto::conversations::v1 as cnv;
use livedesk_proto::routing::v1 as rtg;
use livedesk_testkit::eventually;
use livedeskctl::tokens::authed;
use tracing_subscriber::fmt::MakeWriter;
use uuid::Uuid;

/// Everything every service logs, in one buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

// The personal data of the scenario, each value unique to this test.
const EMAIL: &str = "melissa.pryce@gmail.com";
const PHONE: &str = "+447966197542";
const PHONE_DIGITS: &str = "7966197542";
const CARD: &str = "4111 1111 1111 1111";
const CARD_DIGITS: &str = "4111111111111111";
const BODY: &str = "my violet umbrella zq7x never arrived";
const REPLY: &str = "checking the violet umbrella zq7x parcel";
const NAME: &str = "Melissa Pryce";

// spec: TEN-8, CNV-9
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_service_logs_message_bodies_emails_phones_or_card_numbers() {
    let capture = Capture::default();
    tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(capture.clone())
        .init();
    tracing::info!("capture started");

    let suite = Suite::start().await.unwrap();
    let c = &suite.clients;
    let tokens = suite.tokens();
    let agent = tokens.mint("agent-logs", Role::Agent, Some("Ada")).unwrap();
    let visitor = tokens.mint("visitor-logs", Role::Visitor, None).unwrap();
    let gateway = tokens.mint("gateway-logs", Role::Service, None).unwrap();
    c.routing
        .clone()
        .set_agent_state(authed(
            &agent,
            rtg::SetAgentStateRequest {
                state: rtg::AgentState::Available as i32,
                display_name: "Ada".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let started = c
        .conversations
        .clone()
        .start_conversation(authed(
            &visitor,
            cnv::StartConversationRequest {
                channel: Channel::WebChat as i32,
                customer: Some(cnv::Customer {
                    name: NAME.into(),
                    email: EMAIL.into(),
                    phone: PHONE.into(),
                    ip_address: "192.0.2.77".into(),
                    ..Default::default()
                }),
                first_message: format!("{BODY}, call me on {PHONE} or write to {EMAIL}"),
                client_request_id: Uuid::now_v7().to_string(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let Some(cnv::start_conversation_response::Outcome::Conversation(conv)) = started.outcome
    else {
        panic!("no conversation");
    };
    let offer = eventually(20, "the offer", || async {
        c.routing
            .clone()
            .list_offers(authed(&agent, rtg::ListOffersRequest::default()))
            .await
            .ok()?
            .into_inner()
            .offers
            .into_iter()
            .find(|o| o.conversation_id == conv.id)
    })
    .await
    .unwrap();
    c.routing
        .clone()
        .accept_offer(authed(
            &agent,
            rtg::AcceptOfferRequest { offer_id: offer.id },
        ))
        .await
        .unwrap();
    eventually(20, "the conversation active", || async {
        let got = c
            .conversations
            .clone()
            .get_conversation(authed(
                &agent,
                cnv::GetConversationRequest {
                    id: conv.id.clone(),
                },
            ))
            .await
            .ok()?
            .into_inner();
        (got.status == cnv::ConversationStatus::Active as i32).then_some(())
    })
    .await
    .unwrap();
    for (token, text) in [
        (&visitor, format!("my card is {CARD}, {BODY}")),
        (&agent, REPLY.to_owned()),
        (&visitor, format!("again: {EMAIL} / {PHONE}")),
    ] {
        c.conversations
            .clone()
            .send_message(authed(
                token,
                cnv::SendMessageRequest {
                    conversation_id: conv.id.clone(),
                    text,
                    client_message_id: Uuid::now_v7().to_string(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap();
    }
    // An inbound email and a transcript email to the customer.
    c.conversations
        .clone()
        .ingest_email(authed(
            &gateway,
            cnv::IngestEmailRequest {
                from: EMAIL.into(),
                to: vec!["support@example.com".into()],
                subject: format!("About {BODY}"),
                text_body: format!("{BODY} — {PHONE}"),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    c.conversations
        .clone()
        .end_conversation(authed(
            &agent,
            cnv::EndConversationRequest {
                id: conv.id.clone(),
                transcript_email: EMAIL.into(),
                client_request_id: Uuid::now_v7().to_string(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    // A second conversation of the customer, blocked: the block, its
    // identities and the drop go through blocking, reporting, notifications.
    let again = c
        .conversations
        .clone()
        .start_conversation(authed(
            &visitor,
            cnv::StartConversationRequest {
                channel: Channel::WebChat as i32,
                customer: Some(cnv::Customer {
                    name: PHONE.into(),
                    email: EMAIL.into(),
                    ..Default::default()
                }),
                first_message: format!("{BODY} (second time)"),
                client_request_id: Uuid::now_v7().to_string(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let Some(cnv::start_conversation_response::Outcome::Conversation(second)) = again.outcome
    else {
        panic!("no second conversation");
    };
    let supervisor = tokens
        .mint("supervisor-logs", Role::Supervisor, None)
        .unwrap();
    livedesk_e2e::block_customer(c, &supervisor, &second.id, "test")
        .await
        .unwrap();
    eventually(20, "the second conversation blocked", || async {
        let got = c
            .conversations
            .clone()
            .get_conversation(authed(
                &supervisor,
                cnv::GetConversationRequest {
                    id: second.id.clone(),
                },
            ))
            .await
            .ok()?
            .into_inner();
        (got.status == cnv::ConversationStatus::Blocked as i32).then_some(())
    })
    .await
    .unwrap();
    c.conversations
        .clone()
        .send_message(authed(
            &visitor,
            cnv::SendMessageRequest {
                conversation_id: second.id.clone(),
                text: format!("{BODY} {CARD} {EMAIL}"),
                client_message_id: Uuid::now_v7().to_string(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    suite.stop().await.unwrap();

    let logs = capture.text();
    // The capture works: the services' own lines are in it.
    for marker in [
        "conversation queued",
        "conversation blocked",
        "inbound email threaded",
    ] {
        assert!(logs.contains(marker), "the capture misses {marker:?}");
    }
    for secret in [
        EMAIL,
        "melissa.pryce",
        PHONE,
        PHONE_DIGITS,
        CARD,
        CARD_DIGITS,
        BODY,
        "violet umbrella",
        REPLY,
        NAME,
    ] {
        if let Some(at) = logs.find(secret) {
            let line_start = logs[..at].rfind('\n').map_or(0, |i| i + 1);
            let line_end = logs[at..].find('\n').map_or(logs.len(), |i| at + i);
            panic!(
                "{secret:?} is in the logs in clear:\n{}",
                &logs[line_start..line_end]
            );
        }
    }
}
