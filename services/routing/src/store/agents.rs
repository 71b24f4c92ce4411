//! Agents, their state and load (RTG-1, RTG-2, RTG-5, RTG-14).
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

use super::{all_checked, changed_one, int_array, one_checked, text_array};
use crate::domain::{AgentState, Candidate, Capacities, StateChange, UnknownLabel, loads_from};
use livedesk_platform::labels::{label, parse_label};

/// One agent with memberships and current load.
#[derive(Debug, Clone)]
pub struct AgentRow {
    pub id: String,
    pub display_name: String,
    pub initials: String,
    pub skills: Vec<String>,
    /// One capacity per channel, in channel order (RTG-1).
    pub capacities: Vec<i32>,
    pub state: AgentState,
    pub away_reason: String,
    pub next_state: Option<AgentState>,
    pub state_since: DateTime<Utc>,
    pub idle_since: DateTime<Utc>,
    pub queue_ids: Vec<Uuid>,
    pub load: i64,
}

/// An agent as stored: states as their stored names.
#[derive(FromQueryResult)]
struct StoredAgent {
    id: String,
    display_name: String,
    initials: String,
    skills: Vec<String>,
    capacities: Vec<i32>,
    state: String,
    away_reason: String,
    next_state: Option<String>,
    state_since: DateTime<Utc>,
    idle_since: DateTime<Utc>,
    queue_ids: Vec<Uuid>,
    load: i64,
}

impl TryFrom<StoredAgent> for AgentRow {
    type Error = UnknownLabel;

    fn try_from(s: StoredAgent) -> Result<Self, UnknownLabel> {
        Ok(Self {
            id: s.id,
            display_name: s.display_name,
            initials: s.initials,
            skills: s.skills,
            capacities: s.capacities,
            state: parse_label::<AgentState>("agents.state", &s.state)?,
            away_reason: s.away_reason,
            next_state: next_state(s.next_state.as_deref())?,
            state_since: s.state_since,
            idle_since: s.idle_since,
            queue_ids: s.queue_ids,
            load: s.load,
        })
    }
}

/// A stored next state: NULL is none, a name must be known.
fn next_state(stored: Option<&str>) -> Result<Option<AgentState>, UnknownLabel> {
    stored
        .map(|raw| parse_label::<AgentState>("agents.next_state", raw))
        .transpose()
}

/// A stored state as its wire number (events carry numbers).
fn wire_state(stored: &str) -> Result<i32, DbErr> {
    Ok(parse_label::<AgentState>("agents.state", stored)?.as_i32())
}

const COLUMNS: &str = "a.org_id, a.id, a.display_name, a.initials, a.skills, a.capacities, a.state, a.away_reason, \
     a.next_state, a.next_away_reason, a.state_since, a.idle_since, a.last_offered_at, a.created_at, \
     COALESCE((SELECT array_agg(m.queue_id ORDER BY m.queue_id) FROM queue_members m WHERE m.org_id = a.org_id AND m.agent_id = a.id), '{}'::uuid[]) AS queue_ids, \
     agent_load(a.org_id, a.id) AS load";

/// What a new agent is registered with.
#[derive(Debug, Clone)]
pub struct NewAgent<'a> {
    pub org_id: Uuid,
    pub id: &'a str,
    pub display_name: &'a str,
    pub initials: &'a str,
    pub skills: &'a [String],
    pub capacities: Capacities,
    pub queue_ids: &'a [Uuid],
}

impl NewAgent<'_> {
    /// Key and profile as statement values `$1` to `$6` (org, id, display
    /// name, initials, skills, capacities), shared by insert and update.
    fn profile(&self) -> [sea_orm::Value; 6] {
        [
            self.org_id.into(),
            self.id.into(),
            self.display_name.into(),
            self.initials.into(),
            text_array(self.skills),
            int_array(&self.capacities.to_stored()),
        ]
    }
}

#[derive(Debug, FromQueryResult)]
struct CandidateRow {
    agent_id: String,
    state: String,
    next_state: Option<String>,
    skills: Vec<String>,
    capacities: Vec<i32>,
    loads: Vec<i64>,
    idle_since: DateTime<Utc>,
    last_offered_at: Option<DateTime<Utc>>,
    member: bool,
}

impl TryFrom<CandidateRow> for Candidate {
    type Error = UnknownLabel;

