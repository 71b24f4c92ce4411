//! Every id-taking RPC of the service against another org's admin and
//! against another visitor of the same org: never an answer, never a change
//! (TEN-2: the org comes from the token and foreign ids are NOT_FOUND;
//! TEN-3: a visitor reaches only their own conversation).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, send};
use livedesk_auth::Role;
use livedesk_proto::conversations::v1 as pb;
use livedesk_proto::conversations::v1::conversations_service_client::ConversationsServiceClient;
use livedesk_testkit::authed;
use tonic::Code;
use tonic::transport::Channel;

type Client = ConversationsServiceClient<Channel>;

/// Calls every id-taking RPC with `token`; returns (rpc, code) of each.
async fn probe(
    c: &mut Client,
    token: &str,
    conv: &pb::Conversation,
    template_id: &str,
) -> Vec<(&'static str, Code)> {
    let (id, rid) = (conv.id.clone(), conv.request_id.clone());
    let q = pb::Qualification {
        tags: vec!["x".into()],
        contact_reason: "r".into(),
        note: "n".into(),
    };
    let code = |r: Result<(), tonic::Status>| r.err().map_or(Code::Ok, |e| e.code());
    vec![
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
            "SendMessage",
            code(
                c.send_message(authed(token, send(&id, "intrusion", "probe-1")))
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
            "UpdateQualification",
            code(
                c.update_qualification(authed(
                    token,
                    pb::UpdateQualificationRequest {
                        id: id.clone(),
                        qualification: Some(q.clone()),
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
            "PauseConversation",
            code(
                c.pause_conversation(authed(
                    token,
                    pb::PauseConversationRequest { id: id.clone() },
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
                        template_id: template_id.into(),
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
            "UpdateRequest",
            code(
                c.update_request(authed(
                    token,
                    pb::UpdateRequestRequest {
                        id: rid.clone(),
                        priority: pb::Priority::High as i32,
                        ..Default::default()
                    },
                ))
                .await
                .map(drop),
            ),
        ),
        (
            "AssignRequest",
            code(
                c.assign_request(authed(
                    token,
                    pb::AssignRequestRequest {
                        id: rid.clone(),
                        ..Default::default()
                    },
                ))
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
            "SendEmail",
            code(
                c.send_email(authed(
                    token,
                    pb::SendEmailRequest {
                        request_id: rid.clone(),
                        subject: "s".into(),
                        text_body: "b".into(),
                        ..Default::default()
                    },
                ))
                .await
                .map(drop),
            ),
        ),
        (
            "EndConversation",
            code(
                c.end_conversation(authed(
                    token,
                    pb::EndConversationRequest {
                        id: id.clone(),
                        qualification: Some(q),
                        ..Default::default()
                    },
                ))
                .await
                .map(drop),
            ),
        ),
    ]
}

// spec: TEN-2, TEN-3
#[tokio::test]
async fn no_rpc_answers_or_changes_anything_for_another_org_or_another_visitor() {
    let h = Harness::start().await;
    let conv = h.active_chat("visitor-own", "agent-1").await;
    let mut c = h.client().await;
    let admin = h.token("admin", Role::Admin);
    let template = c
        .create_template(authed(
            &admin,
            pb::CreateTemplateRequest {
                name: "hello".into(),
                body: "Hello <customer.name>".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let before = h.get(&conv.id).await;

    let stranger = h
        .env
        .token(livedesk_testkit::new_org(), "admin-elsewhere", Role::Admin);
    for (rpc, code) in probe(&mut c, &stranger, &conv, &template.id).await {
        assert_eq!(code, Code::NotFound, "{rpc} for another org's admin");
    }
    let other_visitor = h.token("visitor-other", Role::Visitor);
    for (rpc, code) in probe(&mut c, &other_visitor, &conv, &template.id).await {
        assert!(
            matches!(code, Code::NotFound | Code::PermissionDenied),
            "{rpc} for another visitor: {code:?}"
        );
    }

    let after = h.get(&conv.id).await;
    assert_eq!(after.status, before.status, "still ACTIVE");
    assert_eq!(
        after.last_sequence, before.last_sequence,
        "no message added"
    );
    assert_eq!(
        after.qualification, before.qualification,
        "qualification untouched"
    );
    let foreign_lists = [
        c.list_conversations(authed(&stranger, pb::ListConversationsRequest::default()))
            .await
            .unwrap()
            .into_inner()
            .conversations
            .len(),
        c.list_requests(authed(&stranger, pb::ListRequestsRequest::default()))
            .await
            .unwrap()
            .into_inner()
            .requests
            .len(),
        c.list_templates(authed(&stranger, pb::ListTemplatesRequest::default()))
            .await
            .unwrap()
            .into_inner()
            .templates
            .len(),
    ];
    assert_eq!(
        foreign_lists,
        [0, 0, 0],
        "another org lists nothing of this one"
    );
}
