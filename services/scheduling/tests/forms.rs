//! Offline and contact forms end to end (SCH-3, SCH-6, TEN-1..4).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::World;
use futures::StreamExt;
use livedesk_auth::Role;
use livedesk_events::Subjects;
use livedesk_platform::defaults::{default_contact_form_id, default_offline_form_id};
use livedesk_proto::EventType;
use livedesk_proto::common::v1::Channel;
use livedesk_proto::events::v1::EventEnvelope;
use livedesk_proto::scheduling::v1 as pb;
use livedesk_testkit::{authed, new_org};
use prost::Message;
use tonic::Code;
use uuid::Uuid;

fn value(key: &str, value: &str) -> pb::FieldValue {
    pb::FieldValue {
        key: key.into(),
        value: value.into(),
    }
}

fn submit(form_id: &str, values: Vec<pb::FieldValue>) -> pb::SubmitFormRequest {
    pb::SubmitFormRequest {
        form_id: form_id.into(),
        values,
        ..Default::default()
    }
}

// spec: SCH-6
// spec: TEN-1
#[tokio::test]
async fn the_default_offline_form_is_submitted_stored_and_announced() {
    let w = World::new().await;
    let mut c = w.client().await;
    c.update_settings(w.admin(pb::SchedulingSettings {
        notify_email: "team@example.com".into(),
        ..Default::default()
    }))
    .await
    .unwrap();
    let visitor = w.token(Role::Visitor);
    let form = c
        .get_form(authed(
            &visitor,
            pb::GetFormRequest {
                queue_id: String::new(),
                kind: pb::FormKind::Offline as i32,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(form.id, default_offline_form_id(w.org).to_string());
    assert!(form.enabled);
    let keys: Vec<_> = form.fields.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, ["name", "email", "message"]);

    let nats = w.env.nats().await.unwrap();
    let subject = Subjects::new(w.env.prefix.clone()).event("scheduling", pb::FormSubmitted::TYPE);
    let mut sub = nats.subscribe(subject).await.unwrap();
    let values = vec![
        value("name", "Ana"),
        value("email", "ana@example.com"),
        value("message", "Call me back"),
    ];
    let stored = c
        .submit_form(authed(&visitor, submit(&form.id, values)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.form_id, form.id);
    assert_eq!(stored.values.len(), 3);

    let msg = tokio::time::timeout(std::time::Duration::from_secs(10), sub.next())
        .await
        .unwrap()
        .unwrap();
    let env = EventEnvelope::decode(msg.payload).unwrap();
    assert_eq!(env.org_id, w.org.to_string());
    let event = pb::FormSubmitted::decode(env.payload.as_slice()).unwrap();
    assert_eq!(event.notify_email, "team@example.com");
    assert_eq!(event.submission.unwrap().id, stored.id);

    let list = c
        .list_form_submissions(authed(
            &w.token(Role::Supervisor),
            pb::ListFormSubmissionsRequest { page: None },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.submissions.len(), 1);
    assert_eq!(list.submissions[0].id, stored.id);
}

// spec: SCH-6
// spec: TEN-4
#[tokio::test]
async fn a_bad_submission_lists_every_field_and_stores_nothing() {
    let w = World::new().await;
    let mut c = w.client().await;
    let custom = vec![
        pb::FormField {
            key: "order".into(),
            label: "Order".into(),
            r#type: pb::FieldType::Text as i32,
            required: true,
            pattern: "[0-9]{6}".into(),
            ..Default::default()
        },
        pb::FormField {
            key: "topic".into(),
            label: "Topic".into(),
            r#type: pb::FieldType::Select as i32,
            options: vec!["sales".into(), "billing".into()],
            ..Default::default()
        },
        pb::FormField {
            key: "qty".into(),
            label: "Qty".into(),
            r#type: pb::FieldType::Number as i32,
            min: 1.0,
            max: 5.0,
            ..Default::default()
        },
    ];
    let form = pb::Form {
        kind: pb::FormKind::Contact as i32,
        enabled: true,
        fields: custom,
        ..Default::default()
    };
    let form = c
        .upsert_form(w.admin(pb::UpsertFormRequest { form: Some(form) }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(form.id, default_contact_form_id(w.org).to_string());
    assert_eq!(form.fields.len(), 6, "built-in fields then custom ones");
    let bad = vec![
        value("email", "nope"),
        value("order", "12"),
        value("topic", "jobs"),
        value("qty", "9"),
    ];
    let err = c
        .submit_form(authed(&w.token(Role::Service), submit(&form.id, bad)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    for f in [
        "values.name",
        "values.email",
        "values.message",
        "values.order",
        "values.topic",
        "values.qty",
    ] {
        assert!(err.message().contains(f), "{f} in {}", err.message());
    }
    let list = c
        .list_form_submissions(w.admin(pb::ListFormSubmissionsRequest { page: None }))
        .await
        .unwrap()
        .into_inner();
    assert!(list.submissions.is_empty(), "nothing stored");
    let good = vec![
        value("name", "Bo"),
        value("email", "bo@example.com"),
        value("message", "Hi"),
        value("order", "123456"),
        value("topic", "billing"),
    ];
    c.submit_form(authed(&w.token(Role::Service), submit(&form.id, good)))
        .await
        .unwrap();
}

// spec: SCH-3
// spec: SCH-6
#[tokio::test]
async fn the_widget_falls_back_from_offline_form_to_contact_form_to_hidden() {
    let w = World::new().await;
    w.set_staffed(false).await;
    let mut c = w.client().await;
    let queue = w.queue().await;
    let widget = || {
        authed(
            &w.token(Role::Visitor),
            pb::GetWidgetStateRequest {
                queue_id: queue.to_string(),
                channel: Channel::WebChat as i32,
            },
        )
    };
    // The queue's own offline form, switched off, overrides the org default.
    let off = pb::Form {
        queue_id: queue.to_string(),
        kind: pb::FormKind::Offline as i32,
        enabled: false,
        ..Default::default()
    };
    c.upsert_form(w.admin(pb::UpsertFormRequest { form: Some(off) }))
        .await
        .unwrap();
    let state = c.get_widget_state(widget()).await.unwrap().into_inner();
    assert_eq!(
        state.mode,
        pb::WidgetMode::Hidden as i32,
        "contact form disabled by default"
    );
    let contact = pb::Form {
        kind: pb::FormKind::Contact as i32,
        enabled: true,
        ..Default::default()
    };
    let contact = c
        .upsert_form(w.admin(pb::UpsertFormRequest {
            form: Some(contact),
        }))
        .await
        .unwrap()
        .into_inner();
    let state = c.get_widget_state(widget()).await.unwrap().into_inner();
    assert_eq!(state.mode, pb::WidgetMode::ContactForm as i32);
    assert_eq!(state.form_id, contact.id);
    // Disabled forms refuse submissions.
    let off_id = c
        .get_form(authed(
            &w.token(Role::Visitor),
            pb::GetFormRequest {
                queue_id: queue.to_string(),
                kind: pb::FormKind::Offline as i32,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .id;
    let err = c
        .submit_form(authed(&w.token(Role::Visitor), submit(&off_id, vec![])))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
}

// spec: TEN-2
// spec: TEN-3
#[tokio::test]
async fn forms_honour_roles_and_org_boundaries() {
    let w = World::new().await;
    let mut c = w.client().await;
    let form = pb::Form {
        kind: pb::FormKind::Offline as i32,
        enabled: true,
        ..Default::default()
    };
    let err = c
        .upsert_form(authed(
            &w.token(Role::Agent),
            pb::UpsertFormRequest { form: Some(form) },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = c
        .list_form_submissions(authed(
            &w.token(Role::Visitor),
            pb::ListFormSubmissionsRequest { page: None },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let queue_form = pb::Form {
        queue_id: Uuid::now_v7().to_string(),
        kind: pb::FormKind::Offline as i32,
        enabled: true,
        ..Default::default()
    };
    let mine = c
        .upsert_form(w.admin(pb::UpsertFormRequest {
            form: Some(queue_form),
        }))
        .await
        .unwrap()
        .into_inner();
    let stranger = w.env.token(new_org(), "visitor-9", Role::Visitor);
    let values = vec![
        value("name", "Eve"),
        value("email", "eve@example.com"),
        value("message", "hi"),
    ];
    let err = c
        .submit_form(authed(&stranger, submit(&mine.id, values)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

// A form kind the service does not know cannot be stored: the table's
// CHECK refuses it (one storage rule for enums: a text label and a CHECK).
#[tokio::test]
async fn an_unknown_form_kind_is_refused_by_the_table() {
    use sea_orm::ConnectionTrait;
    let w = World::new().await;
    let db = livedesk_platform::db::connect(&w.env.database_url("scheduling"))
        .await
        .unwrap();
    let insert = |kind: &str| {
        livedesk_platform::db::stmt(
            "INSERT INTO forms (id, org_id, queue_id, kind, enabled) VALUES ($1, $2, NULL, $3, true)",
            [Uuid::now_v7().into(), w.org.into(), kind.to_owned().into()],
        )
    };
    let err = db.execute_raw(insert("survey")).await.unwrap_err();
    assert_eq!(
        livedesk_platform::db::sqlstate(&err).as_deref(),
        Some("23514"),
        "check_violation: {err}"
    );
    db.execute_raw(insert("contact")).await.unwrap();
}
