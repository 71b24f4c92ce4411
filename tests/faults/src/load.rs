//! A customer-support load played against a running suite, through
//! `livedeskctl`'s balanced clients, recording what was acknowledged and
//! what arrived: visitors start conversations and send traceable messages
//! (`client_message_id` = `<conversation>-<n>`), then leave or are blocked;
//! agents follow their feeds and accept every offer. Used by the cluster
//! scenario (rolling restarts) and the services fault run (SIGKILLs, broker
//! and database faults); [`Ledger::verdict`] judges the run's messages.
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use livedesk_auth::Role;
use livedesk_proto::common::v1::{Channel, CustomerIdentity, IdentityKind};
use livedesk_proto::conversations::v1 as cnv;
use livedesk_proto::notifications::v1 as ntf;
use livedesk_proto::routing::v1 as rtg;
use livedeskctl::tokens::authed;
use livedeskctl::{Clients, Tokens};
use tokio_stream::StreamExt;
use uuid::Uuid;

/// Whether a failed call may be retried as is: the replica it reached went
/// away (or was going away), or could not reach its database or broker,
/// before answering. Every retried call carries its idempotency key, so a
/// retry never doubles anything.
pub fn transient(s: &tonic::Status) -> bool {
    // A GOAWAY from a draining replica can come as INTERNAL with the
    // transport error as its source (seen in CI): the call was not served.
    livedesk_platform::errors::is_transport_failure(s)
        || matches!(
            s.code(),
            tonic::Code::Unavailable
                | tonic::Code::Unknown
                | tonic::Code::Cancelled
                | tonic::Code::DeadlineExceeded
                | tonic::Code::Aborted
        )
}

/// How long a call is retried through transient failures.
const RETRY_FOR: Duration = Duration::from_secs(120);

/// Calls `f` until it succeeds or fails for a reason other than a
/// [`transient`] one (two minutes at most). Counts retries in `retries`.
pub async fn retry<T, F, Fut>(what: &str, retries: &Mutex<usize>, mut f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    let deadline = Instant::now() + RETRY_FOR;
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(s) if transient(&s) && Instant::now() < deadline => {
                if let Ok(mut r) = retries.lock() {
                    *r += 1;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(s) => anyhow::bail!("{what}: {s:?}"),
        }
    }
}

/// How a visitor's conversation ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Left open (the cluster scenario).
    Open,
    /// The visitor ends it (`EndConversation`).
    Ended,
    /// Staff block the customer (`BlockCustomer`).
    Blocked,
}

/// What each visitor does.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Conversations per visitor at most.
    pub conversations: usize,
    pub messages: usize,
    /// Between two messages.
    pub pause: Duration,
    /// The ending of conversation `k` of visitor `v`.
    pub ending: fn(v: usize, k: usize) -> Ending,
    /// Blocks customers when an ending says so.
    pub admin_token: String,
}

/// A customer blocked during the run: the conversation, the identity the
/// block carries, the block.
#[derive(Debug, Clone)]
pub struct BlockedCustomer {
    pub conversation_id: String,
    pub email: String,
    pub block_id: String,
}

/// What the load saw.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Acknowledged client message ids, by conversation, in sending order.
    pub acked: Mutex<HashMap<String, Vec<String>>>,
    /// Message notifications the agents received, by client message id.
    pub delivered: Mutex<HashMap<String, usize>>,
    /// Client message ids in the order agents first received them, by
    /// conversation.
    pub arrival: Mutex<HashMap<String, Vec<String>>>,
    /// Conversations whose `EndConversation` was acknowledged.
    pub ended: Mutex<HashSet<String>>,
    /// Customers whose `BlockCustomer` was acknowledged.
    pub blocked: Mutex<Vec<BlockedCustomer>>,
    pub retries: Mutex<usize>,
}

/// What became of the acknowledged messages (after Jepsen's total-queue
/// checker: lost, duplicated, reordered, unexpected).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deliveries {
    pub acknowledged: usize,
    /// Acknowledged, never received by an agent.
    pub undelivered: usize,
    /// Received more than once.
    pub doubled: usize,
    /// Received before a message sent earlier in its conversation.
    pub reordered: usize,
    /// Received, never acknowledged to its sender.
    pub unexpected: usize,
}

impl Deliveries {
    /// (undelivered, doubled, reordered, unexpected): all 0 in a clean run.
    pub fn anomalies(&self) -> (usize, usize, usize, usize) {
        (
            self.undelivered,
            self.doubled,
            self.reordered,
            self.unexpected,
        )
    }
}

impl Ledger {
    /// Acknowledged messages so far.
    pub fn acknowledged(&self) -> usize {
        self.acked
            .lock()
            .map(|a| a.values().map(Vec::len).sum())
            .unwrap_or(0)
    }

