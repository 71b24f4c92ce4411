//! Continue by email (CNV-14) and a blocked sender (BLK-3).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::Harness;
use livedesk_auth::Role;
use livedesk_proto::blocking::v1 as bpb;
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_proto::common::v1::{Channel, CustomerIdentity, IdentityKind};
use livedesk_proto::conversations::v1 as pb;
use livedesk_testkit::authed;

async fn with_contact(h: &Harness, email: &str) -> pb::Conversation {
    let c = h.active_chat("v1", "a1").await;
    let agent = h.token("a1", Role::Agent);
    let mut client = h.client().await;
    let contact = client
        .create_contact(authed(
            &agent,
            pb::CreateContactRequest {
                name: "Melissa".into(),
                email: email.into(),
                phone: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    client
        .attach_contact(authed(
            &agent,
            pb::AttachContactRequest {
                request_id: c.request_id.clone(),
                contact_id: contact.id,
            },
        ))
        .await
        .unwrap();
    c
}

fn email(request_id: &str, key: &str) -> pb::SendEmailRequest {
    pb::SendEmailRequest {
        request_id: request_id.into(),
        subject: "Your refund".into(),
        text_body: "It was sent this morning.".into(),
        client_request_id: key.into(),
    }
}

fn sent(item: &pb::HistoryItem) -> pb::EmailMessage {
    match &item.item {
        Some(pb::history_item::Item::Email(e)) => e.clone(),
        other => panic!("expected an email, got {other:?}"),
    }
}

// spec: CNV-14
// spec: TEN-5
#[tokio::test]
async fn an_agent_emails_the_contact_and_replies_thread_into_one_history() {
    let h = Harness::start().await;
    h.serve(&["a1"]).await;
    let c = with_contact(&h, "melissa@gmail.com").await;
    let agent = h.token("a1", Role::Agent);
    let mut client = h.client().await;
    let out = sent(
        &client
            .send_email(authed(&agent, email(&c.request_id, "e1")))
            .await
            .unwrap()
            .into_inner(),
    );
    let again = sent(
        &client
            .send_email(authed(&agent, email(&c.request_id, "e1")))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(again.id, out.id, "a retry sends nothing more");
    assert!(!out.inbound);
    assert!(out.subject.starts_with("Your refund [#"), "{}", out.subject);
    let requested: pb::EmailRequested = h.event(&c.request_id).await;
    assert_eq!(requested.kind, "reply");
    assert_eq!(requested.to, ["melissa@gmail.com"]);
    assert_eq!(requested.message_id, out.message_id);
    assert!(out.message_id.starts_with('<') && out.message_id.ends_with('>'));
    assert_eq!(
        h.events_of::<pb::EmailRequested>(&c.request_id).await.len(),
        1
    );

    let gateway = h.token("mail-gateway", Role::Service);
    let ingest = |subject: &str, in_reply_to: &str, mid: &str, from: &str| pb::IngestEmailRequest {
        from: from.into(),
        to: vec!["support@livedesk.local".into()],
        subject: subject.into(),
        text_body: "Thanks! My card is 4111 1111 1111 1111".into(),
        message_id: mid.into(),
        in_reply_to: in_reply_to.into(),
        references: vec![],
    };
    // Threaded by In-Reply-To.
    let r1 = client
        .ingest_email(authed(
            &gateway,
            ingest(
                "Re: whatever",
                &out.message_id,
                "<r1@gmail.com>",
                "melissa@gmail.com",
            ),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r1.request_id, c.request_id);
    // Threaded by the subject token when the headers were lost.
    let r2 = client
        .ingest_email(authed(
            &gateway,
            ingest(
                &format!("RE: {}", out.subject),
                "",
                "<r2@gmail.com>",
                "melissa@gmail.com",
            ),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r2.request_id, c.request_id);
    // A gateway retry stores nothing twice.
    let r2b = client
        .ingest_email(authed(
            &gateway,
            ingest("whatever", "", "<r2@gmail.com>", "melissa@gmail.com"),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r2b.request_id, c.request_id);
    // Anything else starts a new request for that sender, with a contact.
    let r3 = client
        .ingest_email(authed(
            &gateway,
            ingest("Hello", "", "<r3@x.org>", "new@x.org"),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(r3.request_id, c.request_id);
    let new_request = client
        .get_request(authed(
            &agent,
            pb::GetRequestRequest {
                id: r3.request_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(new_request.contact.unwrap().email, "n**@x.org");
    assert_eq!(h.count("SELECT count(*) AS n FROM email_messages").await, 4);
    assert_eq!(
        h.count(
            "SELECT count(*) AS n FROM email_messages WHERE text_body LIKE '%4111 1111 1111 1111%'"
        )
        .await,
        0,
        "PCI masked before storage"
    );

    let history = client
        .get_request_history(authed(
            &agent,
            pb::GetRequestHistoryRequest {
                request_id: c.request_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .items;
    let kinds: Vec<&str> = history
        .iter()
        .map(|i| match &i.item {
            Some(pb::history_item::Item::Message(_)) => "chat",
            Some(pb::history_item::Item::Email(e)) if e.inbound => "in",
            _ => "out",
        })
        .collect();
    assert_eq!(kinds, ["chat", "out", "in", "in"]);
    let ats: Vec<_> = history
        .iter()
        .map(|i| i.at.unwrap().seconds * 1_000_000_000 + i64::from(i.at.unwrap().nanos))
        .collect();
    assert!(ats.windows(2).all(|w| w[0] <= w[1]), "chronological");
    let visitor_view = client
        .get_request_history(authed(
            &h.token("v1", Role::Visitor),
            pb::GetRequestHistoryRequest {
                request_id: c.request_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(visitor_view.items.len(), 4);
}

// spec: CNV-14
// spec: TEN-2
// spec: TEN-3
// spec: TEN-4
#[tokio::test]
async fn email_rpcs_check_roles_tenancy_input_and_the_contact() {
    let h = Harness::start().await;
    let c = h.active_chat("v1", "a1").await;
    let agent = h.token("a1", Role::Agent);
    let mut client = h.client().await;
    let err = client
        .send_email(authed(&agent, email(&c.request_id, "")))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        tonic::Code::FailedPrecondition,
        "no contact email yet"
    );
    let mut bad = email(&c.request_id, "");
    bad.subject = "Hi\r\nBcc: x@y.z".into();
    let err = client.send_email(authed(&agent, bad)).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    for (token, code) in [
        (h.token("v1", Role::Visitor), tonic::Code::PermissionDenied),
        (h.token("gw", Role::Service), tonic::Code::PermissionDenied),
        (
            h.env.token(livedesk_testkit::new_org(), "a1", Role::Agent),
            tonic::Code::NotFound,
        ),
    ] {
        let err = client
            .send_email(authed(&token, email(&c.request_id, "")))
            .await
            .unwrap_err();
        assert_eq!(err.code(), code);
    }
    let ingest = pb::IngestEmailRequest {
        from: "a@b.com".into(),
        subject: "x".into(),
        text_body: "y".into(),
        ..Default::default()
    };
    let err = client
        .ingest_email(authed(&agent, ingest.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    let err = client
        .ingest_email(authed(
            &h.token("gw", Role::Service),
            pb::IngestEmailRequest {
                from: "nobody".into(),
                ..ingest
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    let history = pb::GetRequestHistoryRequest {
        request_id: c.request_id.clone(),
    };
    for token in [
        h.token("v2", Role::Visitor),
        h.env
            .token(livedesk_testkit::new_org(), "sup", Role::Supervisor),
    ] {
        let err = client
            .get_request_history(authed(&token, history.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::NotFound);
    }
    assert_eq!(h.count("SELECT count(*) AS n FROM email_messages").await, 0);
}

// spec: BLK-3
// spec: CNV-14
#[tokio::test]
async fn email_from_a_blocked_address_is_dropped() {
    let h = Harness::start().await;
    let req = pb::StartConversationRequest {
        channel: Channel::Messenger as i32,
        customer: Some(pb::Customer {
            name: "Spammer".into(),
            identities: vec![
                CustomerIdentity {
                    kind: IdentityKind::Messenger as i32,
                    value: "psid-9".into(),
                },
                CustomerIdentity {
                    kind: IdentityKind::Email as i32,
                    value: "spam@evil.com".into(),
                },
            ],
            ..Default::default()
        }),
        first_message: "buy now".into(),
        ..Default::default()
    };
    let c = crate::common::conversation(
        &h.client()
            .await
            .start_conversation(authed(&h.token("connector", Role::Service), req))
            .await
            .unwrap()
            .into_inner(),
    );
    h.assign(&c.id, "a1", "Alice").await;
    BlockingServiceClient::new(h.blocking.channel().await.unwrap())
        .block_customer(authed(
            &h.token("a1", Role::Agent),
            bpb::BlockCustomerRequest {
                conversation_id: c.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let r = h
        .client()
        .await
        .ingest_email(authed(
            &h.token("gw", Role::Service),
            pb::IngestEmailRequest {
                from: "SPAM@evil.com".into(),
                subject: "hello again".into(),
                text_body: "buy more".into(),
                message_id: "<s1@evil.com>".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(r.dropped && r.request_id.is_empty());
    assert_eq!(h.count("SELECT count(*) AS n FROM email_messages").await, 0);
    assert_eq!(h.count("SELECT count(*) AS n FROM requests").await, 1);
}
