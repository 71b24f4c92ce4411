//! The notifications one event produces, written to the recipients' feeds
//! in one global recipient order (no deadlock between concurrent events).
use livedesk_proto::notifications::v1::Notification;
use livedesk_proto::notifications::v1::notification::Kind;
use prost::Message as _;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use crate::domain::Recipients;
use crate::store::Feed;

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

    /// Appends everything inside `db`'s transaction; returns the recipients
    /// whose feed grew, for the wake-up after commit.
    pub async fn write<C: ConnectionTrait>(
        mut self,
        db: &C,
        org: Uuid,
        event: Uuid,
    ) -> Result<Vec<String>, DbErr> {
        // Stable: one recipient's notifications keep the event's order.
        self.items.sort_by(|a, b| a.0.cmp(&b.0));
        let mut woken: Vec<String> = Vec::new();
        for (recipient, conversation_id, kind) in self.items {
            let name = kind_name(&kind);
            let body = Notification {
                sequence: 0,
                at: None,
                conversation_id: conversation_id.clone(),
                kind: Some(kind),
            }
            .encode_to_vec();
            if Feed::append(db, org, &recipient, event, &conversation_id, name, body)
                .await?
                .is_some()
                && woken.last() != Some(&recipient)
            {
                woken.push(recipient);
            }
        }
        Ok(woken)
    }
}
