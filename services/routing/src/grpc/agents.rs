//! Agents: profile, registration on first use (TEN-1), state (RTG-1,
//! RTG-5) and next state (RTG-14).
use livedesk_auth::{AuthError, Principal, Role, principal};
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_platform::page::Page;
use livedesk_proto::common::v1::PageResponse;
use livedesk_proto::routing::v1 as pb;
use sea_orm::{ConnectionTrait, TransactionTrait};
use tonic::Request;
use uuid::Uuid;

use super::{RoutingGrpc, acting_agent};
use crate::domain::{
    AgentState, Capacities, DisplayName, Initials, NextState, initials_of, plan_state_change,
};
use crate::engine::{apply_next_state, stage_memberships, stage_state_change};
use crate::error::{Entity, Error};
use crate::store::{AgentRow, Agents, Memberships, NewAgent, Orgs, Queues};
use crate::views;
use livedesk_events::{Outbox, Staged};

/// The agent a request is about: the caller when `raw` is empty or their
/// own id; someone else only for supervisors and admins.
fn target(who: &Principal, raw: &str, action: &'static str) -> Result<String, Error> {
    let raw = raw.trim();
    if raw.is_empty() || raw == who.id {
        return Ok(who.id.clone());
    }
    who.require(&[Role::Supervisor, Role::Admin], action)?;
    if raw.chars().count() > 200 {
        return Err(FieldViolation::new("agent_id", "at most 200 characters").into());
    }
    Ok(raw.to_owned())
}

/// Registers the caller with defaults if unknown (TEN-1): display name
/// from the request, the token or the id; member of the default queue;
/// default capacities (chat 4). Returns the staged `AgentQueuesChanged`
/// of a new agent (TEN-3).
async fn register_if_unknown<C: ConnectionTrait>(
    db: &C,
    outbox: &Outbox,
    who: &Principal,
    display_name: &str,
) -> Result<Vec<Staged>, Error> {
    // The membership lock is taken only for an unknown agent, so state
    // changes of registered agents never wait on it.
    if Agents::get(db, who.org_id, &who.id).await?.is_some() {
        return Ok(vec![]);
    }
    Memberships::lock(db, who.org_id).await?;
    Orgs::ensure(db, who.org_id).await?;
    let default = Queues::ensure_default(db, who.org_id).await?;
    let name = DisplayName::first_of(&[display_name, who.name.as_deref().unwrap_or(""), &who.id]);
    let initials = initials_of(name.as_str());
    let fresh = Agents::insert(
        db,
        &NewAgent {
            org_id: who.org_id,
            id: &who.id,
            display_name: name.as_str(),
            initials: initials.as_str(),
            skills: &[],
            capacities: Capacities::default(),
            queue_ids: &[default],
        },
    )
    .await?;
    if !fresh {
        return Ok(vec![]);
    }
    Ok(stage_memberships(outbox, db, who.org_id, std::slice::from_ref(&who.id)).await?)
}

async fn load<C: ConnectionTrait>(db: &C, org: Uuid, id: &str) -> Result<AgentRow, Error> {
    Agents::get(db, org, id)
        .await?
        .ok_or(Error::NotFound(Entity::Agent))
}

impl RoutingGrpc {
    pub(super) async fn set_agent_state(
        &self,
        req: Request<pb::SetAgentStateRequest>,
    ) -> Result<pb::Agent, Error> {
        let who = acting_agent(&req, "set an agent state")?;
        let body = req.get_ref();
        let id = target(&who, &body.agent_id, "set another agent's state")?;
        let change = plan_state_change(body.state, &body.away_reason)?;
        let txn = self.db.begin().await?;
        let mut staged = Vec::new();
        if id == who.id {
            staged = register_if_unknown(&txn, &self.outbox, &who, &body.display_name).await?;
        }
        let Some(from) = Agents::set_state(&txn, who.org_id, &id, &change).await? else {
            txn.rollback().await?;
            return Err(Error::NotFound(Entity::Agent));
        };
        if from != change.to.as_i32() {
            staged.push(
                stage_state_change(
                    &self.outbox,
                    &txn,
                    who.org_id,
                    &id,
                    from,
                    change.to.as_i32(),
                    change.away_reason.as_str(),
                    &who.id,
                )
                .await?,
            );
        }
        let agent = load(&txn, who.org_id, &id).await?;
        self.commit(txn, staged).await?;
        tracing::info!(org = %who.org_id, agent_id = %id, from, to = change.to.as_i32(), "agent state set");
        if change.to == AgentState::Available {
            self.router.kick_queues(who.org_id, &agent.queue_ids);
        }
        Ok(views::agent(&agent))
    }