    /// Every acknowledged client message id.
    pub fn acknowledged_ids(&self) -> Vec<String> {
        self.acked
            .lock()
            .map(|a| a.values().flatten().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether agents have received every acknowledged message.
    pub fn all_delivered(&self) -> bool {
        let ids = self.acknowledged_ids();
        self.delivered
            .lock()
            .map(|d| ids.iter().all(|id| d.contains_key(id)))
            .unwrap_or(false)
    }

    /// Judges the deliveries: each acknowledged message received once,
    /// and in its conversation's sending order.
    pub fn deliveries(&self) -> Deliveries {
        let acked = self.acked.lock().map(|a| a.clone()).unwrap_or_default();
        let delivered = self.delivered.lock().map(|d| d.clone()).unwrap_or_default();
        let arrival = self.arrival.lock().map(|a| a.clone()).unwrap_or_default();
        let mut out = Deliveries::default();
        let sent_ids: HashSet<&str> = acked.values().flatten().map(String::as_str).collect();
        out.unexpected = delivered
            .keys()
            .filter(|id| !id.is_empty() && !sent_ids.contains(id.as_str()))
            .count();
        for (conversation, sent) in &acked {
            out.acknowledged += sent.len();
            for id in sent {
                match delivered.get(id) {
                    None => out.undelivered += 1,
                    Some(1) => {}
                    Some(_) => out.doubled += 1,
                }
            }
            let place: HashMap<&str, usize> = sent
                .iter()
                .enumerate()
                .map(|(i, id)| (id.as_str(), i))
                .collect();
            let mut latest = None;
            for id in arrival.get(conversation).into_iter().flatten() {
                let Some(&i) = place.get(id.as_str()) else {
                    continue;
                };
                if latest.is_some_and(|l| i < l) {
                    out.reordered += 1;
                }
                latest = latest.max(Some(i));
            }
        }
        out
    }
}

/// What the conversations service stored of the acknowledged messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stored {
    /// Acknowledged, not stored.
    pub lost: usize,
    /// Stored more than once.
    pub doubled: usize,
}

/// Reads every conversation's messages back (as `admin`) and counts the
/// acknowledged ones stored other than once.
pub async fn stored(clients: &Clients, admin: &str, ledger: &Ledger) -> anyhow::Result<Stored> {
    let acked = ledger
        .acked
        .lock()
        .map_err(|_| anyhow::anyhow!("ledger poisoned"))?
        .clone();
    let mut out = Stored::default();
    for (conversation, ids) in &acked {
        let messages = retry("list messages", &ledger.retries, || {
            let mut c = clients.conversations.clone();
            let req = authed(
                admin,
                cnv::ListMessagesRequest {
                    conversation_id: conversation.clone(),
                    after_sequence: 0,
                    limit: 500,
                },
            );
            async move { c.list_messages(req).await }
        })
        .await?
        .into_inner()
        .messages;
        let mut count: HashMap<&str, usize> = HashMap::new();
        for m in &messages {
            *count.entry(m.client_message_id.as_str()).or_default() += 1;
        }
        for id in ids {
            match count.get(id.as_str()) {
                None => out.lost += 1,
                Some(1) => {}
                Some(_) => out.doubled += 1,
            }
        }
    }
    Ok(out)
}

/// An agent's desktop: follows its feed (resuming after the last sequence
/// when a notifications replica goes away) and accepts every offer, until
/// `stop`.
pub async fn agent_desk(
    clients: Clients,
    token: String,
    ledger: Arc<Ledger>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let mut after = 0u64;
    let mut seen_sequences = HashSet::new();
    while !stop.load(Ordering::SeqCst) {
        let stream = clients
            .notifications
            .clone()
            .subscribe(authed(
                &token,
                ntf::SubscribeRequest {
                    after_sequence: after,
                    replay_all: after == 0,
                },
            ))
            .await;
        let mut stream = match stream {
            Ok(s) => s.into_inner(),
            Err(s) if transient(&s) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Err(s) => anyhow::bail!("subscribe: {s:?}"),
        };
        loop {
            let item = tokio::select! {
                item = stream.next() => item,
                _ = tokio::time::sleep(Duration::from_millis(500)) => {
                    if stop.load(Ordering::SeqCst) { return Ok(()); }
                    continue;
                }
            };
            let Some(Ok(n)) = item else { break };
            after = after.max(n.sequence);
            if !seen_sequences.insert(n.sequence) {
                continue;
            }
            match n.kind {
                Some(ntf::notification::Kind::Offer(offer)) => {
                    let (c, t, l) = (clients.clone(), token.clone(), ledger.clone());
                    tokio::spawn(async move {
                        let _ = retry("accept", &l.retries, || {
                            let mut r = c.routing.clone();
                            let req = authed(
                                &t,
                                rtg::AcceptOfferRequest {
                                    offer_id: offer.id.clone(),
                                },
                            );
                            async move { r.accept_offer(req).await }
                        })
                        .await;
                    });
                }
                Some(ntf::notification::Kind::Message(m)) => {
                    let first = {
                        let mut d = ledger
                            .delivered
                            .lock()
                            .map_err(|_| anyhow::anyhow!("ledger poisoned"))?;
                        let n = d.entry(m.client_message_id.clone()).or_default();
                        *n += 1;
                        *n == 1
                    };
                    if first && !m.client_message_id.is_empty() {
                        ledger
                            .arrival
                            .lock()
                            .map_err(|_| anyhow::anyhow!("ledger poisoned"))?
                            .entry(m.conversation_id.clone())
                            .or_default()
                            .push(m.client_message_id);
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Sets agent `id`'s state (as the agent), through transient failures.
pub async fn set_state(
    clients: &Clients,
    token: &str,
    id: &str,
    state: rtg::AgentState,
    ledger: &Ledger,
) -> anyhow::Result<()> {
    retry("set agent state", &ledger.retries, || {
        let mut r = clients.routing.clone();
        let req = authed(
            token,
            rtg::SetAgentStateRequest {
                state: state as i32,
                display_name: id.to_owned(),
                ..Default::default()
            },
        );
        async move { r.set_agent_state(req).await }
    })
    .await?;
    Ok(())
}

/// An agent on duty until `stop`: registered (as `admin`) with 25 web
/// chats, its desk following its feed, then AVAILABLE. Returns the agent's
/// token and its desk.
pub async fn agent_on_duty(
    clients: &Clients,
    tokens: &Tokens,
    admin: &str,
    id: &str,
    ledger: &Arc<Ledger>,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<(String, tokio::task::JoinHandle<anyhow::Result<()>>)> {
    let token = tokens.mint(id, Role::Agent, Some(id))?;
    retry("upsert agent", &ledger.retries, || {
        let mut r = clients.routing.clone();
        let req = authed(
            admin,
            rtg::UpsertAgentRequest {
                id: id.to_owned(),
                display_name: id.to_owned(),
                capacities: vec![rtg::ChannelCapacity {
                    channel: Channel::WebChat as i32,
                    capacity: 25,
                }],
                ..Default::default()
            },
        );
        async move { r.upsert_agent(req).await }
    })
    .await?;
    let desk = tokio::spawn(agent_desk(
        clients.clone(),
        token.clone(),
        ledger.clone(),
        stop.clone(),
    ));
    set_state(clients, &token, id, rtg::AgentState::Available, ledger).await?;
    Ok((token, desk))
}

/// Starts `n` visitors on `plan` until `stop`.
pub fn visitors(
    n: usize,
    clients: &Clients,
    tokens: &Tokens,
    plan: &Arc<Plan>,
    ledger: &Arc<Ledger>,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<anyhow::Result<usize>>> {
    (0..n)
        .map(|v| {
            tokio::spawn(visitor(
                clients.clone(),
                tokens.clone(),
                v,
                plan.clone(),
                ledger.clone(),
                stop.clone(),
            ))
        })
        .collect()
}

/// The email of visitor `v`'s `k`-th conversation: unique, so a block of
/// one customer touches no other.
pub fn visitor_email(run: &str, v: usize, k: usize) -> String {
    format!("visitor-{v}-{k}-{run}@faults.example")
}

/// A visitor: starts conversations one after another until told to stop
/// (or `plan.conversations`), waits for an agent, sends its messages one
/// after another (each acknowledged before the next), then ends the
/// conversation as the plan says. Returns how many it started.
pub async fn visitor(
    clients: Clients,
    tokens: Tokens,
    v: usize,
    plan: Arc<Plan>,
    ledger: Arc<Ledger>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<usize> {
    let run = Uuid::now_v7().simple().to_string();
    let mut started = 0;
    while !stop.load(Ordering::SeqCst) && started < plan.conversations {
        let token = tokens.mint(&format!("visitor-{v}-{started}"), Role::Visitor, None)?;
        let email = visitor_email(&run, v, started);
        let request_id = Uuid::now_v7().to_string();
        let resp = retry("start", &ledger.retries, || {
            let mut c = clients.conversations.clone();
            let req = authed(
                &token,
                cnv::StartConversationRequest {
                    channel: Channel::WebChat as i32,
                    customer: Some(cnv::Customer {
                        name: format!("Load Customer {v}-{started}"),
                        identities: vec![CustomerIdentity {
                            kind: IdentityKind::Email as i32,
                            value: email.clone(),
                        }],
                        ..Default::default()
                    }),
                    first_message: "Hello".into(),
                    client_request_id: request_id.clone(),
                    ..Default::default()
                },
            );
            async move { c.start_conversation(req).await }
        })
        .await?
        .into_inner();
        let Some(cnv::start_conversation_response::Outcome::Conversation(conv)) = resp.outcome
        else {
            anyhow::bail!("visitor {v}: no conversation: {resp:?}");
        };
        started += 1;
        // Wait for an agent: then the agent is in the audience.
        let deadline = Instant::now() + RETRY_FOR;
        loop {
            let c = retry("get", &ledger.retries, || {
                let mut c = clients.conversations.clone();
                let req = authed(
                    &token,
                    cnv::GetConversationRequest {
                        id: conv.id.clone(),
                    },
                );
                async move { c.get_conversation(req).await }
            })
            .await?
            .into_inner();
            if c.status == cnv::ConversationStatus::Active as i32 {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "conversation {} never became ACTIVE (status {})",
                conv.id,
                c.status
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for j in 0..plan.messages {
            let id = format!("{}-{j}", conv.id);
            let sent = retry("send", &ledger.retries, || {
                let mut c = clients.conversations.clone();
                let req = authed(
                    &token,
                    cnv::SendMessageRequest {
                        conversation_id: conv.id.clone(),
                        text: format!("message {j}"),
                        client_message_id: id.clone(),
                        ..Default::default()
                    },
                );
                async move { c.send_message(req).await }
            })
            .await?
            .into_inner();
            anyhow::ensure!(
                sent.conversation_id == conv.id,
                "message moved conversation"
            );
            ledger
                .acked
                .lock()
                .map_err(|_| anyhow::anyhow!("ledger poisoned"))?
                .entry(conv.id.clone())
                .or_default()
                .push(id);
            tokio::time::sleep(plan.pause).await;
        }
        match (plan.ending)(v, started - 1) {
            Ending::Open => {}
            Ending::Ended => {
                let request_id = Uuid::now_v7().to_string();
                retry("end", &ledger.retries, || {
                    let mut c = clients.conversations.clone();
                    let req = authed(
                        &token,
                        cnv::EndConversationRequest {
                            id: conv.id.clone(),
                            client_request_id: request_id.clone(),
                            ..Default::default()
                        },
                    );
                    async move { c.end_conversation(req).await }
                })
                .await?;
                ledger
                    .ended
                    .lock()
                    .map_err(|_| anyhow::anyhow!("ledger poisoned"))?
                    .insert(conv.id.clone());
            }
            Ending::Blocked => {
                let request_id = Uuid::now_v7().to_string();
                let block = retry("block", &ledger.retries, || {
                    let mut c = clients.blocking.clone();
                    let req = authed(
                        &plan.admin_token,
                        livedesk_proto::blocking::v1::BlockCustomerRequest {
                            conversation_id: conv.id.clone(),
                            reason: "fault run".into(),
                            client_request_id: request_id.clone(),
                            ..Default::default()
                        },
                    );
                    async move { c.block_customer(req).await }
                })
                .await?
                .into_inner();
                ledger
                    .blocked
                    .lock()
                    .map_err(|_| anyhow::anyhow!("ledger poisoned"))?
                    .push(BlockedCustomer {
                        conversation_id: conv.id.clone(),
                        email: email.clone(),
                        block_id: block.id,
                    });
            }
        }
    }
    Ok(started)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ledger(acked: &[(&str, &[&str])], arrivals: &[(&str, &[&str])]) -> Ledger {
        let l = Ledger::default();
        for (c, ids) in acked {
            l.acked
                .lock()
                .unwrap()
                .insert((*c).into(), ids.iter().map(|s| (*s).into()).collect());
        }
        for (c, ids) in arrivals {
            for id in *ids {
                *l.delivered.lock().unwrap().entry((*id).into()).or_default() += 1;
                let mut a = l.arrival.lock().unwrap();
                let list = a.entry((*c).into()).or_default();
                if !list.iter().any(|x| x == id) {
                    list.push((*id).into());
                }
            }
        }
        l
    }

    #[test]
    fn deliveries_count_what_never_came_what_came_twice_and_what_came_out_of_order() {
        let clean = ledger(&[("c", &["1", "2"])], &[("c", &["1", "2"])]);
        assert_eq!(
            clean.deliveries(),
            Deliveries {
                acknowledged: 2,
                ..Default::default()
            }
        );
        let bad = ledger(
            &[("c", &["1", "2", "3"]), ("d", &["4"])],
            &[("c", &["2", "1", "1", "9"])],
        );
        assert_eq!(
            bad.deliveries(),
            Deliveries {
                acknowledged: 4,
                undelivered: 2,
                doubled: 1,
                reordered: 1,
                unexpected: 1,
            }
        );
    }
}
