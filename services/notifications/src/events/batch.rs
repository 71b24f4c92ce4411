//! The notifications one event produces, written to the recipients' feeds
//! in one global recipient order (no deadlock between concurrent events).
use livedesk_proto::notifications::v1::Notification;
use livedesk_proto::notifications::v1::notification::Kind;
use prost::Message as _;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use crate::domain::Recipients;
use crate::store::{Append, Feed};

/// Notifications to append, collected before writing.
#[derive(Debug, Default)]
pub struct Batch {
    items: Vec<(String, String, Kind)>,
}

/// The `kind` column: the oneof field's name.
pub fn kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Offer(_) => "offer",
        Kind::OfferWithdrawn(_) => "offer_withdrawn",
        Kind::Message(_) => "message",
        Kind::AgentJoined(_) => "agent_joined",
        Kind::ConversationEnded(_) => "conversation_ended",
        Kind::Alert(_) => "alert",
        Kind::ClosingSoon(_) => "closing_soon",
        Kind::QueuePosition(_) => "queue_position",
        Kind::Typing(_) => "typing",
        Kind::Assigned(_) => "assigned",
        Kind::Heartbeat(_) => "heartbeat",
        Kind::OfflineForm(_) => "offline_form",
    }
}

impl Batch {
    /// Tells every one of `recipients` `kind` about `conversation_id`.
    pub fn tell(&mut self, recipients: Recipients, conversation_id: &str, kind: Kind) {
        for r in recipients {
            self.items
                .push((r, conversation_id.to_owned(), kind.clone()));
        }
    }

    /// Tells one recipient (ignored when blank).
    pub fn tell_one(&mut self, recipient: &str, conversation_id: &str, kind: Kind) {
        self.tell(Recipients::new([recipient], &[]), conversation_id, kind);
    }

    /// Appends the notifications of several events (`(org, event, batch)`,
    /// in event order) inside `db`'s transaction, in one write
    /// ([`Feed::append_all`]); returns, per event, the recipients whose
    /// feed grew, for the wake-up after commit.
    pub async fn write_all<C: ConnectionTrait>(
        db: &C,
        batches: Vec<(Uuid, Uuid, Batch)>,
    ) -> Result<Vec<(Uuid, Uuid, Vec<String>)>, DbErr> {
        let mut rows = Vec::new();
        let mut owners = Vec::new();
        for (i, (org, event, batch)) in batches.iter().enumerate() {
            for (recipient, conversation_id, kind) in &batch.items {
                let name = kind_name(kind);
                let body = Notification {
                    sequence: 0,
                    at: None,
                    conversation_id: conversation_id.clone(),
                    kind: Some(kind.clone()),
                }
                .encode_to_vec();
                rows.push(Append {
                    org: *org,
                    recipient: recipient.clone(),
                    event: *event,
                    conversation_id: conversation_id.clone(),
                    kind: name,
                    body,
                });
                owners.push(i);
            }
        }
        let appended = Feed::append_all(db, &rows).await?;
        let mut woken: Vec<Vec<String>> = vec![Vec::new(); batches.len()];
        for ((row, owner), appended) in rows.into_iter().zip(owners).zip(appended) {
            if appended && !woken[owner].contains(&row.recipient) {
                woken[owner].push(row.recipient);
            }
        }
        Ok(batches
            .into_iter()
            .zip(woken)
            .map(|((org, event, _), woken)| (org, event, woken))
            .collect())
    }
}
