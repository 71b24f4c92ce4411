//! Form submissions reach agents (SCH-6): every `FormSubmitted` from
//! scheduling leaves a copy in a request's history, the request of the
//! conversation the submission names, or else a new request with a contact
//! built from the submitted name and email; a contact form's custom fields
//! go on that request. Submissions from blocked customers never arrive
//! here: scheduling drops them (BLK-3).
use livedesk_events::{EventHandler, HandlerError, ReceivedEvent, Staged};
use livedesk_proto::common::v1::IdentityKind;
use livedesk_proto::scheduling::v1::{FormKind, FormSubmitted};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::store::{FormCopies, NewFormCopy, Requests};

/// The fields every form has (scheduling's built-in fields); the others
/// of a contact form are its custom fields.
const BUILT_IN: [&str; 3] = ["name", "email", "message"];

/// Consumes the scheduling stream.
pub struct FormEvents;

impl EventHandler for FormEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<Vec<Staged>, HandlerError> {
        if let Some(submitted) = event.payload::<FormSubmitted>() {
            copy(txn, event, submitted?).await?;
        }
        Ok(vec![])
    }
}

fn uuid(field: &str, raw: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(raw)
        .map_err(|_| HandlerError::permanent(format!("FormSubmitted without a valid {field}")))
}

async fn copy(
    txn: &DatabaseTransaction,
    event: &ReceivedEvent,
    e: FormSubmitted,
) -> Result<(), HandlerError> {
    let org = event.org_id;
    let Some(s) = e.submission else {
        return Err(HandlerError::permanent(
            "FormSubmitted without a submission",
        ));
    };
    let submission_id = uuid("submission.id", &s.id)?;
    let form_id = uuid("submission.form_id", &s.form_id)?;
    let contact_form = s.kind == FormKind::Contact as i32;
    let value = |key: &str| {
        s.values
            .iter()
            .find(|v| v.key == key)
            .map(|v| v.value.trim().to_owned())
            .unwrap_or_default()
    };
    let (name, email) = (value("name"), value("email").to_lowercase());
    if FormCopies::exists(txn, org, submission_id).await? {
        // The same submission arrived in another envelope: already filed.
        return Ok(());
    }

    let named = match Uuid::parse_str(s.conversation_id.trim()) {
        Ok(conv) => FormCopies::request_of_conversation(txn, org, conv).await?,
        Err(_) => None,
    };
    if named.is_none() && !s.conversation_id.trim().is_empty() {
        // Named a conversation this org does not have: the copy still
        // reaches agents, as a request of its own.
        tracing::info!(%submission_id, "form names an unknown conversation, new request");
    }
    let request_id = match named {
        Some(r) => r,
        None => {
            let contact = match Requests::contact_by_email(txn, org, &email).await? {
                Some(c) if !email.is_empty() => c,
                _ => Requests::create_contact(txn, org, &name, &email, "")
                    .await?
                    .ok_or_else(|| HandlerError::transient("contact insert returned nothing"))?,
            };
            let customer = match e.visitor_id.trim() {
                "" => format!("{}:{email}", IdentityKind::Email.as_str_name()),
                visitor => visitor.to_owned(),
            };
            Requests::insert_for_contact(txn, org, &customer, contact.id).await?
        }
    };
    let (keys, values): (Vec<String>, Vec<String>) = s
        .values
        .iter()
        .map(|v| (v.key.clone(), v.value.clone()))
        .unzip();
    let submitted_at = s
        .submitted_at
        .as_ref()
        .and_then(livedesk_platform::time::from_proto)
        .unwrap_or_else(|| event.occurred_at());
    let new = NewFormCopy {
        submission_id,
        org,
        request_id,
        source_event_id: event.event_id,
        form_id,
        contact_form,
        queue_id: &s.queue_id,
        keys: &keys,
        values: &values,
        submitted_at,
    };
    if !FormCopies::insert(txn, &new).await? {
        // A concurrent delivery filed it first: roll back this one's request.
        return Err(HandlerError::transient("form copy filed concurrently"));
    }
    if contact_form {
        let (ck, cv): (Vec<String>, Vec<String>) = s
            .values
            .iter()
            .filter(|v| !BUILT_IN.contains(&v.key.as_str()))
            .map(|v| (v.key.clone(), v.value.clone()))
            .unzip();
        if !ck.is_empty() {
            FormCopies::add_custom_fields(txn, org, request_id, &ck, &cv).await?;
        }
    }
    tracing::info!(%submission_id, %request_id, contact_form, "form submission filed in a request");
    Ok(())
}
