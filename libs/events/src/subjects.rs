//! Subject, stream and consumer naming (EVT-4).
//!
//! With prefix `livedesk`:
//! - event subject: `livedesk.<producer>.<TypeName>` (e.g. `livedesk.conversations.ConversationQueued`)
//! - stream: `LIVEDESK_<PRODUCER>` over `livedesk.<producer>.>`
//! - dead letters: `livedesk.dlq.<consumer>` in stream `LIVEDESK_DLQ`
//! - realtime wake-ups (core NATS, not persisted): `livedesk.push.<org>`
//! - typing indicators (core NATS, never stored): `livedesk.typing.<org>`

/// Names derived from one prefix, and how many replicas the streams keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subjects {
    prefix: String,
    stream_replicas: usize,
}

impl Subjects {
    /// `prefix` is a subject token: letters, digits, `_` and `-` only.
    /// Streams keep one replica unless [`Self::with_stream_replicas`].
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            stream_replicas: 1,
        }
    }

    /// Streams created with `n` replicas (`LIVEDESK_NATS_STREAM_REPLICAS`).
    pub fn with_stream_replicas(mut self, n: usize) -> Self {
        self.stream_replicas = n;
        self
    }

    /// Replicas of every stream (`ensure_streams`).
    pub fn stream_replicas(&self) -> usize {
        self.stream_replicas
    }

    /// The prefix itself.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn stream_prefix(&self) -> String {
        livedesk_platform::nats::stream_prefix(&self.prefix)
    }

    /// Subject of an event of `type_name` (fully qualified proto name).
    pub fn event(&self, producer: &str, type_name: &str) -> String {
        let short = type_name.rsplit('.').next().unwrap_or(type_name);
        format!("{}.{producer}.{short}", self.prefix)
    }

    /// Stream holding a producer's events.
    pub fn stream_name(&self, producer: &str) -> String {
        livedesk_platform::nats::stream_name(&self.prefix, producer)
    }

    /// Subjects captured by a producer's stream.
    pub fn stream_filter(&self, producer: &str) -> String {
        format!("{}.{producer}.>", self.prefix)
    }

    /// Stream of dead letters.
    pub fn dlq_stream_name(&self) -> String {
        format!("{}_DLQ", self.stream_prefix())
    }

    /// Subjects captured by the dead-letter stream.
    pub fn dlq_filter(&self) -> String {
        format!("{}.dlq.>", self.prefix)
    }

    /// Dead-letter subject of one consumer.
    pub fn dlq(&self, consumer: &str) -> String {
        format!("{}.dlq.{consumer}", self.prefix)
    }

    /// Durable consumer name of `service` on a producer's stream.
    pub fn consumer_name(&self, service: &str, producer: &str) -> String {
        format!("{service}-from-{producer}")
    }

    /// Core-NATS subject waking realtime subscribers of an org.
    pub fn push(&self, org: &str) -> String {
        format!("{}.push.{org}", self.prefix)
    }

    /// Wildcard over every org's wake-ups.
    pub fn push_all(&self) -> String {
        format!("{}.push.*", self.prefix)
    }

    /// Core-NATS subject of an org's typing indicators (NTF-1): ephemeral,
    /// outside every stream, so never stored or replayed.
    pub fn typing(&self, org: &str) -> String {
        format!("{}.typing.{org}", self.prefix)
    }

    /// Wildcard over every org's typing indicators.
    pub fn typing_all(&self) -> String {
        format!("{}.typing.*", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::Subjects;

    // spec: EVT-4
    #[test]
    fn every_name_carries_the_prefix() {
        let s = Subjects::new("t-1a2b");
        assert_eq!(
            s.event(
                "conversations",
                "livedesk.conversations.v1.ConversationQueued"
            ),
            "t-1a2b.conversations.ConversationQueued"
        );
        assert_eq!(s.stream_name("conversations"), "T_1A2B_CONVERSATIONS");
        assert_eq!(s.stream_filter("routing"), "t-1a2b.routing.>");
        assert_eq!(
            s.dlq("reporting-from-routing"),
            "t-1a2b.dlq.reporting-from-routing"
        );
        assert_eq!(s.dlq_stream_name(), "T_1A2B_DLQ");
    }
}
