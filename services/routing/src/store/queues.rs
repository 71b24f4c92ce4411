//! Queues and their members (RTG-3, RTG-10).
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use livedesk_platform::defaults::default_queue_id;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

use super::{all_checked, one_checked, text_array};
use super::{changed_one, uuids};
use crate::domain::{QueueSpec, Strategy, TransferFailurePolicy, UnknownLabel};
use livedesk_platform::labels::{label, parse_label};

/// One queue with its members, its enums parsed.
#[derive(Debug, Clone)]
pub struct QueueRow {
    pub id: Uuid,
    pub name: String,
    pub strategy: Strategy,
    pub offer_timeout_seconds: i32,
    pub required_skills: Vec<String>,
    pub max_wait_seconds: i32,
    pub transfer_failure_policy: TransferFailurePolicy,
    pub offer_form_after_seconds: i32,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub member_agent_ids: Vec<String>,
}

/// A queue as stored: enums as their stored names.
#[derive(FromQueryResult)]
struct StoredQueue {
    id: Uuid,
    name: String,
    strategy: String,
    offer_timeout_seconds: i32,
    required_skills: Vec<String>,
    max_wait_seconds: i32,
    transfer_failure_policy: String,
    offer_form_after_seconds: i32,
    is_default: bool,
    created_at: DateTime<Utc>,
    member_agent_ids: Vec<String>,
}

impl TryFrom<StoredQueue> for QueueRow {
    type Error = UnknownLabel;

    fn try_from(s: StoredQueue) -> Result<Self, UnknownLabel> {
        Ok(Self {
            id: s.id,
            name: s.name,
            strategy: parse_label::<Strategy>("queues.strategy", &s.strategy)?,
            offer_timeout_seconds: s.offer_timeout_seconds,
            required_skills: s.required_skills,
            max_wait_seconds: s.max_wait_seconds,
            transfer_failure_policy: parse_label::<TransferFailurePolicy>(
                "queues.transfer_failure_policy",
                &s.transfer_failure_policy,
            )?,
            offer_form_after_seconds: s.offer_form_after_seconds,
            is_default: s.is_default,
            created_at: s.created_at,
            member_agent_ids: s.member_agent_ids,
        })
    }
}

const COLUMNS: &str = "q.id, q.org_id, q.name, q.strategy, q.offer_timeout_seconds, q.required_skills, \
     q.max_wait_seconds, q.transfer_failure_policy, q.offer_form_after_seconds, q.is_default, q.created_at, \
     COALESCE((SELECT array_agg(m.agent_id ORDER BY m.agent_id) FROM queue_members m WHERE m.queue_id = q.id), '{}'::text[]) AS member_agent_ids";

/// The settings of a queue as statement values `$3` to `$10` (name,
/// strategy, offer timeout, skills, schedule, max wait, transfer failure
/// policy, offline-form delay), shared by insert and update.
fn settings(spec: &QueueSpec, schedule_id: Option<Uuid>) -> [sea_orm::Value; 8] {
    [
        spec.name.as_str().into(),
        label(spec.strategy).into(),
        (spec.offer_timeout.seconds() as i32).into(),
        text_array(&spec.required_skills),
        schedule_id.into(),
        (spec.max_wait.seconds() as i32).into(),
        label(spec.transfer_failure_policy).into(),
        (spec.offer_form_after_seconds as i32).into(),
    ]
}

/// Staffing of a queue (RTG-10).
#[derive(Debug, Clone, FromQueryResult)]
pub struct QueueStatusRow {
    pub available_agents: i64,
    pub waiting: i64,
    pub oldest_wait_seconds: i64,
}

/// Queue queries.
pub struct Queues;

impl Queues {
    /// Creates the org's default queue "General" if missing (TEN-1).
    pub async fn ensure_default<C: ConnectionTrait>(db: &C, org: Uuid) -> Result<Uuid, DbErr> {
        let id = default_queue_id(org);
        db.execute_raw(stmt(
            "INSERT INTO queues (id, org_id, name, is_default) VALUES ($1, $2, 'General', true) ON CONFLICT DO NOTHING",
            [id.into(), org.into()],
        ))
        .await?;
        Ok(id)
    }

