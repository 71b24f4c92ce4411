//! Blocking without holes (issue 8, point 2): a block reaches every live
//! conversation of the customer, refuses every reply, stops
//! continue-by-email, counts what an email gateway drops, applies an IP
//! block wherever the address is known, and after an unblock the customer
//! simply starts anew. All through the public gRPC APIs of the six services.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use livedesk_auth::Role;
use livedesk_e2e::{Suite, accept, available};
use livedesk_proto::blocking::v1 as blk;
use livedesk_proto::common::v1::{Channel, CustomerIdentity, IdentityKind};
use livedesk_proto::conversations::v1 as cnv;
use livedesk_testkit::eventually;
use livedeskctl::Clients;
use livedeskctl::tokens::authed;
use uuid::Uuid;

fn identity(kind: IdentityKind, value: &str) -> CustomerIdentity {
    CustomerIdentity {
        kind: kind as i32,
        value: value.into(),
    }
}

async fn start(
    c: &Clients,
    token: &str,
    channel: Channel,
    identities: Vec<CustomerIdentity>,
    ip: &str,
    text: &str,
) -> cnv::Conversation {
    let resp = c
        .conversations
        .clone()
        .start_conversation(authed(
            token,
            cnv::StartConversationRequest {
                channel: channel as i32,
                customer: Some(cnv::Customer {
                    name: "Customer".into(),
                    identities,
                    ip_address: ip.into(),
                    ..Default::default()
                }),
                first_message: text.into(),
                client_request_id: Uuid::now_v7().to_string(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    match resp.outcome {
        Some(cnv::start_conversation_response::Outcome::Conversation(c)) => c,
        other => panic!("no conversation: {other:?}"),
    }
}

async fn send(
    c: &Clients,
    token: &str,
    id: &str,
    text: &str,
) -> Result<cnv::SendMessageResponse, tonic::Status> {
    c.conversations
        .clone()
        .send_message(authed(
            token,
            cnv::SendMessageRequest {
                conversation_id: id.into(),
                text: text.into(),
                client_message_id: Uuid::now_v7().to_string(),
                ..Default::default()
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn conversation(c: &Clients, token: &str, id: &str) -> cnv::Conversation {
    c.conversations
        .clone()
        .get_conversation(authed(token, cnv::GetConversationRequest { id: id.into() }))
        .await
        .unwrap()
        .into_inner()
}

async fn wait_status(c: &Clients, token: &str, id: &str, want: cnv::ConversationStatus) {
    eventually(20, &format!("conversation {id} {want:?}"), || async {
        let got = conversation(c, token, id).await.status;
        (got == want as i32).then_some(())
    })
    .await
    .unwrap();
}

// spec: BLK-2, BLK-3, BLK-4, BLK-5, CNV-8, NTF-3
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_block_ends_every_live_conversation_refuses_replies_and_email_and_an_unblock_starts_anew()
{
    let suite = Suite::start().await.unwrap();
    let c = &suite.clients;
    let tokens = suite.tokens();
    let agent = tokens.mint("agent-blk", Role::Agent, Some("Ada")).unwrap();
    let supervisor = tokens
        .mint("supervisor-blk", Role::Supervisor, None)
        .unwrap();
    let admin = tokens.mint("admin-blk", Role::Admin, None).unwrap();
    let gateway = tokens.mint("email-gateway", Role::Service, None).unwrap();
    let visitor = tokens.mint("visitor-web", Role::Visitor, None).unwrap();
    // A messaging connector relays the same customer's WhatsApp chat.
    let connector = tokens
        .mint("whatsapp-connector", Role::Service, None)
        .unwrap();
    let bystander = tokens
        .mint("visitor-bystander", Role::Visitor, None)
        .unwrap();
    available(c, &agent).await.unwrap();

    let web_ids = vec![
        identity(IdentityKind::Email, "abuser@example.com"),
        identity(IdentityKind::Phone, "+33612345678"),
    ];
    let first = start(c, &visitor, Channel::WebChat, web_ids, "", "hello").await;
    accept(c, &agent, &first.id).await.unwrap();
    wait_status(c, &agent, &first.id, cnv::ConversationStatus::Active).await;
    // A second live conversation of the same customer (same phone) on
    // another channel, still waiting; and someone else's.
    let whatsapp_ids = vec![
        identity(IdentityKind::Whatsapp, "33612345678"),
        identity(IdentityKind::Phone, "+33612345678"),
    ];
    let second = start(
        c,
        &connector,
        Channel::Whatsapp,
        whatsapp_ids,
        "",
        "anyone?",
    )
    .await;
    let innocent = start(
        c,
        &bystander,
        Channel::WebChat,
        vec![identity(IdentityKind::Email, "nice@example.com")],
        "",
        "hi",
    )
    .await;
    // The request's contact has the customer's address (continue by email).
    let contact = c
        .conversations
        .clone()
        .create_contact(authed(
            &supervisor,
            cnv::CreateContactRequest {
                name: "Customer".into(),
                email: "abuser@example.com".into(),
                phone: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    c.conversations
        .clone()
        .attach_contact(authed(
            &supervisor,
            cnv::AttachContactRequest {
                request_id: first.request_id.clone(),
                contact_id: contact.id,
            },
        ))
        .await
        .unwrap();

    let block = livedesk_e2e::block_customer(c, &agent, &first.id, "abuse")
        .await
        .unwrap();

    // Both of the customer's conversations end BLOCKED; the bystander's not.
    wait_status(c, &supervisor, &first.id, cnv::ConversationStatus::Blocked).await;
    wait_status(c, &supervisor, &second.id, cnv::ConversationStatus::Blocked).await;
    assert_eq!(
        conversation(c, &supervisor, &innocent.id).await.status,
        cnv::ConversationStatus::Queued as i32
    );

    // BLK-4: no reply is accepted, the blocking agent's included.
    for (who, token) in [("agent", &agent), ("supervisor", &supervisor)] {
        let refused = send(c, token, &first.id, "sorry about that")
            .await
            .unwrap_err();
        assert_eq!(
            refused.code(),
            tonic::Code::FailedPrecondition,
            "{who}: {refused:?}"
        );
    }
    // Still readable in the closed list.
    let closed = c
        .conversations
        .clone()
        .list_conversations(authed(
            &supervisor,
            cnv::ListConversationsRequest {
                closed_only: true,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(closed.conversations.iter().any(|x| x.id == first.id));

    // Continue by email to the blocked customer is refused (NTF-3).
    let refused = c
        .conversations
        .clone()
        .send_email(authed(
            &supervisor,
            cnv::SendEmailRequest {
                request_id: first.request_id.clone(),
                subject: "Following up".into(),
                text_body: "Hello again".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        tonic::Code::FailedPrecondition,
        "{refused:?}"
    );
    assert!(refused.message().contains("blocked"), "{refused:?}");

    // The blocked customer's message is dropped, and so is their email;
    // each is counted against the block (BLK-3).
    let dropped = send(c, &visitor, &first.id, "let me back in")
        .await
        .unwrap();
    assert!(dropped.message.is_none());
    let ingested = c
        .conversations
        .clone()
        .ingest_email(authed(
            &gateway,
            cnv::IngestEmailRequest {
                from: "abuser@example.com".into(),
                to: vec!["support@example.com".into()],
                subject: "open up".into(),
                text_body: "let me back in".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(ingested.dropped);
    eventually(20, "two drops counted against the block", || async {
        let b = c
            .blocking
            .clone()
            .get_block(authed(
                &supervisor,
                blk::GetBlockRequest {
                    id: block.id.clone(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        (b.dropped_messages == 2).then_some(())
    })
    .await
    .unwrap();

    // BLK-5: an admin lifts the block; the customer's next message on the
    // old conversation starts a new one, visible as any other.
    c.blocking
        .clone()
        .unblock_customer(authed(
            &admin,
            blk::UnblockCustomerRequest {
                block_id: block.id.clone(),
                confirm: true,
                reason: "apologised".into(),
            },
        ))
        .await
        .unwrap();
    let resumed = eventually(20, "a new conversation after the unblock", || async {
        match send(c, &visitor, &first.id, "I am sorry").await {
            Ok(r) if r.message.is_some() => Some(r),
            // Until the unblock reaches conversations, the message is dropped.
            Ok(_) => None,
            Err(e) => panic!("after the unblock: {e:?}"),
        }
    })
    .await
    .unwrap();
    assert_ne!(resumed.conversation_id, first.id);
    let next = conversation(c, &visitor, &resumed.conversation_id).await;
    assert!(
        [
            cnv::ConversationStatus::Queued as i32,
            cnv::ConversationStatus::Active as i32
        ]
        .contains(&next.status),
        "{next:?}"
    );
    // The message sent while blocked stays hidden forever.
    let old = c
        .conversations
        .clone()
        .list_messages(authed(
            &supervisor,
            cnv::ListMessagesRequest {
                conversation_id: first.id.clone(),
                after_sequence: 0,
                limit: 100,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(old.messages.iter().all(|m| m.text != "let me back in"));
    suite.stop().await.unwrap();
}

// spec: BLK-9
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_ip_block_ends_live_conversations_from_that_range_and_drops_their_messages() {
    let suite = Suite::start().await.unwrap();
    let c = &suite.clients;
    let tokens = suite.tokens();
    let supervisor = tokens
        .mint("supervisor-ip", Role::Supervisor, None)
        .unwrap();
    let agent = tokens.mint("agent-ip", Role::Agent, Some("Ada")).unwrap();
    let from_range = tokens
        .mint("visitor-in-range", Role::Visitor, None)
        .unwrap();
    let elsewhere = tokens
        .mint("visitor-elsewhere", Role::Visitor, None)
        .unwrap();
    available(c, &agent).await.unwrap();
    let inside = start(
        c,
        &from_range,
        Channel::WebChat,
        vec![],
        "203.0.113.9",
        "hi",
    )
    .await;
    let outside = start(
        c,
        &elsewhere,
        Channel::WebChat,
        vec![],
        "198.51.100.4",
        "hi",
    )
    .await;

    let expires = chrono::Utc::now() + chrono::Duration::hours(1);
    let block = c
        .blocking
        .clone()
        .block_ip(authed(
            &supervisor,
            blk::BlockIpRequest {
                ip_cidr: "203.0.113.0/24".into(),
                expires_at: Some(livedesk_platform::time::to_proto(expires)),
                reason: "spam wave".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();

    wait_status(c, &supervisor, &inside.id, cnv::ConversationStatus::Blocked).await;
    let dropped = send(c, &from_range, &inside.id, "still here")
        .await
        .unwrap();
    assert!(
        dropped.message.is_none(),
        "a message from a blocked range is dropped"
    );
    // The other address is untouched: its message is stored and shown.
    let kept = send(c, &elsewhere, &outside.id, "still here")
        .await
        .unwrap();
    assert!(kept.message.is_some());
    assert_eq!(
        conversation(c, &supervisor, &outside.id).await.status,
        cnv::ConversationStatus::Queued as i32
    );
    eventually(20, "the drop counted against the IP block", || async {
        let b = c
            .blocking
            .clone()
            .get_block(authed(
                &supervisor,
                blk::GetBlockRequest {
                    id: block.id.clone(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        (b.dropped_messages == 1).then_some(())
    })
    .await
    .unwrap();
    suite.stop().await.unwrap();
}
