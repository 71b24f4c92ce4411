//! The whole suite in one test process: six services on loopback ports,
//! their own databases and NATS prefix, and clients for all of them.

use livedesk_platform::Env;
use livedesk_proto::routing::v1 as rtg;
use livedesk_testkit::smtp::SmtpServer;
use livedesk_testkit::{RunningService, TestEnv, spawn};
use livedeskctl::{Clients, Endpoints, Tokens};
use uuid::Uuid;

/// The running suite.
pub struct Suite {
    pub routing: RunningService,
    pub blocking: RunningService,
    pub scheduling: RunningService,
    pub conversations: RunningService,
    pub reporting: RunningService,
    pub notifications: RunningService,
    pub clients: Clients,
    /// The suite's own SMTP relay (a real server; mail lands in its dir).
    pub smtp: SmtpServer,
    ports: Ports,
    /// Last field: dropped (databases and streams removed) after the
    /// services above were told to stop.
    pub env: TestEnv,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(livedesk_testkit::reserve_port()?)
}

/// Environment of one service: a fixed port (peers need each other's
/// address before they start: blocking and conversations call each other)
/// and every peer URL.
fn vars(env: &TestEnv, service: &str, ports: &Ports) -> Env {
    let url = |p: u16| format!("http://127.0.0.1:{p}");
    let upper = service.to_ascii_uppercase();
    let mut extra = vec![(
        format!("LIVEDESK_{upper}__GRPC_ADDR"),
        format!("127.0.0.1:{}", ports.of(service)),
    )];
    let peers: &[(&str, u16)] = match service {
        "blocking" => &[("CONVERSATIONS", ports.conversations)],
        "conversations" => &[
            ("BLOCKING", ports.blocking),
            ("SCHEDULING", ports.scheduling),
            // Exports ask every service for its share (PRV-1).
            ("ROUTING", ports.routing),
            ("REPORTING", ports.reporting),
            ("NOTIFICATIONS", ports.notifications),
        ],
        "scheduling" => &[("ROUTING", ports.routing), ("BLOCKING", ports.blocking)],
        _ => &[],
    };
    for (peer, port) in peers {
        extra.push((format!("LIVEDESK_{upper}__{peer}_URL"), url(*port)));
    }
    if service == "notifications" {
        extra.push((
            "LIVEDESK_NOTIFICATIONS__SMTP_URL".into(),
            format!("smtp://127.0.0.1:{}", ports.smtp),
        ));
        extra.push((
            "LIVEDESK_NOTIFICATIONS__SMTP_FROM".into(),
            "support@livedesk.example".into(),
        ));
    }
    if service == "conversations" {
        // Attachments in the test's own directory, never the checkout.
        extra.push((
            "LIVEDESK_CONVERSATIONS__ATTACHMENTS_DIR".into(),
            ports.attachments_dir.clone(),
        ));
        // Retention sweeps every second, so a test sees a purge (PRV-3).
        extra.push((
            "LIVEDESK_CONVERSATIONS__RETENTION_SWEEP_SECS".into(),
            "1".into(),
        ));
    }
    env.service_env(service, &extra)
}

struct Ports {
    routing: u16,
    blocking: u16,
    scheduling: u16,
    conversations: u16,
    reporting: u16,
    notifications: u16,
    smtp: u16,
    attachments_dir: String,
}

impl Ports {
    fn of(&self, service: &str) -> u16 {
        match service {
            "routing" => self.routing,
            "blocking" => self.blocking,
            "scheduling" => self.scheduling,
            "conversations" => self.conversations,
            "reporting" => self.reporting,
            _ => self.notifications,
        }
    }
}

impl Suite {
    /// Starts the six services.
    pub async fn start() -> anyhow::Result<Self> {
        let env = TestEnv::new().await?;
        let smtp = SmtpServer::start().await?;
        let ports = Ports {
            routing: free_port()?,
            blocking: free_port()?,
            scheduling: free_port()?,
            conversations: free_port()?,
            reporting: free_port()?,
            notifications: free_port()?,
            smtp: smtp.port,
            attachments_dir: std::env::temp_dir()
                .join(format!(
                    "livedesk-e2e-attachments-{}",
                    Uuid::now_v7().simple()
                ))
                .to_string_lossy()
                .into_owned(),
        };
        let routing = spawn::<livedesk_routing::App>(&vars(&env, "routing", &ports)).await?;
        let blocking = spawn::<livedesk_blocking::App>(&vars(&env, "blocking", &ports)).await?;
        let scheduling =
            spawn::<livedesk_scheduling::App>(&vars(&env, "scheduling", &ports)).await?;
        let conversations =
            spawn::<livedesk_conversations::App>(&vars(&env, "conversations", &ports)).await?;
        let reporting = spawn::<livedesk_reporting::App>(&vars(&env, "reporting", &ports)).await?;
        let notifications =
            spawn::<livedesk_notifications::App>(&vars(&env, "notifications", &ports)).await?;
        let clients = Clients::new(&Endpoints {
            routing: routing.url(),
            conversations: conversations.url(),
            blocking: blocking.url(),
            scheduling: scheduling.url(),
            reporting: reporting.url(),
            notifications: notifications.url(),
        })?;
        Ok(Self {
            env,
            routing,
            blocking,
            scheduling,
            conversations,
            reporting,
            notifications,
            clients,
            smtp,
            ports,
        })
    }

