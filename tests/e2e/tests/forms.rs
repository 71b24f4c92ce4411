//! Forms across services, through the public gRPC APIs of the six
//! services: a submission reaches agents as a copy in a request's history
//! (SCH-6), a long wait is offered the offline form once and stays queued
//! (SCH-8), a queue's schedule has one writer (RTG-3), and a blocked
//! submitter's form is dropped, unseen by them and counted on the block
//! (BLK-3).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use livedesk_auth::Role;
use livedesk_e2e::{Suite, accept, available};
use livedesk_proto::blocking::v1 as blk;
use livedesk_proto::common::v1::{Channel, CustomerIdentity, IdentityKind};
use livedesk_proto::conversations::v1 as cnv;
use livedesk_proto::notifications::v1::Notification;
use livedesk_proto::notifications::v1::notification::Kind;
use livedesk_proto::routing::v1 as rtg;
use livedesk_proto::scheduling::v1 as sch;
use livedesk_testkit::eventually;
use livedeskctl::Clients;
use livedeskctl::tokens::authed;
use tonic::Code;
use uuid::Uuid;

/// Starts a web chat of `token` on `queue` (empty = default) and returns
/// the queued conversation.
async fn start(
    c: &Clients,
    token: &str,
    queue: &str,
    identities: Vec<CustomerIdentity>,
) -> cnv::Conversation {
    let resp = c
        .conversations
        .clone()
        .start_conversation(authed(
            token,
            cnv::StartConversationRequest {
                channel: Channel::WebChat as i32,
                queue_id: queue.into(),
                customer: Some(cnv::Customer {
                    name: "Customer".into(),
                    identities,
                    ..Default::default()
                }),
                first_message: "hello".into(),
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

async fn status(c: &Clients, token: &str, id: &str) -> i32 {
    c.conversations
        .clone()
        .get_conversation(authed(token, cnv::GetConversationRequest { id: id.into() }))
        .await
        .unwrap()
        .into_inner()
        .status
}

fn values(pairs: &[(&str, &str)]) -> Vec<sch::FieldValue> {
    pairs
        .iter()
        .map(|(k, v)| sch::FieldValue {
            key: (*k).into(),
            value: (*v).into(),
        })
        .collect()
}

async fn submit(
    c: &Clients,
    token: &str,
    form_id: &str,
    fields: &[(&str, &str)],
    conversation_id: &str,
) -> sch::FormSubmission {
    c.scheduling
        .clone()
        .submit_form(authed(
            token,
            sch::SubmitFormRequest {
                form_id: form_id.into(),
                values: values(fields),
                client_request_id: Uuid::now_v7().to_string(),
                conversation_id: conversation_id.into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
}

async fn offline_form(c: &Clients, token: &str, queue: &str) -> sch::Form {
    c.scheduling
        .clone()
        .get_form(authed(
            token,
            sch::GetFormRequest {
                queue_id: queue.into(),
                kind: sch::FormKind::Offline as i32,
            },
        ))
        .await
        .unwrap()
        .into_inner()
}

async fn history(c: &Clients, token: &str, request_id: &str) -> Vec<cnv::HistoryItem> {
    c.conversations
        .clone()
        .get_request_history(authed(
            token,
            cnv::GetRequestHistoryRequest {
                request_id: request_id.into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .items
}

/// The copy of `submission_id` in the history of `request_id`, once filed.
async fn wait_copy(
    c: &Clients,
    token: &str,
    request_id: &str,
    submission_id: &str,
) -> cnv::FormCopy {
    eventually(30, &format!("copy of {submission_id}"), || async {
        history(c, token, request_id)
            .await
            .into_iter()
            .find_map(|i| match i.item {
                Some(cnv::history_item::Item::Form(f)) if f.submission_id == submission_id => {
                    Some(f)
                }
                _ => None,
            })
    })
    .await
    .unwrap()
}

/// The request whose history holds the copy of `submission_id`, once filed.
async fn request_with_copy(c: &Clients, token: &str, submission_id: &str) -> String {
    eventually(30, &format!("a request with {submission_id}"), || async {
        let requests = c
            .conversations
            .clone()
            .list_requests(authed(token, cnv::ListRequestsRequest::default()))
            .await
            .unwrap()
            .into_inner()
            .requests;
        for r in requests {
            let filed = history(c, token, &r.id).await.into_iter().any(|i| {
                matches!(&i.item,
                    Some(cnv::history_item::Item::Form(f)) if f.submission_id == submission_id)
            });
            if filed {
                return Some(r.id);
            }
        }
        None
    })
    .await
    .unwrap()
}

fn as_pairs(v: &[cnv::FormFieldValue]) -> Vec<(String, String)> {
    v.iter().map(|f| (f.key.clone(), f.value.clone())).collect()
}

/// Next notification of a feed, failing the test after 30 s of silence.
async fn next(feed: &mut tonic::Streaming<Notification>) -> Notification {
    tokio::time::timeout(Duration::from_secs(30), feed.message())
        .await
        .expect("a notification within 30 s")
        .unwrap()
        .expect("the feed stays open")
}

// spec: SCH-6
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_contact_form_makes_a_request_with_its_custom_fields_and_every_copy_is_in_a_request_history()
 {
    let suite = Suite::start().await.unwrap();
    let c = &suite.clients;
    let tokens = suite.tokens();
    let admin = tokens.mint("admin-forms", Role::Admin, None).unwrap();
    let supervisor = tokens
        .mint("supervisor-forms", Role::Supervisor, None)
        .unwrap();
    let agent = tokens
        .mint("agent-forms", Role::Agent, Some("Ada"))
        .unwrap();
    let visitor = tokens.mint("visitor-contact", Role::Visitor, None).unwrap();
    let chatter = tokens.mint("visitor-chatter", Role::Visitor, None).unwrap();

    let field = |key: &str, kind: sch::FieldType, options: &[&str]| sch::FormField {
        key: key.into(),
        label: key.into(),
        r#type: kind as i32,
        required: true,
        options: options.iter().map(|o| (*o).into()).collect(),
        ..Default::default()
    };
    let form = c
        .scheduling
        .clone()
        .upsert_form(authed(
            &admin,
            sch::UpsertFormRequest {
                form: Some(sch::Form {
                    kind: sch::FormKind::Contact as i32,
                    enabled: true,
                    fields: vec![
                        field("company", sch::FieldType::Text, &[]),
                        field("topic", sch::FieldType::Select, &["billing", "sales"]),
                    ],
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let sent = submit(
        c,
        &visitor,
        &form.id,
        &[
            ("name", "Léa Martin"),
            ("email", "lea@example.com"),
            ("message", "Please call me back"),
            ("company", "Acme"),
            ("topic", "billing"),
        ],
        "",
    )
    .await;

    // A request (ticket) for the submitter, with the custom fields (its
    // contact is masked for staff by default, CNV-9: found by its copy).
    let request_id = request_with_copy(c, &supervisor, &sent.id).await;
    let request = c
        .conversations
        .clone()
        .get_request(authed(
            &supervisor,
            cnv::GetRequestRequest {
                id: request_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        as_pairs(&request.custom_fields),
        vec![
            ("company".to_owned(), "Acme".to_owned()),
            ("topic".to_owned(), "billing".to_owned())
        ]
    );
    assert!(request.contact.is_some());
    // ... and the copy of the whole submission in its history.
    let copy = wait_copy(c, &supervisor, &request.id, &sent.id).await;
    assert!(copy.contact_form);
    assert_eq!(copy.form_id, form.id);
    let copied = as_pairs(&copy.values);
    assert!(copied.contains(&("message".into(), "Please call me back".into())));
    assert!(copied.contains(&("company".into(), "Acme".into())));

    // An offline form filled in for a live chat joins that chat's request.
    available(c, &agent).await.unwrap();
    let chat = start(c, &chatter, "", vec![]).await;
    accept(c, &agent, &chat.id).await.unwrap();
    let offline = offline_form(c, &chatter, "").await;
    let sent = submit(
        c,
        &chatter,
        &offline.id,
        &[
            ("name", "Sam"),
            ("email", "sam@example.com"),
            ("message", "I have to go, mail me"),
        ],
        &chat.id,
    )
    .await;
    let copy = wait_copy(c, &supervisor, &chat.request_id, &sent.id).await;
    assert!(!copy.contact_form);
    assert!(as_pairs(&copy.values).contains(&("message".into(), "I have to go, mail me".into())));
    suite.stop().await.unwrap();
}

// spec: SCH-8
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customer_waiting_past_the_queues_delay_is_offered_the_offline_form_once_and_stays_queued()
 {
    let suite = Suite::start().await.unwrap();
    let c = &suite.clients;
    let tokens = suite.tokens();
    let admin = tokens.mint("admin-sch8", Role::Admin, None).unwrap();
    let supervisor = tokens
        .mint("supervisor-sch8", Role::Supervisor, None)
        .unwrap();
    let agent = tokens.mint("agent-sch8", Role::Agent, Some("Ada")).unwrap();
    let first = tokens.mint("visitor-first", Role::Visitor, None).unwrap();
    let waiting = tokens.mint("visitor-waiting", Role::Visitor, None).unwrap();

    let queue = c
        .routing
        .clone()
        .create_queue(authed(
            &admin,
            rtg::CreateQueueRequest {
                queue: Some(rtg::Queue {
                    name: "Night".into(),
                    offer_form_after_seconds: 1,
                    ..Default::default()
                }),
                client_request_id: Uuid::now_v7().to_string(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    // The realistic wait: the queue is staffed (web chat is open) but its
    // only agent is busy, one chat at a time.
    let capacity = |n: u32| {
        vec![rtg::ChannelCapacity {
            channel: Channel::WebChat as i32,
            capacity: n,
        }]
    };
    let upsert = |n: u32| rtg::UpsertAgentRequest {
        id: "agent-sch8".into(),
        display_name: "Ada".into(),
        queue_ids: vec![queue.id.clone()],
        capacities: capacity(n),
        ..Default::default()
    };
    c.routing
        .clone()
        .upsert_agent(authed(&admin, upsert(1)))
        .await
        .unwrap();
    available(c, &agent).await.unwrap();
    let busy = start(c, &first, &queue.id, vec![]).await;
    accept(c, &agent, &busy.id).await.unwrap();

    let mut feed = livedesk_e2e::subscribe(c, &waiting, true).await.unwrap();
    let chat = start(c, &waiting, &queue.id, vec![]).await;
    let offer = loop {
        let n = next(&mut feed).await;
        if let Some(Kind::OfflineForm(o)) = n.kind {
            assert_eq!(n.conversation_id, chat.id);
            break o;
        }
    };
    assert_eq!(offer.mode, sch::WidgetMode::OfflineForm as i32);
    assert_eq!(offer.queue_id, queue.id);
    let since = offer.waiting_since.unwrap();
    let at = offer.offered_at.unwrap();
    let waited_ms =
        (at.seconds - since.seconds) * 1000 + i64::from(at.nanos - since.nanos) / 1_000_000;
    assert!(waited_ms >= 1000, "offered after {waited_ms} ms");
    assert!(offer.waited_seconds >= 1);
    // The chat stays queued; the form filled in for it joins its request
    // and does not end it.
    assert_eq!(
        status(c, &supervisor, &chat.id).await,
        cnv::ConversationStatus::Queued as i32
    );
    let form = offline_form(c, &waiting, &queue.id).await;
    let sent = submit(
        c,
        &waiting,
        &form.id,
        &[
            ("name", "Noa"),
            ("email", "noa@example.com"),
            ("message", "Still here, but mail me too"),
        ],
        &chat.id,
    )
    .await;
    wait_copy(c, &supervisor, &chat.request_id, &sent.id).await;
    assert_eq!(
        status(c, &supervisor, &chat.id).await,
        cnv::ConversationStatus::Queued as i32
    );
    // Keep waiting through two more sweeps (5 s each): no second offer.
    let waited = offer.waited_seconds + 11;
    eventually(40, "a long wait", || async {
        let s = c
            .routing
            .clone()
            .get_queue_status(authed(
                &supervisor,
                rtg::GetQueueStatusRequest {
                    queue_id: queue.id.clone(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        (s.oldest_wait_seconds >= waited).then_some(())
    })
    .await
    .unwrap();
    // The agent takes a second chat: the waiting one is assigned, and its
    // feed up to then held one offline-form offer.
    c.routing
        .clone()
        .upsert_agent(authed(&admin, upsert(2)))
        .await
        .unwrap();
    accept(c, &agent, &chat.id).await.unwrap();
    loop {
        match next(&mut feed).await.kind {
            Some(Kind::OfflineForm(o)) => panic!("offered twice: {o:?}"),
            Some(Kind::Assigned(_)) => break,
            _ => {}
        }
    }
    suite.stop().await.unwrap();
}

// spec: RTG-3
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_queues_schedule_is_written_only_by_scheduling() {
    let suite = Suite::start().await.unwrap();
    let c = &suite.clients;
    let tokens = suite.tokens();
    let admin = tokens.mint("admin-rtg3", Role::Admin, None).unwrap();
    let list = || async {
        c.routing
            .clone()
            .list_queues(authed(&admin, rtg::ListQueuesRequest::default()))
            .await
            .unwrap()
            .into_inner()
            .queues
    };
    let schedule = c
        .scheduling
        .clone()
        .create_schedule(authed(
            &admin,
            sch::CreateScheduleRequest {
                schedule: Some(sch::Schedule {
                    name: "Never".into(),
                    time_zone: "UTC".into(),
                    ..Default::default()
                }),
                client_request_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();

    let before = list().await.len();
    let refused = c
        .routing
        .clone()
        .create_queue(authed(
            &admin,
            rtg::CreateQueueRequest {
                queue: Some(rtg::Queue {
                    name: "Scheduled".into(),
                    schedule_id: schedule.id.clone(),
                    ..Default::default()
                }),
                client_request_id: Uuid::now_v7().to_string(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains("schedule_id"), "{refused:?}");
    assert_eq!(list().await.len(), before, "nothing created");

    let queue = c
        .routing
        .clone()
        .create_queue(authed(
            &admin,
            rtg::CreateQueueRequest {
                queue: Some(rtg::Queue {
                    name: "Sales".into(),
                    ..Default::default()
                }),
                client_request_id: Uuid::now_v7().to_string(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let refused = c
        .routing
        .clone()
        .update_queue(authed(
            &admin,
            rtg::UpdateQueueRequest {
                queue: Some(rtg::Queue {
                    name: "Renamed".into(),
                    schedule_id: schedule.id.clone(),
                    ..queue.clone()
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    let stored = c
        .routing
        .clone()
        .get_queue(authed(
            &admin,
            rtg::GetQueueRequest {
                id: queue.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.name, "Sales", "the refused update changed nothing");
    assert_eq!(stored.schedule_id, "");

    let is_open = || async {
        c.scheduling
            .clone()
            .is_open(authed(
                &admin,
                sch::IsOpenRequest {
                    queue_id: queue.id.clone(),
                    at: None,
                },
            ))
            .await
            .unwrap()
            .into_inner()
    };
    // Unassigned: the org's default schedule, always open.
    assert!(is_open().await.open);
    c.scheduling
        .clone()
        .assign_schedule(authed(
            &admin,
            sch::AssignScheduleRequest {
                queue_id: queue.id.clone(),
                schedule_id: schedule.id.clone(),
            },
        ))
        .await
        .unwrap();
    let now = is_open().await;
    assert_eq!(now.schedule_id, schedule.id);
    assert!(!now.open, "the assigned schedule has no opening hours");
    // Routing still neither stores nor echoes it.
    let stored = c
        .routing
        .clone()
        .get_queue(authed(&admin, rtg::GetQueueRequest { id: queue.id }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.schedule_id, "");
    suite.stop().await.unwrap();
}

// spec: BLK-3
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_blocked_customers_form_looks_accepted_is_never_listed_and_is_counted_on_the_block() {
    let suite = Suite::start().await.unwrap();
    let c = &suite.clients;
    let tokens = suite.tokens();
    let agent = tokens.mint("agent-blk3", Role::Agent, Some("Ada")).unwrap();
    let supervisor = tokens
        .mint("supervisor-blk3", Role::Supervisor, None)
        .unwrap();
    let customer = tokens.mint("visitor-abuser", Role::Visitor, None).unwrap();
    // The form comes from another browser: only the email ties it to them.
    let other_browser = tokens
        .mint("visitor-elsewhere", Role::Visitor, None)
        .unwrap();
    let innocent = tokens
        .mint("visitor-innocent", Role::Visitor, None)
        .unwrap();
    available(c, &agent).await.unwrap();
    let chat = start(
        c,
        &customer,
        "",
        vec![CustomerIdentity {
            kind: IdentityKind::Email as i32,
            value: "abuser@example.com".into(),
        }],
    )
    .await;
    accept(c, &agent, &chat.id).await.unwrap();
    let block = livedesk_e2e::block_customer(c, &agent, &chat.id, "abuse")
        .await
        .unwrap();
    let get_block = || async {
        c.blocking
            .clone()
            .get_block(authed(
                &supervisor,
                blk::GetBlockRequest {
                    id: block.id.clone(),
                },
            ))
            .await
            .unwrap()
            .into_inner()
    };
    let dropped_before = get_block().await.dropped_messages;

    let form = offline_form(c, &other_browser, "").await;
    let fields = [
        ("name", "Someone"),
        ("email", "Abuser@Example.com"),
        ("message", "let me in"),
    ];
    let answer = submit(c, &other_browser, &form.id, &fields, "").await;
    // Shaped like a stored submission: the block is not revealed.
    assert!(!answer.dropped);
    assert!(Uuid::parse_str(&answer.id).is_ok());
    assert_eq!(answer.form_id, form.id);
    assert!(answer.submitted_at.is_some());
    assert_eq!(answer.values.len(), 3);

    eventually(30, "the drop counted on the block", || async {
        (get_block().await.dropped_messages == dropped_before + 1).then_some(())
    })
    .await
    .unwrap();

    // A later, unblocked submission is listed; the dropped one never is.
    let kept = submit(
        c,
        &innocent,
        &form.id,
        &[
            ("name", "Nice"),
            ("email", "nice@example.com"),
            ("message", "hello"),
        ],
        "",
    )
    .await;
    let listed = c
        .scheduling
        .clone()
        .list_form_submissions(authed(
            &supervisor,
            sch::ListFormSubmissionsRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner()
        .submissions;
    assert!(listed.iter().any(|s| s.id == kept.id));
    assert!(!listed.iter().any(|s| s.id == answer.id));
    assert!(
        !listed
            .iter()
            .flat_map(|s| &s.values)
            .any(|v| v.value.eq_ignore_ascii_case("abuser@example.com")),
        "nothing of the blocked submitter stored"
    );
    // Nothing reaches agents either: the later submission has its request,
    // the dropped one is in no request's history.
    request_with_copy(c, &supervisor, &kept.id).await;
    let requests = c
        .conversations
        .clone()
        .list_requests(authed(&supervisor, cnv::ListRequestsRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .requests;
    for r in &requests {
        let items = history(c, &supervisor, &r.id).await;
        assert!(!items.iter().any(|i| matches!(&i.item,
            Some(cnv::history_item::Item::Form(f)) if f.submission_id == answer.id)));
    }
    assert_eq!(get_block().await.dropped_messages, dropped_before + 1);
    suite.stop().await.unwrap();
}
