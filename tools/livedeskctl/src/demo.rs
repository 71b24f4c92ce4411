//! The walking skeleton, played through the public gRPC APIs: an agent
//! goes available, a visitor chats, the agent ends and wraps up, reporting
//! counts it, and a second, abusive visitor is blocked.
//!
//! `livedeskctl demo` prints it as it happens; the end-to-end test runs the
//! same function against services it spawned and asserts on the report.
use std::time::Duration;

use livedesk_auth::Role;
use livedesk_proto::blocking::v1::BlockCustomerRequest;
use livedesk_proto::common::v1::{Channel, TimeRange};
use livedesk_proto::conversations::v1 as cnv;
use livedesk_proto::notifications::v1 as ntf;
use livedesk_proto::notifications::v1::{Notification, SubscribeRequest, notification::Kind};
use livedesk_proto::reporting::v1::{ExportCsvRequest, ExportKind, GetStatisticsRequest, GroupBy};
use livedesk_proto::routing::v1 as rtg;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::tokens::authed;
use crate::{Clients, Tokens};

/// What the demo observed; the end-to-end test asserts on it.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub conversation_id: String,
    pub offer: Option<rtg::Offer>,
    pub status_after_accept: i32,
    /// Texts of messages the agent's stream delivered, in order.
    pub agent_received: Vec<String>,
    /// Texts of messages the visitor's stream delivered, in order.
    pub visitor_received: Vec<String>,
    pub visitor_told_ended: bool,
    pub tag_count: u64,
    pub csv: String,
    pub blocked_conversation_id: String,
    pub blocked_status: i32,
    pub dropped_message_returned: bool,
    pub agent_saw_dropped_message: bool,
    pub dropped_visible_in_history: bool,
    pub restart_refused: Option<tonic::Code>,
    /// Notifications the blocked visitor received after the block (NTF-3: none).
    pub blocked_visitor_notified: usize,
    /// The transcript email of the ended conversation (CNV-8, NTF-2): its
    /// delivery id and the status it reached (SENT when a relay took it).
    pub transcript_delivery_id: String,
    pub transcript_status: i32,
}

/// A principal's live notification feed.
struct Feed {
    rx: mpsc::Receiver<Notification>,
}

impl Feed {
    async fn open(clients: &Clients, token: &str) -> anyhow::Result<Self> {
        let mut stream = clients
            .notifications
            .clone()
            .subscribe(authed(
                token,
                SubscribeRequest {
                    after_sequence: 0,
                    replay_all: true,
                },
            ))
            .await?
            .into_inner();
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(async move {
            while let Ok(Some(n)) = stream.message().await {
                if tx.send(n).await.is_err() {
                    break;
                }
            }
        });
        Ok(Self { rx })
    }

    /// Waits for the first notification `pick` accepts, skipping others.
    async fn next<T>(
        &mut self,
        secs: u64,
        what: &str,
        mut pick: impl FnMut(&Notification) -> Option<T>,
    ) -> anyhow::Result<T> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let n = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .map_err(|_| anyhow::anyhow!("timed out after {secs}s waiting for {what}"))?
                .ok_or_else(|| {
                    anyhow::anyhow!("notification stream closed while waiting for {what}")
                })?;
            if let Some(v) = pick(&n) {
                return Ok(v);
            }
        }
    }

    /// Everything that arrives within `window`.
    async fn drain(&mut self, window: Duration) -> Vec<Notification> {
        let mut all = Vec::new();
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(Some(n)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            if !matches!(n.kind, Some(Kind::Heartbeat(_))) {
                all.push(n);
            }
        }
        all
    }

    /// Texts of messages that arrive within `window` (used to prove that
    /// something did NOT arrive).
    async fn drain_messages(&mut self, window: Duration) -> Vec<String> {
        let mut texts = Vec::new();
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(Some(n)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            if let Some(Kind::Message(m)) = n.kind {
                texts.push(m.text);
            }
        }
        texts
    }
}

fn message_text(n: &Notification, conversation_id: &str) -> Option<String> {
    match &n.kind {
        Some(Kind::Message(m)) if m.conversation_id == conversation_id => Some(m.text.clone()),
        _ => None,
    }
}

/// How long the demo waits for a status it caused.
const WAIT: Duration = Duration::from_secs(20);

