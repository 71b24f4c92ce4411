//! StartConversation end to end (CNV-2, CNV-3, CNV-9, TEN-5).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, conversation};
use livedesk_auth::Role;
use livedesk_conversations::domain::offline_action;
use livedesk_proto::common::v1::{Channel, CustomerIdentity, IdentityKind};
use livedesk_proto::conversations::v1 as pb;
use livedesk_proto::scheduling::v1::WidgetMode;
use livedesk_testkit::authed;

// spec: CNV-3
// spec: CNV-9
// spec: TEN-5
#[tokio::test]
async fn a_start_queues_the_conversation_announces_it_and_never_stores_a_card_number() {
    let h = Harness::start().await;
    let resp = h
        .start_chat("v1", "my card is 4111 1111 1111 1111 thanks", "k-1")
        .await
        .unwrap();
    let c = conversation(&resp);
    assert_eq!(c.status, pb::ConversationStatus::Queued as i32);
    assert_eq!(
        c.queue_id,
        livedesk_platform::defaults::default_queue_id(h.org).to_string()
    );
    assert_eq!(c.last_sequence, 1, "the first message has sequence 1");

    let queued: pb::ConversationQueued = h.event(&c.id).await;
    assert_eq!(queued.customer_principal_id, "v1");
    assert_eq!(
        queued.first_messages,
        ["my card is **** **** **** 1111 thanks"]
    );

    // CNV-9: the clear card number is nowhere in the database.
    assert_eq!(
        h.count("SELECT count(*) AS n FROM messages WHERE text LIKE '%4111 1111 1111 1111%'")
            .await,
        0
    );
    assert_eq!(h.count("SELECT count(*) AS n FROM messages").await, 1);

    // TEN-5: a retry returns the same conversation and writes nothing.
    let again = conversation(
        &h.start_chat("v1", "my card is 4111 1111 1111 1111 thanks", "k-1")
            .await
            .unwrap(),
    );
    assert_eq!(again.id, c.id);
    assert_eq!(h.count("SELECT count(*) AS n FROM conversations").await, 1);
    assert_eq!(h.count("SELECT count(*) AS n FROM messages").await, 1);
}

// spec: CNV-3
#[tokio::test]
async fn a_closed_queue_answers_the_form_to_show_and_stores_nothing() {
    let h = Harness::start().await;
    h.close_with_offline_form().await;
    let resp = h.start_chat("v1", "hello?", "").await.unwrap();
    assert_eq!(
        resp.outcome,
        Some(pb::start_conversation_response::Outcome::Offline(
            pb::OfflineAction::OfflineForm as i32
        ))
    );
    assert_eq!(
        resp.form_id,
        livedesk_platform::defaults::default_offline_form_id(h.org).to_string()
    );
    h.hide_when_closed().await;
    let resp = h.start_chat("v1", "hello?", "").await.unwrap();
    assert_eq!(
        resp.outcome,
        Some(pb::start_conversation_response::Outcome::Offline(
            pb::OfflineAction::Hidden as i32
        ))
    );
    assert_eq!(h.count("SELECT count(*) AS n FROM conversations").await, 0);
    assert_eq!(h.count("SELECT count(*) AS n FROM requests").await, 0);
}

