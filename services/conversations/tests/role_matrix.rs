//! The role matrix of TEN-3 over every read RPC of the service: an agent
//! reaches the conversations of the queues they serve (the read model fed
//! by routing's `AgentQueuesChanged`) and those assigned to them or that
//! they take part in; another queue's conversation is NOT_FOUND (never
//! "forbidden") and absent from listings; supervisors see the whole org;
//! visitors only their own. Membership changes take effect, and a stale
//! snapshot arriving late changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, conversation};
use livedesk_auth::Role;
use livedesk_proto::conversations::v1 as pb;
use livedesk_proto::conversations::v1::conversations_service_client::ConversationsServiceClient;
use livedesk_proto::conversations::v1::upload_attachment_request::Part;
use livedesk_proto::routing::v1::{AgentQueuesChanged, ConversationTransferred};
use livedesk_testkit::{authed, eventually};
use tonic::Code;
use tonic::transport::Channel;
use uuid::Uuid;

type Client = ConversationsServiceClient<Channel>;

/// What one caller gets from each read RPC about one conversation.
#[derive(Debug)]
struct Reads {
    codes: Vec<(&'static str, Code)>,
    listed_conversation: bool,
    listed_request: bool,
}

/// Calls every read RPC that takes an id, and both listings.
async fn reads(
    c: &mut Client,
    token: &str,
    conv: &pb::Conversation,
    template: &str,
    attachment: &str,
) -> Reads {
    let (id, rid) = (conv.id.clone(), conv.request_id.clone());
    let code = |r: Result<(), tonic::Status>| r.err().map_or(Code::Ok, |e| e.code());
    let codes = vec![
        (
            "GetConversation",
            code(
                c.get_conversation(authed(token, pb::GetConversationRequest { id: id.clone() }))
                    .await
                    .map(drop),
            ),
        ),
        (
            "ListMessages",
            code(
                c.list_messages(authed(
                    token,
                    pb::ListMessagesRequest {
                        conversation_id: id.clone(),
                        after_sequence: 0,
                        limit: 10,
                    },
                ))
                .await
                .map(drop),
            ),
        ),
        (
            "GetCustomerIdentities",
            code(
                c.get_customer_identities(authed(
                    token,
                    pb::GetCustomerIdentitiesRequest {
                        conversation_id: id.clone(),
                    },
                ))
                .await
                .map(drop),
            ),
        ),
        (
            "ListQualificationAudit",
            code(
                c.list_qualification_audit(authed(
                    token,
                    pb::ListQualificationAuditRequest {
                        conversation_id: id.clone(),
                    },
                ))
                .await
                .map(drop),
            ),
        ),
        (
            "RecommendTags",
            code(
                c.recommend_tags(authed(
                    token,
                    pb::RecommendTagsRequest {
                        conversation_id: id.clone(),
                        limit: 3,
                    },
                ))
                .await
                .map(drop),
            ),
        ),
        (
            "RenderTemplate",
            code(
                c.render_template(authed(
                    token,
                    pb::RenderTemplateRequest {
                        template_id: template.into(),
                        conversation_id: id.clone(),
                    },
                ))
                .await
                .map(drop),
            ),
        ),
        (
            "GetRequest",
            code(
                c.get_request(authed(token, pb::GetRequestRequest { id: rid.clone() }))
                    .await
                    .map(drop),
            ),
        ),
        (
            "GetRequestHistory",
            code(
                c.get_request_history(authed(
                    token,
                    pb::GetRequestHistoryRequest {
                        request_id: rid.clone(),
                    },
                ))
                .await
                .map(drop),
            ),
        ),
        (
            "DownloadAttachment",
            code(
                c.download_attachment(authed(
                    token,
                    pb::DownloadAttachmentRequest {
                        id: attachment.into(),
                    },
                ))
                .await
                .map(drop),
            ),
        ),
    ];
    let listed_conversation = c
        .list_conversations(authed(token, pb::ListConversationsRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .conversations
        .iter()
        .any(|x| x.id == id);
    let listed_request = c
        .list_requests(authed(token, pb::ListRequestsRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .requests
        .iter()
        .any(|r| r.id == rid);
    Reads {
        codes,
        listed_conversation,
        listed_request,
    }
}

/// Asserts `who` reads everything about the conversation (`except`: RPCs
/// their role may not call at all, with the code they get).
fn assert_sees(who: &str, r: &Reads, except: &[(&str, Code)]) {
    for (rpc, code) in &r.codes {
        let want = except
            .iter()
            .find(|(e, _)| e == rpc)
            .map_or(Code::Ok, |(_, c)| *c);
        assert_eq!(*code, want, "{who}: {rpc}");
    }
    assert!(r.listed_conversation, "{who}: listed conversation");
    assert!(r.listed_request, "{who}: listed request");
}

/// Asserts `who` learns nothing: NOT_FOUND everywhere, absent from lists
/// (`except`: RPCs refused to the role before any lookup).
fn assert_blind(who: &str, r: &Reads, except: &[(&str, Code)]) {
    for (rpc, code) in &r.codes {
        let want = except
            .iter()
            .find(|(e, _)| e == rpc)
            .map_or(Code::NotFound, |(_, c)| *c);
        assert_eq!(*code, want, "{who}: {rpc}");
    }
    assert!(!r.listed_conversation, "{who}: listed conversation");
    assert!(!r.listed_request, "{who}: listed request");
}

/// Plays routing publishing an agent's memberships.
async fn memberships(h: &Harness, agent: &str, queues: &[Uuid], version: u64) {
    let e = AgentQueuesChanged {
        agent_id: agent.into(),
        queue_ids: queues.iter().map(Uuid::to_string).collect(),
        deleted: false,
        version,
    };
    h.publish("routing", agent, &e).await;
}

/// Waits until the read model holds `version` for `agent`.
async fn applied(h: &Harness, agent: &str, version: u64) {
    let sql = format!(
        "SELECT count(*) AS n FROM agent_memberships WHERE org_id = '{}' AND agent_id = '{agent}' AND version >= {version}",
        h.org
    );
    eventually(10, "membership applied", || async {
        (h.count(&sql).await == 1).then_some(())
    })
    .await
    .unwrap();
}

// spec: TEN-3
#[tokio::test]
async fn agents_read_only_their_queues_and_their_own_conversations() {
    let h = Harness::start().await;
    let mut c = h.client().await;
    let (queue_a, queue_b) = (h.queue().await, h.queue().await);
    memberships(&h, "agent-a", &[queue_a], 1).await;
    memberships(&h, "agent-b", &[queue_b], 2).await;
    applied(&h, "agent-a", 1).await;
    applied(&h, "agent-b", 2).await;

    // A waiting conversation of queue A, with an attachment.
    let visitor = h.token("visitor-1", Role::Visitor);
    let started = c
        .start_conversation(authed(
            &visitor,
            pb::StartConversationRequest {
                channel: livedesk_proto::common::v1::Channel::WebChat as i32,
                queue_id: queue_a.to_string(),
                customer: Some(pb::Customer {
                    name: "Melissa".into(),
                    ..Default::default()
                }),
                first_message: "my order is late".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let conv = conversation(&started);
    let body = b"receipt".to_vec();
    let attachment = c
        .upload_attachment(authed(
            &visitor,
            futures::stream::iter(vec![
                pb::UploadAttachmentRequest {
                    part: Some(Part::Metadata(pb::AttachmentMetadata {
                        conversation_id: conv.id.clone(),
                        file_name: "receipt.txt".into(),
                        content_type: "text/plain".into(),
                        size_bytes: body.len() as u64,
                        sha256: String::new(),
                    })),
                },
                pb::UploadAttachmentRequest {
                    part: Some(Part::Chunk(body.clone())),
                },
            ]),
        ))
        .await
        .unwrap()
        .into_inner();
    let template = c
        .create_template(authed(
            &h.token("admin", Role::Admin),
            pb::CreateTemplateRequest {
                name: "hello".into(),
                body: "Hello <customer.name>".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();

    let agent_a = h.token("agent-a", Role::Agent);
    let agent_b = h.token("agent-b", Role::Agent);
    let sup = h.token("sup", Role::Supervisor);
    let other_visitor = h.token("visitor-2", Role::Visitor);
    // Attachments are the participants' own (CNV-6): seeing the
    // conversation is not enough to download one.
    let participants_only = [("DownloadAttachment", Code::PermissionDenied)];
    // Visitors may not call staff RPCs at all.
    let staff_only = [
        ("GetCustomerIdentities", Code::PermissionDenied),
        ("ListQualificationAudit", Code::PermissionDenied),
        ("RecommendTags", Code::PermissionDenied),
        ("RenderTemplate", Code::PermissionDenied),
    ];

    let r = reads(&mut c, &agent_a, &conv, &template.id, &attachment.id).await;
    assert_sees("agent of queue A", &r, &participants_only);
    let r = reads(&mut c, &agent_b, &conv, &template.id, &attachment.id).await;
    assert_blind("agent of queue B only", &r, &[]);
    let r = reads(&mut c, &sup, &conv, &template.id, &attachment.id).await;
    assert_sees("supervisor", &r, &participants_only);
    let r = reads(&mut c, &visitor, &conv, &template.id, &attachment.id).await;
    assert_sees("its visitor", &r, &staff_only);
    let r = reads(&mut c, &other_visitor, &conv, &template.id, &attachment.id).await;
    assert_blind("another visitor", &r, &staff_only);

    // Agent A takes it, then transfers it to queue B: A took part and keeps
    // reading it; B now serves its queue.
    h.assign(&conv.id, "agent-a", "Ann").await;
    let t = ConversationTransferred {
        conversation_id: conv.id.clone(),
        from_agent_id: "agent-a".into(),
        to_queue_id: queue_b.to_string(),
        ..Default::default()
    };
    h.publish("routing", &conv.id, &t).await;
    eventually(10, "transferred to queue B", || async {
        let now = h.get(&conv.id).await;
        (now.queue_id == queue_b.to_string()).then_some(())
    })
    .await
    .unwrap();
    let r = reads(&mut c, &agent_a, &conv, &template.id, &attachment.id).await;
    // A took part, so the attachment is theirs too now.
    assert_sees("agent A after transferring out", &r, &[]);
    let r = reads(&mut c, &agent_b, &conv, &template.id, &attachment.id).await;
    assert_sees(
        "agent of queue B after the transfer",
        &r,
        &participants_only,
    );

    // B leaves queue B: the conversation disappears for them.
    memberships(&h, "agent-b", &[], 3).await;
    applied(&h, "agent-b", 3).await;
    let r = reads(&mut c, &agent_b, &conv, &template.id, &attachment.id).await;
    assert_blind("agent B after leaving queue B", &r, &[]);

    // A stale snapshot (version 2: member of B) arrives late, followed by a
    // marker: once the marker is applied, the stale one was handled too
    // (same consumer, published before) and changed nothing.
    memberships(&h, "agent-b", &[queue_b], 2).await;
    memberships(&h, "marker", &[], 4).await;
    applied(&h, "marker", 4).await;
    let r = reads(&mut c, &agent_b, &conv, &template.id, &attachment.id).await;
    assert_blind("agent B after a stale snapshot", &r, &[]);

    // Routing deleted agent A's queue memberships and then the agent: a
    // participant still reads what they handled.
    let deleted = AgentQueuesChanged {
        agent_id: "agent-a".into(),
        deleted: true,
        version: 5,
        ..Default::default()
    };
    h.publish("routing", "agent-a", &deleted).await;
    applied(&h, "agent-a", 5).await;
    assert_eq!(
        h.count(&format!(
            "SELECT count(*) AS n FROM queue_members WHERE org_id = '{}' AND agent_id = 'agent-a'",
            h.org
        ))
        .await,
        0
    );
    let r = reads(&mut c, &agent_a, &conv, &template.id, &attachment.id).await;
    assert_sees("agent A, deleted from queues, as a participant", &r, &[]);
}