    /// Token minting for a new org.
    pub fn tokens(&self) -> Tokens {
        Tokens::new(self.env.issuer(), Uuid::now_v7())
    }

    /// Every running service.
    pub fn services(&self) -> [&RunningService; 6] {
        [
            &self.routing,
            &self.blocking,
            &self.scheduling,
            &self.conversations,
            &self.reporting,
            &self.notifications,
        ]
    }

    /// Stops one service gracefully (as SIGTERM would) and starts a fresh
    /// instance on the same port, database and prefix: a rolling restart.
    pub async fn restart(&mut self, service: &str) -> anyhow::Result<()> {
        let vars = vars(&self.env, service, &self.ports);
        match service {
            "routing" => {
                self.routing.shutdown().await?;
                self.routing = spawn::<livedesk_routing::App>(&vars).await?;
            }
            "blocking" => {
                self.blocking.shutdown().await?;
                self.blocking = spawn::<livedesk_blocking::App>(&vars).await?;
            }
            "scheduling" => {
                self.scheduling.shutdown().await?;
                self.scheduling = spawn::<livedesk_scheduling::App>(&vars).await?;
            }
            "conversations" => {
                self.conversations.shutdown().await?;
                self.conversations = spawn::<livedesk_conversations::App>(&vars).await?;
            }
            "reporting" => {
                self.reporting.shutdown().await?;
                self.reporting = spawn::<livedesk_reporting::App>(&vars).await?;
            }
            "notifications" => {
                self.notifications.shutdown().await?;
                self.notifications = spawn::<livedesk_notifications::App>(&vars).await?;
            }
            other => anyhow::bail!("no service {other:?}"),
        }
        Ok(())
    }

    /// Stops the suite gracefully, as SIGTERM would.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.notifications.stop().await?;
        self.reporting.stop().await?;
        self.conversations.stop().await?;
        self.scheduling.stop().await?;
        self.blocking.stop().await?;
        self.routing.stop().await?;
        Ok(())
    }
}

/// Puts `agent` (a token) AVAILABLE for routing.
pub async fn available(c: &Clients, agent: &str) -> anyhow::Result<()> {
    c.routing
        .clone()
        .set_agent_state(livedeskctl::tokens::authed(
            agent,
            rtg::SetAgentStateRequest {
                state: rtg::AgentState::Available as i32,
                display_name: "Ada".into(),
                ..Default::default()
            },
        ))
        .await?;
    Ok(())
}

/// Waits for the offer of conversation `id` to `agent` and accepts it.
pub async fn accept(c: &Clients, agent: &str, id: &str) -> anyhow::Result<()> {
    let offer = livedesk_testkit::eventually(30, "the offer", || async {
        c.routing
            .clone()
            .list_offers(livedeskctl::tokens::authed(
                agent,
                rtg::ListOffersRequest::default(),
            ))
            .await
            .ok()?
            .into_inner()
            .offers
            .into_iter()
            .find(|o| o.conversation_id == id)
    })
    .await?;
    c.routing
        .clone()
        .accept_offer(livedeskctl::tokens::authed(
            agent,
            rtg::AcceptOfferRequest { offer_id: offer.id },
        ))
        .await?;
    Ok(())
}

/// Opens the notification feed of `token`'s user (`replay_all`: from the
/// start of what is kept, else only what comes next).
pub async fn subscribe(
    c: &Clients,
    token: &str,
    replay_all: bool,
) -> anyhow::Result<tonic::Streaming<livedesk_proto::notifications::v1::Notification>> {
    Ok(c.notifications
        .clone()
        .subscribe(livedeskctl::tokens::authed(
            token,
            livedesk_proto::notifications::v1::SubscribeRequest {
                after_sequence: 0,
                replay_all,
            },
        ))
        .await?
        .into_inner())
}

/// Blocks the customer of conversation `conversation_id` as `token`'s
/// user, for `reason`.
pub async fn block_customer(
    c: &Clients,
    token: &str,
    conversation_id: &str,
    reason: &str,
) -> anyhow::Result<livedesk_proto::blocking::v1::Block> {
    Ok(c.blocking
        .clone()
        .block_customer(livedeskctl::tokens::authed(
            token,
            livedesk_proto::blocking::v1::BlockCustomerRequest {
                conversation_id: conversation_id.to_owned(),
                reason: reason.to_owned(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner())
}
