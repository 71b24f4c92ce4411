//! Conversations events: membership (customer from `ConversationQueued`),
//! messages to their audience but never their author (NTF-1), masked for
//! staff as their reads are (CNV-9), ends (the
//! widget minimizes; a BLOCKED end tells the customer nothing, NTF-3), and
//! emails to deliver (NTF-2).
use livedesk_events::{HandlerError, ReceivedEvent, Staged};
use livedesk_proto::conversations::v1 as cv;
use livedesk_proto::notifications::v1 as pb;
use livedesk_proto::notifications::v1::notification::Kind;
use sea_orm::DatabaseTransaction;

use super::FeedEvents;
use super::batch::Batch;
use super::email::{self, EmailSource};
use super::routing::reachable_customer;
use crate::domain::Recipients;
use crate::store::Conversations;

/// Applies one conversations event.
pub async fn handle(
    h: &FeedEvents,
    txn: &DatabaseTransaction,
    event: &ReceivedEvent,
    batch: &mut Batch,
) -> Result<Vec<Staged>, HandlerError> {
    let org = event.org_id;
    if let Some(e) = event.payload::<cv::ConversationQueued>() {
        let e = e?;
        Conversations::queued(
            txn,
            org,
            &e.conversation_id,
            &e.queue_id,
            &e.customer_principal_id,
        )
        .await?;
    } else if let Some(e) = event.payload::<cv::MessagePosted>() {
        let e = e?;
        let Some(message) = e.message else {
            return Ok(vec![]);
        };
        let conv = message.conversation_id.clone();
        let mut tracked = Conversations::get(txn, org, &conv).await?;
        // Recorded once, when the conversation is first seen (a read, not a
        // write, for every later message).
        if !e.customer_principal_id.is_empty() && tracked.customer != e.customer_principal_id {
            Conversations::queued(txn, org, &conv, "", &e.customer_principal_id).await?;
            tracked = Conversations::get(txn, org, &conv).await?;
        }
        let mut exclude = vec![message.author_id.as_str()];
        if tracked.customer_blocked {
            exclude.push(tracked.customer.as_str());
        }
        // The customer reads the message as written; everyone else (the
        // support side) reads it as ListMessages shows it to them, with
        // emails and phone numbers masked unless the org turned that off
        // (CNV-9). With no customer named, everyone counts as staff.
        let customer = e.customer_principal_id.as_str();
        let to_customer = Recipients::new(
            e.audience
                .iter()
                .map(String::as_str)
                .filter(|r| *r == customer),
            &exclude,
        );
        let to_staff = Recipients::new(
            e.audience
                .iter()
                .map(String::as_str)
                .filter(|r| *r != customer),
            &exclude,
        );
        let mut staff_view = message.clone();
        if !e.pii_visible_to_staff {
            staff_view.text = livedesk_pii::mask_pii(&staff_view.text);
        }
        batch.tell(to_customer, &conv, Kind::Message(message));
        batch.tell(to_staff, &conv, Kind::Message(staff_view));
    } else if let Some(e) = event.payload::<cv::ConversationEnded>() {
        let e = e?;
        let conv = e.conversation_id.as_str();
        let blocked = e.status == cv::ConversationStatus::Blocked as i32;
        if !Conversations::end(txn, org, conv, &e.customer_principal_id, blocked).await? {
            return Ok(vec![]); // already ended: everyone was told
        }
        let tracked = Conversations::get(txn, org, conv).await?;
        let members = Conversations::agents(txn, org, conv).await?;
        let agents = Recipients::new(e.agent_ids.iter().chain(&members).map(String::as_str), &[]);
        let ended = Kind::ConversationEnded(pb::ConversationEnded {
            ended_by: e.ended_by,
            blocked,
        });
        let customer = if blocked {
            None
        } else {
            reachable_customer(&tracked)
        };
        batch.tell(agents.union(Recipients::new(customer, &[])), conv, ended);
    } else if let Some(e) = event.payload::<cv::EmailRequested>() {
        let e = e?;
        let tracked = Conversations::get(txn, org, &e.conversation_id).await?;
        let source = EmailSource {
            kind: if e.kind.is_empty() {
                "transcript"
            } else {
                e.kind.as_str()
            },
            request_id: &e.request_id,
            conversation_id: &e.conversation_id,
            to: &e.to,
            subject: &e.subject,
            text_body: &e.text_body,
            html_body: &e.html_body,
            suppressed: tracked.customer_blocked,
        };
        return email::record(h, txn, event, &source).await;
    }
    Ok(vec![])
}