// spec: CNV-3
#[tokio::test]
async fn a_messaging_channel_out_of_hours_is_created_with_the_out_of_hours_message() {
    let h = Harness::start().await;
    h.close("We are closed; we answer tomorrow from 9:00.")
        .await;
    h.wait_widget(Channel::Messenger, WidgetMode::MessagingOutOfHours)
        .await;
    // A messaging channel (here Messenger, through its connector) is never
    // refused out of hours: the conversation waits for the team.
    let req = pb::StartConversationRequest {
        channel: Channel::Messenger as i32,
        customer: Some(pb::Customer {
            name: "Melissa".into(),
            identities: vec![CustomerIdentity {
                kind: IdentityKind::Messenger as i32,
                value: "psid-1".into(),
            }],
            ..Default::default()
        }),
        first_message: "hello?".into(),
        ..Default::default()
    };
    let resp = h
        .client()
        .await
        .start_conversation(authed(&h.token("connector", Role::Service), req))
        .await
        .unwrap()
        .into_inner();
    assert!(resp.out_of_hours_message.contains("closed"));
    let c = conversation(&resp);
    let token = h.token("sup", Role::Supervisor);
    let msgs = h
        .client()
        .await
        .list_messages(authed(
            &token,
            pb::ListMessagesRequest {
                conversation_id: c.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .messages;
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1].author_kind, pb::AuthorKind::System as i32);
    assert_eq!(msgs[1].sequence, 2);
}

// spec: CNV-2
#[tokio::test]
async fn a_double_submit_yields_one_conversation() {
    let h = Harness::start().await;
    let (a, b) = tokio::join!(h.start_chat("v1", "hi", ""), h.start_chat("v1", "hi", ""));
    assert_eq!(conversation(&a.unwrap()).id, conversation(&b.unwrap()).id);
    assert_eq!(h.count("SELECT count(*) AS n FROM conversations").await, 1);
    // A different visitor gets a conversation of their own.
    let other = conversation(&h.start_chat("v2", "hi", "").await.unwrap());
    assert_eq!(h.count("SELECT count(*) AS n FROM conversations").await, 2);
    assert_eq!(other.customer.unwrap().identities[0].value, "v2");
}

// spec: TEN-4
#[tokio::test]
async fn bad_input_is_refused_with_the_fields_and_writes_nothing() {
    let h = Harness::start().await;
    let req = pb::StartConversationRequest {
        channel: 0,
        queue_id: "nope".into(),
        first_message: "x".repeat(5001),
        ..Default::default()
    };
    let err = h
        .client()
        .await
        .start_conversation(authed(&h.token("v1", Role::Visitor), req))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    for field in ["channel", "queue_id", "first_message"] {
        assert!(
            err.message().contains(field),
            "{field} named in {}",
            err.message()
        );
    }
    assert_eq!(h.count("SELECT count(*) AS n FROM conversations").await, 0);
}

// spec: TEN-3
#[tokio::test]
async fn agents_do_not_start_conversations_and_services_start_them_for_a_named_customer() {
    let h = Harness::start().await;
    let req = pb::StartConversationRequest {
        channel: 5,
        ..Default::default()
    };
    let err = h
        .client()
        .await
        .start_conversation(authed(&h.token("a1", Role::Agent), req.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    let err = h
        .client()
        .await
        .start_conversation(authed(&h.token("gw", Role::Service), req.clone()))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        tonic::Code::InvalidArgument,
        "a service must name the customer"
    );
    let mut req = req;
    req.customer = Some(pb::Customer {
        email: "melissa@gmail.com".into(),
        identities: vec![livedesk_proto::common::v1::CustomerIdentity {
            kind: livedesk_proto::common::v1::IdentityKind::Email as i32,
            value: "Melissa@Gmail.com".into(),
        }],
        ..Default::default()
    });
    req.first_message = "Subject: refund".into();
    let c = conversation(
        &h.client()
            .await
            .start_conversation(authed(&h.token("gw", Role::Service), req))
            .await
            .unwrap()
            .into_inner(),
    );
    let queued: pb::ConversationQueued = h.event(&c.id).await;
    assert_eq!(
        queued.customer_principal_id,
        "IDENTITY_KIND_EMAIL:melissa@gmail.com"
    );
}

// Scheduling cannot be made to send an unknown mode, so the mapping is
// tested directly: an unknown or missing mode must never read as "open".
// spec: CNV-3
#[test]
fn an_unknown_or_missing_widget_mode_is_an_internal_error_never_chat() {
    for mode in [99, WidgetMode::Unspecified as i32] {
        let err = offline_action(mode).expect_err("fails closed");
        assert_eq!(
            tonic::Status::from(err).code(),
            tonic::Code::Internal,
            "{mode}"
        );
    }
    assert_eq!(offline_action(WidgetMode::Chat as i32).unwrap(), None);
    assert_eq!(
        offline_action(WidgetMode::MessagingOutOfHours as i32).unwrap(),
        None
    );
    assert_eq!(
        offline_action(WidgetMode::OfflineForm as i32).unwrap(),
        Some(pb::OfflineAction::OfflineForm)
    );
    assert_eq!(
        offline_action(WidgetMode::ContactForm as i32).unwrap(),
        Some(pb::OfflineAction::ContactForm)
    );
    assert_eq!(
        offline_action(WidgetMode::Hidden as i32).unwrap(),
        Some(pb::OfflineAction::Hidden)
    );
}
