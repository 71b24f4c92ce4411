//! The walking skeleton (issue 2, point 5): one conversation through all
//! six services, through their public gRPC APIs, on real PostgreSQL and
//! NATS JetStream. It plays the very scenario `livedeskctl demo` prints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use livedesk_e2e::Suite;
use livedesk_proto::conversations::v1::ConversationStatus;

// spec: RTG-2, RTG-4, RTG-5, CNV-3, CNV-4, CNV-8, BLK-1, BLK-2, BLK-3, NTF-1, NTF-2, NTF-3, RPT-2, RPT-3, RPT-4, EVT-1, TEN-1
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_conversation_walks_through_all_six_services() {
    let suite = Suite::start().await.unwrap();
    let tokens = suite.tokens();
    let mut lines = Vec::new();
    let mut say = |l: &str| lines.push(l.to_owned());
    let report = match livedeskctl::demo::run(&suite.clients, &tokens, &mut say).await {
        Ok(r) => r,
        Err(e) => panic!("demo failed: {e:#}\n{}", lines.join("\n")),
    };

    // c. The offer carried what the agent needs to decide (RTG-4).
    let offer = report.offer.as_ref().unwrap();
    assert_eq!(offer.customer_name, "Marie Curie");
    assert_eq!(offer.queue_name, "General");
    assert!(
        offer.conversation_created_at.is_some(),
        "the waiting timer needs the arrival time"
    );
    assert_eq!(offer.first_messages, ["Bonjour, my parcel has not arrived"]);
    assert_eq!(
        report.status_after_accept,
        ConversationStatus::Active as i32
    );

    // d. Each side got the other's messages, in order, and never its own.
    assert_eq!(
        report.agent_received,
        ["Hello? Anyone there?", "Thank you!"]
    );
    assert_eq!(
        report.visitor_received,
        [
            "Hi Marie, I am checking your parcel now.",
            "It was re-sent this morning."
        ]
    );

    // e. The visitor's widget was told the conversation ended.
    assert!(report.visitor_told_ended);

    // f. Reporting counted it by tag and the export holds its row.
    assert_eq!(report.tag_count, 1);
    let row = report
        .csv
        .lines()
        .find(|l| l.contains(&report.conversation_id))
        .expect("exported row");
    assert!(row.contains("delivery"), "{row}");
    assert!(
        report
            .csv
            .lines()
            .next()
            .unwrap()
            .contains("conversation_id"),
        "header row"
    );

    // The transcript email really reached the suite's SMTP relay, once,
    // under the delivery's stable Message-ID (CNV-8, NTF-2).
    let mail = suite
        .smtp
        .wait_for_message(30, |m| {
            m.envelope_to().iter().any(|t| t == "marie@example.com")
        })
        .await
        .expect("the transcript email in the relay's mailbox");
    let message_id = mail.message_id().expect("a Message-ID");
    assert!(
        message_id.contains(&report.transcript_delivery_id),
        "{message_id} names delivery {}",
        report.transcript_delivery_id
    );
    assert_eq!(suite.smtp.with_message_id(&message_id).unwrap().len(), 1);

    // g. The blocked visitor: conversation BLOCKED, next message dropped and
    // never shown, no notification to them, new conversation refused.
    assert_eq!(report.blocked_status, ConversationStatus::Blocked as i32);
    assert!(!report.dropped_message_returned);
    assert!(!report.agent_saw_dropped_message);
    assert!(!report.dropped_visible_in_history);
    assert_eq!(report.blocked_visitor_notified, 0);
    assert_eq!(report.restart_refused, Some(tonic::Code::PermissionDenied));

    suite.stop().await.unwrap();
}