    pub(super) async fn set_next_agent_state(
        &self,
        req: Request<pb::SetNextAgentStateRequest>,
    ) -> Result<pb::Agent, Error> {
        let who = acting_agent(&req, "set a next state")?;
        let body = req.get_ref();
        let id = target(&who, &body.agent_id, "set another agent's next state")?;
        let next = NextState::parse(body.next_state, &body.away_reason)?;
        let txn = self.db.begin().await?;
        if !Agents::lock(&txn, who.org_id, &id).await? {
            txn.rollback().await?;
            return Err(Error::NotFound(Entity::Agent));
        }
        Agents::set_next_state(&txn, who.org_id, &id, next.0.as_ref()).await?;
        // Nothing to finish: the state applies now (RTG-14).
        let staged: Vec<_> = apply_next_state(&self.outbox, &txn, who.org_id, &id, &who.id)
            .await?
            .into_iter()
            .collect();
        let agent = load(&txn, who.org_id, &id).await?;
        self.commit(txn, staged).await?;
        Ok(views::agent(&agent))
    }

    pub(super) async fn upsert_agent(
        &self,
        req: Request<pb::UpsertAgentRequest>,
    ) -> Result<pb::Agent, Error> {
        let who = acting_agent(&req, "update an agent")?;
        let body = req.get_ref();
        let is_admin = who.role == Role::Admin;
        let id = if body.id.trim().is_empty() || body.id.trim() == who.id {
            who.id.clone()
        } else {
            who.require(&[Role::Admin], "update another agent")?;
            target(&who, &body.id, "update another agent")?
        };
        let routing_fields =
            !body.skills.is_empty() || !body.queue_ids.is_empty() || !body.capacities.is_empty();
        if routing_fields && !is_admin {
            return Err(AuthError::Forbidden {
                role: who.role,
                action: "change skills, queues or capacity",
            }
            .into());
        }
        let mut violations = Vec::new();
        let name = match body.display_name.trim() {
            "" => None,
            raw => DisplayName::parse(raw).map_err(|v| violations.push(v)).ok(),
        };
        let skills = crate::domain::normalize_skills(&body.skills, "skills")
            .map_err(|v| violations.push(v))
            .ok();
        let mut queue_ids = Vec::new();
        for (i, q) in body.queue_ids.iter().enumerate() {
            match parse_uuid(&format!("queue_ids[{i}]"), q) {
                Ok(q) => queue_ids.push(q),
                Err(v) => violations.push(v),
            }
        }
        // Given capacities replace the whole set: channels not listed
        // take their defaults (RTG-1).
        let capacities = if body.capacities.is_empty() {
            None
        } else {
            let pairs: Vec<(i32, u32)> = body
                .capacities
                .iter()
                .map(|c| (c.channel, c.capacity))
                .collect();
            Capacities::parse(&pairs)
                .map_err(|v| violations.extend(v))
                .ok()
        };
        if !violations.is_empty() {
            return Err(Error::Invalid(violations));
        }
        let txn = self.db.begin().await?;
        Memberships::lock(&txn, who.org_id).await?;
        Orgs::ensure(&txn, who.org_id).await?;
        let default = Queues::ensure_default(&txn, who.org_id).await?;
        if queue_ids.is_empty() {
            queue_ids.push(default);
        }
        queue_ids.sort();
        queue_ids.dedup();
        if Queues::existing(&txn, who.org_id, &queue_ids).await?.len() != queue_ids.len() {
            txn.rollback().await?;
            return Err(Error::NotFound(Entity::Queue));
        }
        Agents::lock(&txn, who.org_id, &id).await?;
        let existing = Agents::get(&txn, who.org_id, &id).await?;
        if existing.is_none() && id != who.id && !is_admin {
            txn.rollback().await?;
            return Err(Error::NotFound(Entity::Agent));
        }
        let name = name.unwrap_or_else(|| match &existing {
            Some(e) => DisplayName::first_of(&[&e.display_name]),
            None => DisplayName::first_of(&[
                who.name.as_deref().filter(|_| id == who.id).unwrap_or(""),
                &id,
            ]),
        });
        let initials = Initials::parse_or_derive(&body.initials, &name)?;
        let keep_routing = !is_admin;
        let skills = match (&existing, keep_routing) {
            (Some(e), true) => e.skills.clone(),
            _ => skills.unwrap_or_default(),
        };
        let queue_ids = match (&existing, keep_routing) {
            (Some(e), true) => e.queue_ids.clone(),
            _ => queue_ids,
        };
        let capacities = capacities
            .or_else(|| {
                existing
                    .as_ref()
                    .map(|e| Capacities::from_stored(&e.capacities))
            })
            .unwrap_or_default();
        let agent = NewAgent {
            org_id: who.org_id,
            id: &id,
            display_name: name.as_str(),
            initials: initials.as_str(),
            skills: &skills,
            capacities,
            queue_ids: &queue_ids,
        };
        if existing.is_some() {
            Agents::update_profile(&txn, &agent).await?;
        } else {
            Agents::insert(&txn, &agent).await?;
        }
        let row = load(&txn, who.org_id, &id).await?;
        let changed = existing
            .as_ref()
            .is_none_or(|e| e.queue_ids != row.queue_ids);
        let staged = if changed {
            stage_memberships(&self.outbox, &txn, who.org_id, std::slice::from_ref(&id)).await?
        } else {
            vec![]
        };
        self.commit(txn, staged).await?;
        // New memberships or capacity may make the agent eligible now.
        self.router.kick_queues(who.org_id, &row.queue_ids);
        Ok(views::agent(&row))
    }

