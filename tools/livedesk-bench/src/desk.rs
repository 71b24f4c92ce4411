//! Setting the scene through the public APIs: agents with chat capacity
//! 25 who are AVAILABLE and subscribed, visitors starting conversations,
//! agents accepting offers.

use livedesk_auth::Role;
use livedesk_proto::common::v1::Channel;
use livedesk_proto::conversations::v1 as cnv;
use livedesk_proto::routing::v1 as rtg;
use livedeskctl::tokens::authed;
use livedeskctl::{Clients, Tokens};
use uuid::Uuid;

use crate::feed::Feeds;

/// The highest chat capacity an agent can have (RTG-1).
pub const MAX_CAPACITY: usize = 25;

/// An agent of the benchmark.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: String,
    pub token: String,
}

/// Registers agents `first..first + n` with capacity 25, subscribes their
/// feeds into `feeds`, then makes them AVAILABLE.
pub async fn ready_agents(
    clients: &Clients,
    tokens: &Tokens,
    first: usize,
    n: usize,
    feeds: &mut Feeds,
) -> anyhow::Result<Vec<Agent>> {
    let admin = tokens.mint("bench-admin", Role::Admin, Some("Bench Admin"))?;
    let mut agents = Vec::with_capacity(n);
    for i in first..first + n {
        let id = format!("bench-agent-{i}");
        let name = format!("Bench Agent {i}");
        let token = tokens.mint(&id, Role::Agent, Some(&name))?;
        clients
            .routing
            .clone()
            .upsert_agent(authed(
                &admin,
                rtg::UpsertAgentRequest {
                    id: id.clone(),
                    display_name: name.clone(),
                    capacities: vec![rtg::ChannelCapacity {
                        channel: Channel::WebChat as i32,
                        capacity: MAX_CAPACITY as u32,
                    }],
                    ..Default::default()
                },
            ))
            .await?;
        feeds.add(clients, &token).await?;
        clients
            .routing
            .clone()
            .set_agent_state(authed(
                &token,
                rtg::SetAgentStateRequest {
                    state: rtg::AgentState::Available as i32,
                    display_name: name,
                    ..Default::default()
                },
            ))
            .await?;
        agents.push(Agent { id, token });
    }
    Ok(agents)
}

/// A new visitor's token.
pub fn visitor(tokens: &Tokens) -> anyhow::Result<String> {
    tokens.mint(
        &format!("visitor-{}", Uuid::now_v7().simple()),
        Role::Visitor,
        None,
    )
}

/// Starts a web-chat conversation; returns its id.
pub async fn start(clients: &Clients, visitor: &str, i: usize) -> anyhow::Result<String> {
    let resp = clients
        .conversations
        .clone()
        .start_conversation(authed(
            visitor,
            cnv::StartConversationRequest {
                channel: Channel::WebChat as i32,
                customer: Some(cnv::Customer {
                    name: format!("Bench Customer {i}"),
                    email: format!("customer{i}@example.com"),
                    ..Default::default()
                }),
                first_message: "Hello, I need help with my order".into(),
                client_request_id: Uuid::now_v7().to_string(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    match resp.outcome {
        Some(cnv::start_conversation_response::Outcome::Conversation(c)) => Ok(c.id),
        other => anyhow::bail!("conversation {i} not created: {other:?}"),
    }
}

/// Accepts an offer as the agent it was made to.
pub async fn accept(clients: &Clients, agent_token: &str, offer_id: &str) -> anyhow::Result<()> {
    clients
        .routing
        .clone()
        .accept_offer(authed(
            agent_token,
            rtg::AcceptOfferRequest {
                offer_id: offer_id.to_owned(),
            },
        ))
        .await?;
    Ok(())
}
