//! The NATS connection. The client reconnects forever on its own; what is
//! published while the broker is away stays in the outbox (EVT-2).
use std::time::Duration;

/// Connects to NATS, retrying the first connection so a service can start
/// before the broker (it reports NOT_SERVING until connected).
pub async fn connect(
    url: &str,
    name: &str,
) -> Result<async_nats::Client, async_nats::ConnectError> {
    async_nats::ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5))
        .request_timeout(Some(Duration::from_secs(5)))
        .connect(url)
        .await
}

/// Whether the connection is up (for health).
pub fn is_connected(client: &async_nats::Client) -> bool {
    client.connection_state() == async_nats::connection::State::Connected
}
