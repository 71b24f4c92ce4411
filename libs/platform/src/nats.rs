//! The NATS connection. The client reconnects forever on its own; what is
//! published while the broker is away stays in the outbox (EVT-2).
use std::time::Duration;

/// The servers `LIVEDESK_NATS_URL` names: one URL, or a comma-separated
/// list of a cluster's servers (the client connects to one and fails over
/// to the others). An empty entry or one that is not a NATS URL is an
/// error naming it.
pub fn servers(url: &str) -> Result<Vec<String>, String> {
    url.split(',')
        .map(str::trim)
        .map(|s| {
            if s.is_empty() {
                return Err(format!("an empty server in {url:?}"));
            }
            s.parse::<async_nats::ServerAddr>()
                .map(|_| s.to_owned())
                .map_err(|e| format!("{s:?} is not a NATS server URL: {e}"))
        })
        .collect()
}

/// Connects to NATS, retrying the first connection so a service can start
/// before the broker (it reports NOT_SERVING until connected).
pub async fn connect(url: &str, name: &str) -> anyhow::Result<async_nats::Client> {
    let servers = servers(url).map_err(anyhow::Error::msg)?;
    Ok(async_nats::ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5))
        .request_timeout(Some(Duration::from_secs(5)))
        .connect(servers)
        .await?)
}

/// Whether the connection is up (for health).
pub fn is_connected(client: &async_nats::Client) -> bool {
    client.connection_state() == async_nats::connection::State::Connected
}

/// The start of every JetStream stream name under subject `prefix`:
/// stream names allow fewer characters than subjects, so the prefix is
/// upper-cased and anything but letters and digits becomes `_`
/// (`t1a-b` → `T1A_B`). The one rule the event streams and the test
/// harness's clean-up share (EVT-4).
pub fn stream_prefix(prefix: &str) -> String {
    prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The JetStream stream holding `producer`'s events under subject
/// `prefix`: `<PREFIX>_<PRODUCER>` (EVT-4).
pub fn stream_name(prefix: &str, producer: &str) -> String {
    format!(
        "{}_{}",
        stream_prefix(prefix),
        producer.to_ascii_uppercase()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn stream_prefixes_are_upper_case_letters_digits_and_underscores() {
        assert_eq!(super::stream_prefix("livedesk"), "LIVEDESK");
        assert_eq!(super::stream_prefix("t1a-b.c"), "T1A_B_C");
        assert_eq!(super::stream_name("t1a-b", "routing"), "T1A_B_ROUTING");
    }
}