    fn try_from(r: CandidateRow) -> Result<Self, UnknownLabel> {
        Ok(Candidate {
            agent_id: r.agent_id,
            state: Some(parse_label::<AgentState>("agents.state", &r.state)?),
            has_next_state: next_state(r.next_state.as_deref())?.is_some(),
            member: r.member,
            skills: r.skills,
            loads: loads_from(&r.loads),
            capacities: Capacities::from_stored(&r.capacities).per_channel(),
            idle_since: r.idle_since,
            last_offered_at: r.last_offered_at,
            excluded: false,
        })
    }
}

/// Agent queries.
pub struct Agents;

impl Agents {
    /// One agent of the org.
    pub async fn get<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: &str,
    ) -> Result<Option<AgentRow>, DbErr> {
        let st = stmt(
            &format!("SELECT {COLUMNS} FROM agents a WHERE a.org_id = $1 AND a.id = $2"),
            [org.into(), id.into()],
        );
        one_checked::<StoredAgent, _, _>(db, st).await
    }

    /// Locks one agent row for the rest of the transaction.
    pub async fn lock<C: ConnectionTrait>(db: &C, org: Uuid, id: &str) -> Result<bool, DbErr> {
        Ok(db
            .query_one_raw(stmt(
                "SELECT id FROM agents WHERE org_id = $1 AND id = $2 FOR UPDATE",
                [org.into(), id.into()],
            ))
            .await?
            .is_some())
    }

    /// Locks the first of `ranked` (best first) that no other transaction
    /// holds, in one round trip; `None` when every one is held.
    pub async fn lock_first<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        ranked: &[String],
    ) -> Result<Option<String>, DbErr> {
        if ranked.is_empty() {
            return Ok(None);
        }
        let row = db
            .query_one_raw(stmt(
                "SELECT a.id FROM unnest($2::text[]) WITH ORDINALITY AS r(id, ord) \
                 JOIN agents a ON a.org_id = $1 AND a.id = r.id \
                 ORDER BY r.ord LIMIT 1 FOR UPDATE OF a SKIP LOCKED",
                [org.into(), text_array(ranked)],
            ))
            .await?;
        row.map(|r| r.try_get::<String>("", "id")).transpose()
    }

    /// Registers an agent if unknown (TEN-1); returns whether it was new.
    pub async fn insert<C: ConnectionTrait>(db: &C, a: &NewAgent<'_>) -> Result<bool, DbErr> {
        let fresh = db
            .execute_raw(stmt(
                "INSERT INTO agents (org_id, id, display_name, initials, skills, capacities) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                a.profile(),
            ))
            .await?
            .rows_affected()
            == 1;
        if fresh {
            Self::set_queues(db, a.org_id, a.id, a.queue_ids).await?;
        }
        Ok(fresh)
    }

    /// Updates the profile of an existing agent.
    pub async fn update_profile<C: ConnectionTrait>(db: &C, a: &NewAgent<'_>) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "UPDATE agents SET display_name = $3, initials = $4, skills = $5, capacities = $6 WHERE org_id = $1 AND id = $2",
            a.profile(),
        ))
        .await?;
        Self::set_queues(db, a.org_id, a.id, a.queue_ids).await
    }

    /// Replaces the agent's queue memberships.
    pub async fn set_queues<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: &str,
        queues: &[Uuid],
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "DELETE FROM queue_members WHERE org_id = $1 AND agent_id = $2 AND NOT (queue_id = ANY($3))",
            [org.into(), id.into(), super::uuid_array(queues)],
        ))
        .await?;
        db.execute_raw(stmt(
            "INSERT INTO queue_members (org_id, queue_id, agent_id) SELECT $1, unnest($3::uuid[]), $2 ON CONFLICT DO NOTHING",
            [org.into(), id.into(), super::uuid_array(queues)],
        ))
        .await?;
        Ok(())
    }

    /// Which of `ids` are agents of the org.
    pub async fn existing<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        ids: &[String],
    ) -> Result<Vec<String>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT id FROM agents WHERE org_id = $1 AND id = ANY($2)",
                [org.into(), text_array(ids)],
            ))
            .await?;
        rows.iter().map(|r| r.try_get::<String>("", "id")).collect()
    }

    /// Sets the state (clearing any next state); returns the previous
    /// state, `None` when the agent is unknown. Becoming AVAILABLE restarts
    /// the idle clock of longest-idle routing.
    pub async fn set_state<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: &str,
        change: &StateChange,
    ) -> Result<Option<i32>, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "UPDATE agents a SET state = $3, away_reason = $4, next_state = NULL, next_away_reason = '', \
                   state_since = CASE WHEN a.state = $3 THEN a.state_since ELSE now() END, \
                   idle_since = CASE WHEN $3 = 'available' AND a.state <> 'available' THEN now() ELSE a.idle_since END \
                 FROM (SELECT state AS old_state FROM agents WHERE org_id = $1 AND id = $2 FOR UPDATE) old \
                 WHERE a.org_id = $1 AND a.id = $2 RETURNING old.old_state",
                [org.into(), id.into(), label(change.to).into(), change.away_reason.as_str().into()],
            ))
            .await?;
        row.map(|r| wire_state(&r.try_get::<String>("", "old_state")?))
            .transpose()
    }

    /// Puts an AVAILABLE agent in RONA (RTG-5); returns whether it changed.
    pub async fn to_rona<C: ConnectionTrait>(db: &C, org: Uuid, id: &str) -> Result<bool, DbErr> {
        let st = stmt(
            "UPDATE agents SET state = 'rona', away_reason = '', state_since = now() WHERE org_id = $1 AND id = $2 AND state = 'available'",
            [org.into(), id.into()],
        );
        changed_one(db, st).await
    }

    /// Records the next state (RTG-14).
    pub async fn set_next_state<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: &str,
        next: Option<&StateChange>,
    ) -> Result<bool, DbErr> {
        let (state, reason) = next.map_or((None, String::new()), |c| {
            (Some(label(c.to)), c.away_reason.as_str().to_owned())
        });
        let st = stmt(
            "UPDATE agents SET next_state = $3, next_away_reason = $4 WHERE org_id = $1 AND id = $2",
            [org.into(), id.into(), state.into(), reason.into()],
        );
        changed_one(db, st).await
    }

    /// Applies a pending next state once the agent's load is zero (RTG-14);
    /// returns (from, to, reason) when it applied.
    pub async fn apply_next_state_if_idle<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: &str,
    ) -> Result<Option<(i32, i32, String)>, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "UPDATE agents a SET state = a.next_state, away_reason = a.next_away_reason, next_state = NULL, \
                   next_away_reason = '', state_since = now() \
                 FROM (SELECT state AS old_state FROM agents WHERE org_id = $1 AND id = $2 FOR UPDATE) old \
                 WHERE a.org_id = $1 AND a.id = $2 AND a.next_state IS NOT NULL AND agent_load($1, $2) = 0 \
                 RETURNING old.old_state, a.state, a.away_reason",
                [org.into(), id.into()],
            ))
            .await?;
        row.map(|r| {
            Ok((
                wire_state(&r.try_get::<String>("", "old_state")?)?,
                wire_state(&r.try_get::<String>("", "state")?)?,
                r.try_get("", "away_reason")?,
            ))
        })
        .transpose()
    }

    /// Restarts the idle clock (an assignment or a finished wrap-up).
    pub async fn touch_idle<C: ConnectionTrait>(db: &C, org: Uuid, id: &str) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "UPDATE agents SET idle_since = now() WHERE org_id = $1 AND id = $2",
            [org.into(), id.into()],
        ))
        .await?;
        Ok(())
    }

    /// Records that offers went to these agents (round-robin order).
    pub async fn mark_offered<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        ids: &[String],
    ) -> Result<(), DbErr> {
        if ids.is_empty() {
            return Ok(());
        }
        db.execute_raw(stmt(
            "UPDATE agents SET last_offered_at = clock_timestamp() WHERE org_id = $1 AND id = ANY($2)",
            [org.into(), text_array(ids)],
        ))
        .await?;
        Ok(())
    }

    /// AVAILABLE members of `queue` with room on some channel, as routing
    /// candidates (exclusions are per conversation: the router sets them).
    /// The loads of the whole org are counted in one pass rather than per
    /// agent, per channel of the conversations (RTG-2).
    pub async fn candidates<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Uuid,
    ) -> Result<Vec<Candidate>, DbErr> {
        let rows = CandidateRow::find_by_statement(stmt(
            "WITH x AS (SELECT agent_id, conversation_id FROM offers WHERE org_id = $1 AND status = 'pending' \
                 UNION ALL SELECT agent_id, conversation_id FROM legs WHERE org_id = $1 AND status <> 'done'), \
             l AS (SELECT y.agent_id, ARRAY[count(*) FILTER (WHERE y.ch = 1), count(*) FILTER (WHERE y.ch = 2), \
                 count(*) FILTER (WHERE y.ch = 3), count(*) FILTER (WHERE y.ch = 4), count(*) FILTER (WHERE y.ch = 5)] AS loads \
               FROM (SELECT x.agent_id, routing_channel(e.channel) AS ch FROM x \
                 LEFT JOIN queue_entries e ON e.conversation_id = x.conversation_id) y GROUP BY y.agent_id) \
             SELECT a.id AS agent_id, a.state, a.next_state, a.skills, a.capacities, a.idle_since, \
               a.last_offered_at, COALESCE(l.loads, '{0,0,0,0,0}'::bigint[]) AS loads, true AS member \
             FROM agents a JOIN queue_members m ON m.org_id = a.org_id AND m.agent_id = a.id \
               LEFT JOIN l ON l.agent_id = a.id \
             WHERE a.org_id = $1 AND m.queue_id = $2 AND a.state = 'available' AND a.next_state IS NULL \
               AND EXISTS (SELECT 1 FROM generate_series(1, 5) s(ch) \
                 WHERE COALESCE(l.loads[s.ch], 0) < a.capacities[s.ch])",
            [org.into(), queue.into()],
        ))
        .all(db)
        .await?;
        Ok(rows
            .into_iter()
            .map(Candidate::try_from)
            .collect::<Result<_, _>>()?)
    }

    /// One member of `queue` as a routing candidate, read in a fresh
    /// statement: the re-check after locking the agent, which sees every
    /// offer committed before the lock was obtained.
    pub async fn member_candidate<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Uuid,
        id: &str,
    ) -> Result<Option<Candidate>, DbErr> {
        let row = CandidateRow::find_by_statement(stmt(
            "SELECT a.id AS agent_id, a.state, a.next_state, a.skills, a.capacities, a.idle_since, a.last_offered_at, \
               agent_channel_loads(a.org_id, a.id) AS loads, \
               EXISTS (SELECT 1 FROM queue_members m WHERE m.queue_id = $2 AND m.agent_id = a.id AND m.org_id = a.org_id) AS member \
             FROM agents a WHERE a.org_id = $1 AND a.id = $3",
            [org.into(), queue.into(), id.into()],
        ))
        .one(db)
        .await?;
        Ok(row.map(Candidate::try_from).transpose()?)
    }

    /// One agent as a candidate for a direct offer (RTG-7, RTG-8), read in
    /// a fresh statement: call it after locking the agent.
    pub async fn candidate<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: &str,
    ) -> Result<Option<Candidate>, DbErr> {
        let row = CandidateRow::find_by_statement(stmt(
            "SELECT a.id AS agent_id, a.state, a.next_state, a.skills, a.capacities, a.idle_since, a.last_offered_at, \
               agent_channel_loads(a.org_id, a.id) AS loads, false AS member \
             FROM agents a WHERE a.org_id = $1 AND a.id = $2",
            [org.into(), id.into()],
        ))
        .one(db)
        .await?;
        Ok(row.map(Candidate::try_from).transpose()?)
    }

    /// Deletes an agent (RTG-11); memberships go with it.
    pub async fn delete<C: ConnectionTrait>(db: &C, org: Uuid, id: &str) -> Result<bool, DbErr> {
        changed_one(
            db,
            stmt(
                "DELETE FROM agents WHERE org_id = $1 AND id = $2",
                [org.into(), id.into()],
            ),
        )
        .await
    }

    /// Agents ordered by id after the cursor `after`, optionally filtered.
    pub async fn list<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Option<Uuid>,
        state: Option<AgentState>,
        after: Option<String>,
        limit: u64,
    ) -> Result<Vec<AgentRow>, DbErr> {
        let st = stmt(
            &format!(
                "SELECT {COLUMNS} FROM agents a WHERE a.org_id = $1 \
                 AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM queue_members m WHERE m.queue_id = $2 AND m.agent_id = a.id AND m.org_id = a.org_id)) \
                 AND ($3::text IS NULL OR a.state = $3) \
                 AND ($4::text IS NULL OR a.id > $4) \
                 ORDER BY a.id LIMIT $5"
            ),
            [
                org.into(),
                queue.into(),
                state.map(label).into(),
                after.into(),
                (limit as i64).into(),
            ],
        );
        all_checked::<StoredAgent, _, _>(db, st).await
    }
}
