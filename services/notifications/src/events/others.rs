//! Scheduling events (closing-soon notices to waiting customers, form
//! copies by email) and blocking events (NTF-3: who may not be told).
use livedesk_events::{HandlerError, ReceivedEvent, Staged};
use livedesk_proto::blocking::v1 as bk;
use livedesk_proto::notifications::v1 as pb;
use livedesk_proto::notifications::v1::notification::Kind;
use livedesk_proto::scheduling::v1 as sc;
use sea_orm::DatabaseTransaction;

use super::FeedEvents;
use super::batch::Batch;
use super::email::{self, EmailSource};
use crate::store::Conversations;

/// Applies one scheduling event.
pub async fn scheduling(
    h: &FeedEvents,
    txn: &DatabaseTransaction,
    event: &ReceivedEvent,
    batch: &mut Batch,
) -> Result<Vec<Staged>, HandlerError> {
    let org = event.org_id;
    if let Some(e) = event.payload::<sc::QueueClosingSoon>() {
        let e = e?;
        for (conv, customer) in
            Conversations::live_customers_in_queue(txn, org, &e.queue_id).await?
        {
            let kind = Kind::ClosingSoon(pb::ClosingSoon {
                text: e.message.clone(),
                closes_at: e.closes_at,
            });
            batch.tell_one(&customer, &conv, kind);
        }
    } else if let Some(e) = event.payload::<sc::FormSubmitted>() {
        let e = e?;
        let Some(sub) = e.submission else {
            return Ok(vec![]);
        };
        if e.notify_email.trim().is_empty() {
            return Ok(vec![]);
        }
        let (kind, subject) = if sub.kind == sc::FormKind::Contact as i32 {
            ("contact_form", "New contact form submission")
        } else {
            ("offline_form", "New offline message")
        };
        let body: String = sub
            .values
            .iter()
            .map(|v| format!("{}: {}\n", v.key, v.value))
            .collect();
        let to = [e.notify_email.clone()];
        let source = EmailSource {
            kind,
            request_id: "",
            conversation_id: "",
            to: &to,
            subject,
            text_body: &body,
            html_body: "",
            // The submitter is blocked (BLK-3): nothing is sent on their behalf.
            suppressed: sub.dropped,
        };
        return email::record(h, txn, event, &source).await;
    }
    Ok(vec![])
}

/// Applies one blocking event.
pub async fn blocking(
    txn: &DatabaseTransaction,
    event: &ReceivedEvent,
) -> Result<(), HandlerError> {
    let org = event.org_id;
    if let Some(e) = event.payload::<bk::CustomerBlocked>() {
        if let Some(b) = e?.block
            && !b.conversation_id.is_empty()
        {
            Conversations::block(txn, org, &b.id, &b.conversation_id).await?;
        }
    } else if let Some(e) = event.payload::<bk::CustomerUnblocked>() {
        if let Some(b) = e?.block {
            Conversations::lift_block(txn, org, &b.id).await?;
        }
    } else if let Some(e) = event.payload::<bk::BlockExpired>()
        && let Some(b) = e?.block
    {
        Conversations::lift_block(txn, org, &b.id).await?;
    }
    Ok(())
}
