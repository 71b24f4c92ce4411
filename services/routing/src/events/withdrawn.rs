//! `livedesk.routing.v1.OfferWithdrawn`, declared in events.proto but not
//! yet registered as an `EventType` in livedesk-proto (a libs change): this
//! local twin encodes identically, so consumers decode it with the
//! generated type. Move the registration to `libs/proto` and delete this.
use livedesk_proto::EventType;
use livedesk_proto::routing::v1 as pb;

/// A pending offer was taken back; the agent's capacity is free again.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OfferWithdrawn {
    /// The offer as it was.
    #[prost(message, optional, tag = "1")]
    pub offer: Option<pb::Offer>,
    /// Why: "conversation_ended", "abandoned", "picked", "assigned",
    /// "queue_deleted", "agent_deleted", "conference_ended", "paused".
    #[prost(string, tag = "2")]
    pub reason: String,
}

impl EventType for OfferWithdrawn {
    const TYPE: &'static str = "livedesk.routing.v1.OfferWithdrawn";
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use prost::Message;

    use super::*;

    #[test]
    fn encodes_like_the_declared_message() {
        let local = OfferWithdrawn {
            offer: Some(pb::Offer {
                id: "o".into(),
                agent_id: "a".into(),
                ..Default::default()
            }),
            reason: "conversation_ended".into(),
        };
        // OfferDeclined has the same field numbers and types.
        let same_layout = pb::OfferDeclined::decode(local.encode_to_vec().as_slice()).unwrap();
        assert_eq!(same_layout.reason, "conversation_ended");
        assert_eq!(same_layout.offer.unwrap().agent_id, "a");
    }
}