/// Polls the conversation until it is in status `want`, for at most
/// `timeout` (the demo, and the bench's desks, wait for ACTIVE before an
/// agent is in the audience of messages).
pub async fn wait_status(
    clients: &Clients,
    token: &str,
    id: &str,
    want: cnv::ConversationStatus,
    timeout: Duration,
) -> anyhow::Result<i32> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let c = clients
            .conversations
            .clone()
            .get_conversation(authed(token, cnv::GetConversationRequest { id: id.into() }))
            .await?
            .into_inner();
        if c.status == want as i32 {
            return Ok(c.status);
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!(
                "conversation {id} stayed in status {} instead of {want:?} for {}s",
                c.status,
                timeout.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the transcript email of `request_id` is SENT (NTF-2); a
/// delivery that FAILED, or is not sent within 60 s, fails the demo with
/// the relay's reason.
async fn wait_transcript_sent(
    clients: &Clients,
    token: &str,
    request_id: &str,
) -> anyhow::Result<ntf::EmailDelivery> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let deliveries = clients
            .notifications
            .clone()
            .list_email_deliveries(authed(
                token,
                ntf::ListEmailDeliveriesRequest {
                    request_id: request_id.to_owned(),
                },
            ))
            .await?
            .into_inner()
            .deliveries;
        let transcript = deliveries.into_iter().find(|d| d.kind == "transcript");
        if let Some(d) = &transcript {
            match ntf::DeliveryStatus::try_from(d.status) {
                Ok(ntf::DeliveryStatus::Sent) => return Ok(d.clone()),
                Ok(ntf::DeliveryStatus::Failed | ntf::DeliveryStatus::Suppressed) => {
                    anyhow::bail!(
                        "the transcript email {} was not sent: {:?} ({})",
                        d.id,
                        ntf::DeliveryStatus::try_from(d.status).unwrap_or_default(),
                        d.last_error
                    )
                }
                _ => {}
            }
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!(
                "the transcript email was not sent within 60 s (is an SMTP relay at the \
notifications service's LIVEDESK_NOTIFICATIONS__SMTP_URL?): {transcript:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn start(
    clients: &Clients,
    token: &str,
    name: &str,
    email: &str,
    text: &str,
) -> Result<cnv::Conversation, tonic::Status> {
    let resp = clients
        .conversations
        .clone()
        .start_conversation(authed(
            token,
            cnv::StartConversationRequest {
                channel: Channel::WebChat as i32,
                customer: Some(cnv::Customer {
                    name: name.into(),
                    email: email.into(),
                    ..Default::default()
                }),
                first_message: text.into(),
                client_request_id: Uuid::now_v7().to_string(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    match resp.outcome {
        Some(cnv::start_conversation_response::Outcome::Conversation(c)) => Ok(c),
        other => Err(tonic::Status::unavailable(format!(
            "no conversation: the widget would show {other:?}"
        ))),
    }
}

async fn send(
    clients: &Clients,
    token: &str,
    conversation_id: &str,
    text: &str,
) -> anyhow::Result<cnv::SendMessageResponse> {
    Ok(clients
        .conversations
        .clone()
        .send_message(authed(
            token,
            cnv::SendMessageRequest {
                conversation_id: conversation_id.into(),
                text: text.into(),
                client_message_id: Uuid::now_v7().to_string(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner())
}

/// Plays the scenario for `tokens.org`, reporting each step to `say`.
pub async fn run(
    clients: &Clients,
    tokens: &Tokens,
    say: &mut (dyn FnMut(&str) + Send),
) -> anyhow::Result<Report> {
    if !tokens.can_mint() {
        anyhow::bail!(
            "the demo acts as an agent, a supervisor and visitors: it needs a key to mint their \
tokens (--private-key, --secret or --dev), not a single --token"
        );
    }
    let mut report = Report::default();
    let agent = tokens.mint("agent-ada", Role::Agent, Some("Ada Lovelace"))?;
    let supervisor = tokens.mint("supervisor-grace", Role::Supervisor, Some("Grace Hopper"))?;
    let visitor = tokens.mint(
        &format!("visitor-{}", Uuid::now_v7().simple()),
        Role::Visitor,
        None,
    )?;
    let troll = tokens.mint(
        &format!("visitor-{}", Uuid::now_v7().simple()),
        Role::Visitor,
        None,
    )?;
    say(&format!("org {}", tokens.org));

    // a. The agent goes AVAILABLE and opens their realtime stream.
    clients
        .routing
        .clone()
        .set_agent_state(authed(
            &agent,
            rtg::SetAgentStateRequest {
                state: rtg::AgentState::Available as i32,
                display_name: "Ada Lovelace".into(),
                ..Default::default()
            },
        ))
        .await?;
    let mut agent_feed = Feed::open(clients, &agent).await?;
    say("agent Ada Lovelace is AVAILABLE and subscribed");

    // b. A visitor starts a conversation: not blocked, open (default schedule).
    let mut visitor_feed = Feed::open(clients, &visitor).await?;
    let conversation = start(
        clients,
        &visitor,
        "Marie Curie",
        "marie@example.com",
        "Bonjour, my parcel has not arrived",
    )
    .await?;
    let cid = conversation.id.clone();
    report.conversation_id = cid.clone();
    say(&format!(
        "visitor Marie Curie started conversation {cid} (status {:?})",
        cnv::ConversationStatus::try_from(conversation.status).unwrap_or_default()
    ));

    // c. Routing offers it to the agent, who accepts.
    let offer = agent_feed
        .next(30, "the offer", |n| match &n.kind {
            Some(Kind::Offer(o)) if o.conversation_id == cid => Some(o.clone()),
            _ => None,
        })
        .await?;
    let waited = offer
        .conversation_created_at
        .as_ref()
        .and_then(livedesk_platform::time::from_proto)
        .map(|t| (chrono::Utc::now() - t).num_milliseconds())
        .unwrap_or_default();
    say(&format!(
        "offer to Ada: customer {:?}, queue {:?}, waiting {waited} ms",
        offer.customer_name, offer.queue_name
    ));
    clients
        .routing
        .clone()
        .accept_offer(authed(
            &agent,
            rtg::AcceptOfferRequest {
                offer_id: offer.id.clone(),
            },
        ))
        .await?;
    report.offer = Some(offer);
    report.status_after_accept =
        wait_status(clients, &agent, &cid, cnv::ConversationStatus::Active, WAIT).await?;
    say("Ada accepted: conversation ACTIVE");

    // d. They talk; each side receives the other's messages in order.
    for (from_agent, text) in [
        (false, "Hello? Anyone there?"),
        (true, "Hi Marie, I am checking your parcel now."),
        (false, "Thank you!"),
        (true, "It was re-sent this morning."),
    ] {
        let (token, who) = if from_agent {
            (&agent, "Ada")
        } else {
            (&visitor, "Marie")
        };
        send(clients, token, &cid, text).await?;
        say(&format!("{who}: {text}"));
    }
    // The first message reached Ada inside the offer; the rest stream in.
    for _ in 0..2 {
        let t = agent_feed
            .next(15, "a customer message", |n| message_text(n, &cid))
            .await?;
        report.agent_received.push(t);
    }
    for _ in 0..2 {
        let t = visitor_feed
            .next(15, "an agent message", |n| message_text(n, &cid))
            .await?;
        report.visitor_received.push(t);
    }
    say(&format!(
        "Ada's desktop received {:?}",
        report.agent_received
    ));
    say(&format!(
        "Marie's widget received {:?}",
        report.visitor_received
    ));

    // e. Ada ends with a tag and a note, then wraps up.
    clients
        .conversations
        .clone()
        .end_conversation(authed(
            &agent,
            cnv::EndConversationRequest {
                id: cid.clone(),
                request_status: cnv::RequestStatus::Closed as i32,
                qualification: Some(cnv::Qualification {
                    tags: vec!["delivery".into()],
                    contact_reason: "where is my order".into(),
                    note: "Parcel re-sent".into(),
                }),
                // Marie gets the transcript by email (CNV-8).
                transcript_email: "marie@example.com".into(),
                ..Default::default()
            },
        ))
        .await?;
    report.visitor_told_ended = visitor_feed
        .next(15, "the end", |n| {
            matches!(n.kind, Some(Kind::ConversationEnded(_))).then_some(())
        })
        .await
        .is_ok();
    say(&format!(
        "Ada ended the conversation (tag delivery); Marie's widget minimized: {}",
        report.visitor_told_ended
    ));
    let delivery = wait_transcript_sent(clients, &agent, &conversation.request_id).await?;
    report.transcript_delivery_id = delivery.id.clone();
    report.transcript_status = delivery.status;
    say(&format!(
        "transcript emailed to Marie: delivery {} {:?} after {} attempt(s) (with `make run`, the \
message is in .livedesk/mail/new/, named after its Message-ID)",
        delivery.id,
        ntf::DeliveryStatus::try_from(delivery.status).unwrap_or_default(),
        delivery.attempts
    ));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match clients
            .routing
            .clone()
            .submit_wrap_up(authed(
                &agent,
                rtg::SubmitWrapUpRequest {
                    conversation_id: cid.clone(),
                    code: "resolved".into(),
                },
            ))
            .await
        {
            Ok(_) => break,
            // The end reaches routing as an event: wrap-up opens a moment later.
            Err(e)
                if e.code() == tonic::Code::FailedPrecondition
                    || e.code() == tonic::Code::NotFound =>
            {
                if tokio::time::Instant::now() > deadline {
                    return Err(e.into());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    say("Ada wrapped up with code \"resolved\"");

    // f. Reporting counts it and exports it.
    let range = TimeRange {
        from: Some(livedesk_platform::time::to_proto(
            chrono::Utc::now() - chrono::Duration::hours(1),
        )),
        to: Some(livedesk_platform::time::to_proto(
            chrono::Utc::now() + chrono::Duration::hours(1),
        )),
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let stats = clients
            .reporting
            .clone()
            .get_statistics(authed(
                &supervisor,
                GetStatisticsRequest {
                    range: Some(range),
                    group_by: GroupBy::Tag as i32,
                },
            ))
            .await?
            .into_inner();
        report.tag_count = stats
            .rows
            .iter()
            .find(|r| r.key == "delivery")
            .map(|r| r.count)
            .unwrap_or(0);
        if report.tag_count > 0 || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    say(&format!(
        "reporting: {} conversation(s) tagged \"delivery\"",
        report.tag_count
    ));
    let mut csv = clients
        .reporting
        .clone()
        .export_csv(authed(
            &supervisor,
            ExportCsvRequest {
                kind: ExportKind::Conversations as i32,
                range: Some(range),
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    let mut bytes = Vec::new();
    while let Some(chunk) = csv.message().await? {
        bytes.extend_from_slice(&chunk.data);
    }
    report.csv = String::from_utf8_lossy(&bytes).into_owned();
    say(&format!(
        "conversations CSV export: {} line(s)",
        report.csv.lines().count()
    ));

    // g. A second visitor turns abusive and is blocked.
    let mut troll_feed = Feed::open(clients, &troll).await?;
    let second = start(
        clients,
        &troll,
        "Troll",
        "troll@example.com",
        "I want a refund NOW",
    )
    .await?;
    let bid = second.id.clone();
    report.blocked_conversation_id = bid.clone();
    let offer = agent_feed
        .next(30, "the second offer", |n| match &n.kind {
            Some(Kind::Offer(o)) if o.conversation_id == bid => Some(o.clone()),
            _ => None,
        })
        .await?;
    clients
        .routing
        .clone()
        .accept_offer(authed(
            &agent,
            rtg::AcceptOfferRequest { offer_id: offer.id },
        ))
        .await?;
    wait_status(clients, &agent, &bid, cnv::ConversationStatus::Active, WAIT).await?;
    send(clients, &troll, &bid, "You are all useless idiots").await?;
    agent_feed
        .next(15, "the abusive message", |n| message_text(n, &bid))
        .await?;
    troll_feed.drain(Duration::from_millis(300)).await;
    clients
        .blocking
        .clone()
        .block_customer(authed(
            &agent,
            BlockCustomerRequest {
                conversation_id: bid.clone(),
                reason: "abusive language".into(),
                ..Default::default()
            },
        ))
        .await?;
    report.blocked_status = wait_status(
        clients,
        &agent,
        &bid,
        cnv::ConversationStatus::Blocked,
        WAIT,
    )
    .await?;
    say("Ada blocked the second visitor: conversation BLOCKED");
    let dropped = send(clients, &troll, &bid, "let me back in").await?;
    report.dropped_message_returned = dropped.message.is_some();
    report.agent_saw_dropped_message = agent_feed
        .drain_messages(Duration::from_millis(1500))
        .await
        .iter()
        .any(|t| t == "let me back in");
    let history = clients
        .conversations
        .clone()
        .list_messages(authed(
            &agent,
            cnv::ListMessagesRequest {
                conversation_id: bid.clone(),
                after_sequence: 0,
                limit: 100,
            },
        ))
        .await?
        .into_inner();
    report.dropped_visible_in_history = history.messages.iter().any(|m| m.text == "let me back in");
    say(&format!(
        "the blocked visitor's next message was dropped (shown to Ada: {})",
        report.agent_saw_dropped_message
    ));
    report.restart_refused = start(clients, &troll, "Troll", "troll@example.com", "new chat")
        .await
        .err()
        .map(|e| e.code());
    say(&format!(
        "the blocked visitor's new conversation was refused: {:?}",
        report.restart_refused
    ));
    report.blocked_visitor_notified = troll_feed.drain(Duration::from_millis(300)).await.len();
    Ok(report)
}
