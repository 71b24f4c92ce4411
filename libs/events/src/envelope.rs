//! Building and reading event envelopes (EVT-1).
use livedesk_proto::EventType;
use livedesk_proto::events::v1::EventEnvelope;
use prost::Message;
use uuid::Uuid;

/// Wraps `event` in an envelope with a fresh UUIDv7 id; `sequence` is its
/// place among the aggregate's events (0: not sequenced).
pub(crate) fn wrap<E: EventType>(
    producer: &str,
    org: Uuid,
    aggregate_id: &str,
    sequence: u64,
    event: &E,
) -> EventEnvelope {
    EventEnvelope {
        event_id: Uuid::now_v7().to_string(),
        org_id: org.to_string(),
        occurred_at: Some(livedesk_platform::time::to_proto(chrono::Utc::now())),
        r#type: E::TYPE.to_owned(),
        aggregate_id: aggregate_id.to_owned(),
        schema_version: E::SCHEMA_VERSION,
        producer: producer.to_owned(),
        payload: event.encode_to_vec(),
        aggregate_sequence: sequence,
    }
}

/// An event as a consumer receives it.
#[derive(Debug, Clone)]
pub struct ReceivedEvent {
    pub envelope: EventEnvelope,
    pub event_id: Uuid,
    pub org_id: Uuid,
    pub subject: String,
}

impl ReceivedEvent {
    /// Decodes an envelope from a message payload.
    pub fn decode(subject: &str, payload: &[u8]) -> Result<Self, String> {
        let envelope = EventEnvelope::decode(payload).map_err(|e| format!("envelope: {e}"))?;
        let event_id = Uuid::parse_str(&envelope.event_id).map_err(|e| format!("event_id: {e}"))?;
        let org_id = Uuid::parse_str(&envelope.org_id).map_err(|e| format!("org_id: {e}"))?;
        Ok(Self {
            envelope,
            event_id,
            org_id,
            subject: subject.to_owned(),
        })
    }

    /// Whether the payload is an `E`.
    pub fn is<E: EventType>(&self) -> bool {
        self.envelope.r#type == E::TYPE
    }

    /// Decodes the payload as `E`; `None` when the event is another type.
    pub fn payload<E: EventType>(&self) -> Option<Result<E, prost::DecodeError>> {
        self.is::<E>()
            .then(|| E::decode(self.envelope.payload.as_slice()))
    }

    /// When the state change happened.
    pub fn occurred_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.envelope
            .occurred_at
            .as_ref()
            .and_then(livedesk_platform::time::from_proto)
            .unwrap_or_else(chrono::Utc::now)
    }
}
