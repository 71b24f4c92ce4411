//! Recording email deliveries (NTF-2): validated (no header injection),
//! suppressed for a blocked customer (NTF-3), one per source event, and
//! announced with `EmailDeliveryChanged`. The delivery worker
//! (`delivery.rs`) sends PENDING rows over SMTP, woken after commit.
use livedesk_events::{HandlerError, ReceivedEvent, Staged};
use livedesk_proto::notifications::v1::EmailDeliveryChanged;
use sea_orm::DatabaseTransaction;

use super::FeedEvents;
use crate::domain::{OutgoingEmail, Status};
use crate::store::{Emails, NewEmail};

/// What an event asks to send.
#[derive(Debug)]
pub struct EmailSource<'a> {
    pub kind: &'a str,
    pub request_id: &'a str,
    pub conversation_id: &'a str,
    pub to: &'a [String],
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: &'a str,
    /// The recipient is a blocked customer.
    pub suppressed: bool,
}

/// Records the delivery and stages its announcement.
pub async fn record(
    h: &FeedEvents,
    txn: &DatabaseTransaction,
    event: &ReceivedEvent,
    s: &EmailSource<'_>,
) -> Result<Vec<Staged>, HandlerError> {
    let parsed = OutgoingEmail::parse(s.to, s.subject, s.text_body, s.html_body);
    // The error names fields only, never addresses (TEN-8).
    let (status, error, recipients) = match (&parsed, s.suppressed) {
        (_, true) => (
            Status::Suppressed,
            String::from("recipient is blocked"),
            vec![],
        ),
        (Ok(email), false) => (
            Status::Pending,
            String::new(),
            email.to.iter().map(|a| a.as_str().to_owned()).collect(),
        ),
        (Err(v), false) => {
            let fields: Vec<&str> = v.iter().map(|f| f.field.as_str()).collect();
            (
                Status::Failed,
                format!("invalid email: {}", fields.join(", ")),
                vec![],
            )
        }
    };
    let (subject, text, html) = match &parsed {
        Ok(e) if status == Status::Pending => (
            e.subject.as_str(),
            e.text_body.as_str(),
            e.html_body.as_str(),
        ),
        _ => ("", "", ""),
    };
    let row = Emails::insert(
        txn,
        &NewEmail {
            org_id: event.org_id,
            source_event_id: event.event_id,
            kind: s.kind,
            request_id: s.request_id,
            conversation_id: s.conversation_id,
            recipients,
            subject,
            text_body: text,
            html_body: html,
            status,
            last_error: &error,
        },
    )
    .await?;
    let Some(row) = row else { return Ok(vec![]) };
    if status == Status::Pending {
        h.email_pending(event.event_id);
    }
    tracing::info!(delivery_id = %row.id, kind = s.kind, status = ?status, "email delivery recorded");
    let staged = h
        .outbox
        .stage(
            txn,
            event.org_id,
            row.id,
            &EmailDeliveryChanged {
                // The row was just written: one that does not read back
                // is a bug, retried rather than announced with a guess.
                delivery: Some(crate::views::delivery(&row).map_err(HandlerError::transient)?),
            },
        )
        .await?;
    Ok(vec![staged])
}
