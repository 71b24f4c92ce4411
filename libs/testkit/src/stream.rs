//! Reading what a service published, as its consumers would see it.
use livedesk_proto::events::v1::EventEnvelope;
use prost::Message as _;

impl crate::TestEnv {
    /// Every event on `producer`'s stream in this test so far, in order
    /// (empty when the stream does not exist yet). An event that does not
    /// decode is an error, never skipped.
    pub async fn events(&self, producer: &str) -> anyhow::Result<Vec<EventEnvelope>> {
        let js = async_nats::jetstream::new(self.nats().await?);
        let name = livedesk_platform::nats::stream_name(&self.prefix, producer);
        let Ok(mut stream) = js.get_stream(&name).await else {
            return Ok(Vec::new());
        };
        let (first, last) = {
            let state = &stream.info().await?.state;
            (state.first_sequence.max(1), state.last_sequence)
        };
        let mut out = Vec::new();
        for seq in first..=last {
            // A gap (a deleted message) has nothing to read.
            if let Ok(m) = stream.get_raw_message(seq).await {
                out.push(
                    EventEnvelope::decode(m.payload.as_ref())
                        .map_err(|e| anyhow::anyhow!("{name} #{seq} does not decode: {e}"))?,
                );
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn events_reads_the_stream_in_order_and_refuses_what_does_not_decode() {
        let env = crate::TestEnv::new().await.unwrap();
        assert!(
            env.events("probe").await.unwrap().is_empty(),
            "no stream yet"
        );
        let js = async_nats::jetstream::new(env.nats().await.unwrap());
        js.create_stream(async_nats::jetstream::stream::Config {
            name: livedesk_platform::nats::stream_name(&env.prefix, "probe"),
            subjects: vec![format!("{}.probe.>", env.prefix)],
            ..Default::default()
        })
        .await
        .unwrap();
        let subject = format!("{}.probe.Thing", env.prefix);
        for id in ["a", "b"] {
            let e = EventEnvelope {
                aggregate_id: id.into(),
                ..Default::default()
            };
            js.publish(subject.clone(), e.encode_to_vec().into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
        let ids: Vec<String> = env
            .events("probe")
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.aggregate_id)
            .collect();
        assert_eq!(ids, ["a", "b"]);
        js.publish(subject, vec![0xff, 0xff, 0xff].into())
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(env.events("probe").await.is_err());
    }
}