    /// Inserts a queue; `None` when the idempotency key was already used.
    pub async fn insert<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        spec: &QueueSpec,
        schedule_id: Option<Uuid>,
        key: Option<&str>,
    ) -> Result<Option<Uuid>, DbErr> {
        let id = Uuid::now_v7();
        let n = db
            .execute_raw(stmt(
                "INSERT INTO queues (id, org_id, name, strategy, offer_timeout_seconds, required_skills, schedule_id, \
                   max_wait_seconds, transfer_failure_policy, offer_form_after_seconds, client_request_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
                [id.into(), org.into()]
                    .into_iter()
                    .chain(settings(spec, schedule_id))
                    .chain([key.map(str::to_owned).into()]),
            ))
            .await?
            .rows_affected();
        Ok((n == 1).then_some(id))
    }

    /// Replaces a queue's settings; returns whether it exists.
    pub async fn update<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        spec: &QueueSpec,
        schedule_id: Option<Uuid>,
    ) -> Result<bool, DbErr> {
        let st = stmt(
            "UPDATE queues SET name = $3, strategy = $4, offer_timeout_seconds = $5, required_skills = $6, schedule_id = $7, \
               max_wait_seconds = $8, transfer_failure_policy = $9, offer_form_after_seconds = $10 WHERE org_id = $1 AND id = $2",
            [org.into(), id.into()]
                .into_iter()
                .chain(settings(spec, schedule_id)),
        );
        changed_one(db, st).await
    }

    /// The queue created by a retried request (TEN-5).
    pub async fn by_client_request<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        key: &str,
    ) -> Result<Option<QueueRow>, DbErr> {
        one_checked::<StoredQueue, _, _>(
            db,
            stmt(
                &format!(
                    "SELECT {COLUMNS} FROM queues q WHERE q.org_id = $1 AND q.client_request_id = $2"
                ),
                [org.into(), key.into()],
            ),
        )
        .await
    }

    /// One queue of the org.
    pub async fn get<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<QueueRow>, DbErr> {
        one_checked::<StoredQueue, _, _>(
            db,
            stmt(
                &format!("SELECT {COLUMNS} FROM queues q WHERE q.org_id = $1 AND q.id = $2"),
                [org.into(), id.into()],
            ),
        )
        .await
    }

    /// Queues oldest first after the keyset cursor.
    pub async fn list<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u64,
    ) -> Result<Vec<QueueRow>, DbErr> {
        let (at, id) = after.map_or((None, None), |(a, i)| (Some(a), Some(i)));
        all_checked::<StoredQueue, _, _>(
            db,
            stmt(
                &format!(
                    "SELECT {COLUMNS} FROM queues q WHERE q.org_id = $1 \
                     AND ($2::timestamptz IS NULL OR (q.created_at, q.id) > ($2, $3)) \
                     ORDER BY q.created_at, q.id LIMIT $4"
                ),
                [org.into(), at.into(), id.into(), (limit as i64).into()],
            ),
        )
        .await
    }

    /// Deletes a queue (RTG-11); memberships go with it.
    pub async fn delete<C: ConnectionTrait>(db: &C, org: Uuid, id: Uuid) -> Result<bool, DbErr> {
        changed_one(
            db,
            stmt(
                "DELETE FROM queues WHERE org_id = $1 AND id = $2",
                [org.into(), id.into()],
            ),
        )
        .await
    }

    /// Locks a queue row (deletion against concurrent transfers to it).
    pub async fn lock<C: ConnectionTrait>(db: &C, org: Uuid, id: Uuid) -> Result<bool, DbErr> {
        Ok(db
            .query_one_raw(stmt(
                "SELECT id FROM queues WHERE org_id = $1 AND id = $2 FOR UPDATE",
                [org.into(), id.into()],
            ))
            .await?
            .is_some())
    }

    /// Which of `ids` are queues of the org.
    pub async fn existing<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<Uuid>, DbErr> {
        uuids(
            db,
            stmt(
                "SELECT id FROM queues WHERE org_id = $1 AND id = ANY($2)",
                [org.into(), super::uuid_array(ids)],
            ),
            "id",
        )
        .await
    }

    /// Replaces the members of a queue with `agent_ids` (all known agents).
    pub async fn set_members<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Uuid,
        agent_ids: &[String],
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "DELETE FROM queue_members WHERE org_id = $1 AND queue_id = $2 AND NOT (agent_id = ANY($3))",
            [org.into(), queue.into(), text_array(agent_ids)],
        ))
        .await?;
        db.execute_raw(stmt(
            "INSERT INTO queue_members (org_id, queue_id, agent_id) SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING",
            [org.into(), queue.into(), text_array(agent_ids)],
        ))
        .await?;
        Ok(())
    }

    /// Staffing and load of a queue (RTG-10): AWAY, RONA and OFFLINE
    /// members do not count as available.
    pub async fn status<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        queue: Uuid,
    ) -> Result<QueueStatusRow, DbErr> {
        let row = QueueStatusRow::find_by_statement(stmt(
            "SELECT \
               (SELECT count(*) FROM queue_members m JOIN agents a ON a.org_id = m.org_id AND a.id = m.agent_id \
                 WHERE m.org_id = $1 AND m.queue_id = $2 AND a.state = 'available') AS available_agents, \
               (SELECT count(*) FROM queue_entries e WHERE e.org_id = $1 AND e.queue_id = $2 AND e.status = 'queued') AS waiting, \
               COALESCE((SELECT EXTRACT(EPOCH FROM now() - min(e.enqueued_at))::bigint FROM queue_entries e \
                 WHERE e.org_id = $1 AND e.queue_id = $2 AND e.status = 'queued'), 0) AS oldest_wait_seconds",
            [org.into(), queue.into()],
        ))
        .one(db)
        .await?;
        Ok(row.unwrap_or(QueueStatusRow {
            available_agents: 0,
            waiting: 0,
            oldest_wait_seconds: 0,
        }))
    }

    /// Queues of any org with conversations waiting and no pending offer
    /// (the periodic routing sweep, RTG-6).
    pub async fn with_unoffered_waiting<C: ConnectionTrait>(
        db: &C,
        limit: u64,
    ) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT DISTINCT e.org_id, e.queue_id FROM queue_entries e WHERE e.status = 'queued' \
                 AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.conversation_id = e.conversation_id AND o.status = 'pending') LIMIT $1",
                [(limit as i64).into()],
            ))
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("", "org_id")?, r.try_get("", "queue_id")?)))
            .collect()
    }
}