    pub(super) async fn get_agent(
        &self,
        req: Request<pb::GetAgentRequest>,
    ) -> Result<pb::Agent, Error> {
        let who = principal(&req)?;
        who.require_staff("read agents")?;
        let raw = req.get_ref().id.trim();
        let id = if raw.is_empty() { who.id.as_str() } else { raw };
        Ok(views::agent(&load(&self.db, who.org_id, id).await?))
    }

    pub(super) async fn list_agents(
        &self,
        req: Request<pb::ListAgentsRequest>,
    ) -> Result<pb::ListAgentsResponse, Error> {
        let who = principal(&req)?;
        who.require_staff("list agents")?;
        let body = req.get_ref();
        // Agent ids are JWT subjects, not UUIDs: the cursor is the last id.
        let size = Page::parse(
            body.page
                .as_ref()
                .map(|p| livedesk_proto::common::v1::PageRequest {
                    page_size: p.page_size,
                    page_token: String::new(),
                })
                .as_ref(),
        )?
        .size;
        let after = body
            .page
            .as_ref()
            .map(|p| p.page_token.clone())
            .filter(|t| !t.is_empty());
        let queue = match body.queue_id.trim() {
            "" => None,
            raw => Some(parse_uuid("queue_id", raw)?),
        };
        let state = match body.state {
            0 => None,
            s => Some(
                AgentState::from_i32(s)
                    .ok_or_else(|| FieldViolation::new("state", "unknown state"))?,
            ),
        };
        let rows = Agents::list(&self.db, who.org_id, queue, state, after, size).await?;
        let next_page_token = match rows.last() {
            Some(last) if rows.len() as u64 == size => last.id.clone(),
            _ => String::new(),
        };
        Ok(pb::ListAgentsResponse {
            agents: rows.iter().map(views::agent).collect(),
            page: Some(PageResponse { next_page_token }),
        })
    }
}
