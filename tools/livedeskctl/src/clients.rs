//! Typed gRPC clients of the six services.
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_proto::conversations::v1::conversations_service_client::ConversationsServiceClient;
use livedesk_proto::notifications::v1::notifications_service_client::NotificationsServiceClient;
use livedesk_proto::reporting::v1::reporting_service_client::ReportingServiceClient;
use livedesk_proto::routing::v1::routing_service_client::RoutingServiceClient;
use livedesk_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use tonic::transport::Channel;

/// Where each service listens.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub routing: String,
    pub conversations: String,
    pub blocking: String,
    pub scheduling: String,
    pub reporting: String,
    pub notifications: String,
}

impl Default for Endpoints {
    /// The local ports `make run` uses.
    fn default() -> Self {
        use livedesk_platform::config::ports;
        let url = |p: u16| format!("http://127.0.0.1:{p}");
        Self {
            routing: url(ports::ROUTING),
            conversations: url(ports::CONVERSATIONS),
            blocking: url(ports::BLOCKING),
            scheduling: url(ports::SCHEDULING),
            reporting: url(ports::REPORTING),
            notifications: url(ports::NOTIFICATIONS),
        }
    }
}

impl Endpoints {
    /// Reads `LIVEDESK_CTL_<SERVICE>_URL`, defaulting to the local ports.
    pub fn from_env() -> Self {
        let d = Self::default();
        let get = |k: &str, v: String| std::env::var(format!("LIVEDESK_CTL_{k}_URL")).unwrap_or(v);
        Self {
            routing: get("ROUTING", d.routing),
            conversations: get("CONVERSATIONS", d.conversations),
            blocking: get("BLOCKING", d.blocking),
            scheduling: get("SCHEDULING", d.scheduling),
            reporting: get("REPORTING", d.reporting),
            notifications: get("NOTIFICATIONS", d.notifications),
        }
    }
}

/// One client per service (cheap to clone).
#[derive(Debug, Clone)]
pub struct Clients {
    pub routing: RoutingServiceClient<Channel>,
    pub conversations: ConversationsServiceClient<Channel>,
    pub blocking: BlockingServiceClient<Channel>,
    pub scheduling: SchedulingServiceClient<Channel>,
    pub reporting: ReportingServiceClient<Channel>,
    pub notifications: NotificationsServiceClient<Channel>,
}

/// A lazily connected channel balanced over every replica `url` names
/// (comma-separated URLs, or a name with several addresses), as services
/// reach their peers.
fn lazy(url: &str) -> anyhow::Result<Channel> {
    livedesk_platform::runtime::peer_channel(url, livedesk_platform::peer::DEFAULT_DNS_REFRESH)
}

impl Clients {
    /// Clients connecting lazily to `endpoints`.
    pub fn new(endpoints: &Endpoints) -> anyhow::Result<Self> {
        Ok(Self {
            routing: RoutingServiceClient::new(lazy(&endpoints.routing)?),
            conversations: ConversationsServiceClient::new(lazy(&endpoints.conversations)?),
            blocking: BlockingServiceClient::new(lazy(&endpoints.blocking)?),
            scheduling: SchedulingServiceClient::new(lazy(&endpoints.scheduling)?),
            reporting: ReportingServiceClient::new(lazy(&endpoints.reporting)?),
            notifications: NotificationsServiceClient::new(lazy(&endpoints.notifications)?),
        })
    }
}

/// Waits until every service answers SERVING on grpc.health.v1.
pub async fn wait_ready(endpoints: &Endpoints, timeout: std::time::Duration) -> anyhow::Result<()> {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    let deadline = tokio::time::Instant::now() + timeout;
    for (name, url) in [
        ("routing", &endpoints.routing),
        ("conversations", &endpoints.conversations),
        ("blocking", &endpoints.blocking),
        ("scheduling", &endpoints.scheduling),
        ("reporting", &endpoints.reporting),
        ("notifications", &endpoints.notifications),
    ] {
        loop {
            let serving = match HealthClient::new(lazy(url)?)
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
            {
                Ok(r) => r.into_inner().status == ServingStatus::Serving as i32,
                Err(_) => false,
            };
            if serving {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!(
                    "{name} at {url} is not SERVING after {}s",
                    timeout.as_secs()
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
    Ok(())
}
