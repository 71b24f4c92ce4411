//! Templates, qualification after the end and queue policies (CNV-5, CNV-10, CNV-16).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, conversation};
use livedesk_auth::Role;
use livedesk_proto::conversations::v1 as pb;
use livedesk_proto::routing::v1::ConversationAssigned;
use livedesk_testkit::authed;

async fn assigned(h: &Harness, visitor: &str, agent: &str) -> pb::Conversation {
    let c = conversation(&h.start_chat(visitor, "hello", "").await.unwrap());
    let event = ConversationAssigned {
        conversation_id: c.id.clone(),
        agent_id: agent.into(),
        ..Default::default()
    };
    h.publish("routing", &c.id, &event).await;
    h.wait_status(&c.id, pb::ConversationStatus::Active).await
}

// spec: CNV-5
#[tokio::test]
async fn templates_check_placeholders_at_save_and_render_for_a_conversation() {
    let h = Harness::start().await;
    let c = assigned(&h, "v1", "a1").await;
    let mut client = h.client().await;
    let sup = h.token("sup", Role::Supervisor);
    let bad = pb::CreateTemplateRequest {
        name: "greet".into(),
        body: "Hi <customer.nom>".into(),
    };
    let err = client.create_template(authed(&sup, bad)).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("<customer.nom>"));
    let agent = h.token("a1", Role::Agent);
    let denied = pb::CreateTemplateRequest {
        name: "greet".into(),
        body: "Hi".into(),
    };
    assert_eq!(
        client
            .create_template(authed(&agent, denied))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::PermissionDenied
    );

    let ok = pb::CreateTemplateRequest {
        name: "greet".into(),
        body: "Hello <customer.name>, I am <agent.name>.".into(),
    };
    let t = client
        .create_template(authed(&sup, ok.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        client
            .create_template(authed(&sup, ok))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::AlreadyExists
    );
    let text = client
        .render_template(authed(
            &agent,
            pb::RenderTemplateRequest {
                template_id: t.id.clone(),
                conversation_id: c.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .text;
    assert_eq!(text, "Hello Melissa, I am a1.");
    assert_eq!(
        client
            .list_templates(authed(&agent, pb::ListTemplatesRequest {}))
            .await
            .unwrap()
            .into_inner()
            .templates
            .len(),
        1
    );
    let stranger = h
        .env
        .token(livedesk_testkit::new_org(), "sup", Role::Supervisor);
    let err = client
        .delete_template(authed(
            &stranger,
            pb::DeleteTemplateRequest { id: t.id.clone() },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    client
        .delete_template(authed(&sup, pb::DeleteTemplateRequest { id: t.id }))
        .await
        .unwrap();
}

// spec: CNV-16
// spec: CNV-10
#[tokio::test]
async fn a_queue_policy_demands_tags_and_a_later_change_is_audited() {
    let h = Harness::start().await;
    let c = assigned(&h, "v1", "a1").await;
    let mut client = h.client().await;
    let admin = h.token("adm", Role::Admin);
    let policy = pb::QueuePolicy {
        queue_id: c.queue_id.clone(),
        require_tags: true,
        require_contact_reason: true,
    };
    client
        .set_queue_policy(authed(&admin, policy))
        .await
        .unwrap();

    let agent = h.token("a1", Role::Agent);
    let end = |q: pb::Qualification| pb::EndConversationRequest {
        id: c.id.clone(),
        qualification: Some(q),
        ..Default::default()
    };
    let err = client
        .end_conversation(authed(&agent, end(pb::Qualification::default())))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(
        err.message().contains("qualification.tags")
            && err.message().contains("qualification.contact_reason")
    );
    h.wait_status(&c.id, pb::ConversationStatus::Active).await;

    let q = pb::Qualification {
        tags: vec!["billing".into()],
        contact_reason: "refund".into(),
        note: String::new(),
    };
    client
        .end_conversation(authed(&agent, end(q)))
        .await
        .unwrap();

    let update = |tags: Vec<String>| pb::UpdateQualificationRequest {
        id: c.id.clone(),
        qualification: Some(pb::Qualification {
            tags,
            contact_reason: "refund".into(),
            note: "checked".into(),
        }),
    };
    let other = h.token("a2", Role::Agent);
    assert_eq!(
        client
            .update_qualification(authed(&other, update(vec!["x".into()])))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::NotFound
    );
    let updated = client
        .update_qualification(authed(&agent, update(vec!["billing".into(), "vip".into()])))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.qualification.unwrap().tags, ["billing", "vip"]);
    let audit = client
        .list_qualification_audit(authed(
            &admin,
            pb::ListQualificationAuditRequest {
                conversation_id: c.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].changed_by, "a1");
    assert_eq!(audit[0].before.as_ref().unwrap().tags, ["billing"]);
    let event: pb::QualificationUpdated = h.event(&c.id).await;
    assert_eq!(event.changed_by, "a1");
}
