//! Queries on `requests`, `conversations`, `conversation_identities` and
//! `participants`.
//!
//! Correctness lives here: the partial unique index on live identities
//! makes two live conversations of one customer on one channel impossible
//! (CNV-2), and every status change is a conditional UPDATE on the current
//! status, so concurrent ends, assignments and blocks apply once.
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use livedesk_proto::common::v1::{Channel, IdentityKind};
use livedesk_proto::conversations::v1 as pb;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, QueryResult, Value};
use uuid::Uuid;

use super::{bind_label, bind_labels, read_label, text_array};
use crate::domain::labels::{ended_by_label, request_status_label, status_label};
use crate::domain::{EndedBy, Qualification, RequestStatus, Status};

/// One conversation with its identities and participants. Enum columns
/// are stored as labels (`domain::labels`) and held here as their wire
/// numbers; an unknown stored label fails the read.
#[derive(Debug, Clone)]
pub struct ConvRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub request_id: Uuid,
    pub channel: i32,
    pub queue_id: Uuid,
    pub status: i32,
    pub priority: i32,
    pub customer_principal_id: String,
    pub customer_name: String,
    pub customer_email: String,
    pub customer_phone: String,
    pub ip_address: String,
    pub proactive: bool,
    pub assigned_agent_id: Option<String>,
    pub ended_by: i32,
    pub ended_by_principal_id: String,
    pub request_status_at_end: i32,
    pub qual_tags: Vec<String>,
    pub qual_reason: String,
    pub qual_note: String,
    pub last_sequence: i64,
    pub message_count: i32,
    pub created_at: DateTime<Utc>,
    pub queued_at: DateTime<Utc>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub last_activity_at: DateTime<Utc>,
    /// RTG-11: a queue or agent was deleted; the conversation can only end.
    pub interrupted: bool,
    /// CNV-12: who paused it, preferred when it resumes.
    pub paused_by_agent_id: Option<String>,
    pub identities: Vec<(i32, String)>,
    /// `(principal_id, role, display_name, active)`.
    pub participants: Vec<(String, String, String, bool)>,
}

impl FromQueryResult for ConvRow {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            id: res.try_get(pre, "id")?,
            org_id: res.try_get(pre, "org_id")?,
            request_id: res.try_get(pre, "request_id")?,
            channel: read_label::<Channel>(res, pre, "channel", "conversations.channel")?,
            queue_id: res.try_get(pre, "queue_id")?,
            status: read_label::<pb::ConversationStatus>(
                res,
                pre,
                "status",
                "conversations.status",
            )?,
            priority: read_label::<pb::Priority>(res, pre, "priority", "conversations.priority")?,
            customer_principal_id: res.try_get(pre, "customer_principal_id")?,
            customer_name: res.try_get(pre, "customer_name")?,
            customer_email: res.try_get(pre, "customer_email")?,
            customer_phone: res.try_get(pre, "customer_phone")?,
            ip_address: res.try_get(pre, "ip_address")?,
            proactive: res.try_get(pre, "proactive")?,
            assigned_agent_id: res.try_get(pre, "assigned_agent_id")?,
            ended_by: read_label::<pb::EndedBy>(res, pre, "ended_by", "conversations.ended_by")?,
            ended_by_principal_id: res.try_get(pre, "ended_by_principal_id")?,
            request_status_at_end: read_label::<pb::RequestStatus>(
                res,
                pre,
                "request_status_at_end",
                "conversations.request_status_at_end",
            )?,
            qual_tags: res.try_get(pre, "qual_tags")?,
            qual_reason: res.try_get(pre, "qual_reason")?,
            qual_note: res.try_get(pre, "qual_note")?,
            last_sequence: res.try_get(pre, "last_sequence")?,
            message_count: res.try_get(pre, "message_count")?,
            created_at: res.try_get(pre, "created_at")?,
            queued_at: res.try_get(pre, "queued_at")?,
            assigned_at: res.try_get(pre, "assigned_at")?,
            first_response_at: res.try_get(pre, "first_response_at")?,
            ended_at: res.try_get(pre, "ended_at")?,
            last_activity_at: res.try_get(pre, "last_activity_at")?,
            interrupted: res.try_get(pre, "interrupted")?,
            paused_by_agent_id: res.try_get(pre, "paused_by_agent_id")?,
            identities: Vec::new(),
            participants: Vec::new(),
        })
    }
}

impl ConvRow {
    /// The status as a domain value; an unknown stored number is corrupt
    /// (fail closed: never read as some status).
    pub fn status(&self) -> Result<Status, crate::error::Error> {
        Status::from_i32(self.status).ok_or_else(|| {
            crate::error::Error::Corrupt(format!(
                "conversation {} has status {}",
                self.id, self.status
            ))
        })
    }

    /// Whether `principal` is a participant, active or not.
    pub fn has_participant(&self, principal: &str) -> bool {
        self.participants.iter().any(|(p, ..)| p == principal)
    }

    /// Whether `principal` is an active agent participant.
    pub fn is_active_agent(&self, principal: &str) -> bool {
        self.participants
            .iter()
            .any(|(p, role, _, active)| p == principal && role == "agent" && *active)
    }

    /// Active agents of the conversation.
    pub fn active_agents(&self) -> Vec<String> {
        self.participants
            .iter()
            .filter(|(_, r, _, a)| r == "agent" && *a)
            .map(|(p, ..)| p.clone())
            .collect()
    }

    /// Every agent who took part.
    pub fn all_agents(&self) -> Vec<String> {
        self.participants
            .iter()
            .filter(|(_, r, ..)| r == "agent")
            .map(|(p, ..)| p.clone())
            .collect()
    }
}

/// What a new conversation records.
#[derive(Debug, Clone)]
pub struct NewConversation {
    pub id: Uuid,
    pub org_id: Uuid,
    pub request_id: Uuid,
    pub channel: i32,
    pub queue_id: Uuid,
    pub priority: i32,
    pub customer_principal_id: String,
    pub customer_name: String,
    pub customer_email: String,
    pub customer_phone: String,
    pub ip_address: String,
    pub proactive: bool,
    pub identities: Vec<(i32, String)>,
    pub client_request_id: Option<String>,
}

/// How a conversation ends.
#[derive(Debug, Clone)]
pub struct EndChange {
    pub status: Status,
    pub ended_by: EndedBy,
    pub by: String,
    pub request_status: RequestStatus,
    pub qualification: Qualification,
}

pub(super) const COLUMNS: &str = "c.id, c.org_id, c.request_id, c.channel, c.queue_id, c.status, c.priority, c.customer_principal_id, \
     c.customer_name, c.customer_email, c.customer_phone, c.ip_address, c.proactive, c.assigned_agent_id, c.ended_by, \
     c.ended_by_principal_id, c.request_status_at_end, c.qual_tags, c.qual_reason, c.qual_note, c.last_sequence, \
     c.message_count, c.created_at, c.queued_at, c.assigned_at, c.first_response_at, c.ended_at, c.last_activity_at, \
     c.interrupted, c.paused_by_agent_id";

fn live() -> Value {
    text_array(&Status::LIVE.map(|s| status_label(s).to_owned()))
}

/// The live statuses as a query parameter.
pub(crate) fn live_statuses() -> Value {
    live()
}

/// Conversation queries.
pub struct Conversations;

impl Conversations {
    /// The conversation a retried StartConversation created (TEN-5).
    pub async fn by_client_request<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        key: &str,
    ) -> Result<Option<ConvRow>, DbErr> {
        let row = ConvRow::find_by_statement(stmt(
            &format!("SELECT {COLUMNS} FROM conversations c WHERE c.org_id = $1 AND c.client_request_id = $2"),
            [org.into(), key.to_owned().into()],
        ))
        .one(db)
        .await?;
        Self::complete(db, row).await
    }

    /// The live conversation of any of these identities on `channel` (CNV-2).
    pub async fn live_for<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        channel: i32,
        identities: &[(i32, String)],
    ) -> Result<Option<Uuid>, DbErr> {
        let kinds: Vec<i32> = identities.iter().map(|(k, _)| *k).collect();
        let values: Vec<String> = identities.iter().map(|(_, v)| v.clone()).collect();
        let row = db
            .query_one_raw(stmt(
                "SELECT i.conversation_id FROM conversation_identities i \
                 JOIN unnest($3::text[], $4::text[]) AS q(kind, value) ON i.kind = q.kind AND i.value = q.value \
                 WHERE i.org_id = $1 AND i.channel = $2 AND i.live LIMIT 1",
                [
                    org.into(),
                    bind_label::<Channel>("conversation_identities.channel", channel)?,
                    bind_labels::<IdentityKind>("conversation_identities.kind", &kinds)?,
                    text_array(&values),
                ],
            ))
            .await?;
        row.map(|r| r.try_get::<Uuid>("", "conversation_id"))
            .transpose()
    }

    /// The customer's latest request that is not CLOSED (CNV-8).
    pub async fn open_request<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        customer: &str,
    ) -> Result<Option<Uuid>, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT id FROM requests WHERE org_id = $1 AND customer_principal_id = $2 AND status <> $3 \
                 ORDER BY created_at DESC LIMIT 1",
                [org.into(), customer.to_owned().into(), request_status_label(RequestStatus::Closed).into()],
            ))
            .await?;
        row.map(|r| r.try_get::<Uuid>("", "id")).transpose()
    }

    /// Opens a request for the customer.
    pub async fn insert_request<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        customer: &str,
        priority: i32,
    ) -> Result<Uuid, DbErr> {
        let id = Uuid::now_v7();
        db.execute_raw(stmt(
            "INSERT INTO requests (id, org_id, customer_principal_id, priority) VALUES ($1, $2, $3, $4)",
            [
                id.into(),
                org.into(),
                customer.to_owned().into(),
                bind_label::<pb::Priority>("requests.priority", priority)?,
            ],
        ))
        .await?;
        Ok(id)
    }

    /// Inserts a QUEUED conversation, its identities and its customer
    /// participant. Returns `false` when an identity already has a live
    /// conversation on this channel or the idempotency key was used: the
    /// caller rolls back and returns the existing one.
    pub async fn insert<C: ConnectionTrait>(db: &C, c: &NewConversation) -> Result<bool, DbErr> {
        let inserted = db
            .execute_raw(stmt(
                "INSERT INTO conversations (id, org_id, request_id, channel, queue_id, status, priority, customer_principal_id, \
                   customer_name, customer_email, customer_phone, ip_address, proactive, client_request_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING",
                [
                    c.id.into(),
                    c.org_id.into(),
                    c.request_id.into(),
                    bind_label::<Channel>("conversations.channel", c.channel)?,
                    c.queue_id.into(),
                    status_label(Status::Queued).into(),
                    bind_label::<pb::Priority>("conversations.priority", c.priority)?,
                    c.customer_principal_id.clone().into(),
                    c.customer_name.clone().into(),
                    c.customer_email.clone().into(),
                    c.customer_phone.clone().into(),
                    c.ip_address.clone().into(),
                    c.proactive.into(),
                    c.client_request_id.clone().into(),
                ],
            ))
            .await?
            .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        for (kind, value) in &c.identities {
            // Waits for a concurrent insert of the same live identity to
            // commit, then does nothing: exactly one of two double submits wins.
            let n = db
                .execute_raw(stmt(
                    "INSERT INTO conversation_identities (conversation_id, org_id, channel, kind, value) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    [
                        c.id.into(),
                        c.org_id.into(),
                        bind_label::<Channel>("conversation_identities.channel", c.channel)?,
                        bind_label::<IdentityKind>("conversation_identities.kind", *kind)?,
                        value.clone().into(),
                    ],
                ))
                .await?
                .rows_affected();
            if n == 0 {
                return Ok(false);
            }
        }
        Self::upsert_participant(
            db,
            c.org_id,
            c.id,
            &c.customer_principal_id,
            "customer",
            &c.customer_name,
        )
        .await?;
        Ok(true)
    }

    /// Adds (or reactivates) a participant.
    pub async fn upsert_participant<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation_id: Uuid,
        principal: &str,
        role: &str,
        name: &str,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO participants (conversation_id, org_id, principal_id, role, display_name) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (conversation_id, principal_id) DO UPDATE SET active = true, \
               display_name = CASE WHEN EXCLUDED.display_name = '' THEN participants.display_name ELSE EXCLUDED.display_name END",
            [conversation_id.into(), org.into(), principal.to_owned().into(), role.to_owned().into(), name.to_owned().into()],
        ))
        .await?;
        Ok(())
    }

    /// One conversation of the org.
    pub async fn get<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<ConvRow>, DbErr> {
        let row = ConvRow::find_by_statement(stmt(
            &format!("SELECT {COLUMNS} FROM conversations c WHERE c.org_id = $1 AND c.id = $2"),
            [org.into(), id.into()],
        ))
        .one(db)
        .await?;
        Self::complete(db, row).await
    }

    /// One conversation, row-locked until the transaction ends (messages
    /// take their sequence under this lock).
    pub async fn lock<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<ConvRow>, DbErr> {
        let row = ConvRow::find_by_statement(stmt(
            &format!(
                "SELECT {COLUMNS} FROM conversations c WHERE c.org_id = $1 AND c.id = $2 FOR UPDATE"
            ),
            [org.into(), id.into()],
        ))
        .one(db)
        .await?;
        Self::complete(db, row).await
    }

    pub(super) async fn complete<C: ConnectionTrait>(
        db: &C,
        row: Option<ConvRow>,
    ) -> Result<Option<ConvRow>, DbErr> {
        let Some(mut row) = row else { return Ok(None) };
        let ids = db
            .query_all_raw(stmt(
                "SELECT kind, value FROM conversation_identities WHERE conversation_id = $1",
                [row.id.into()],
            ))
            .await?;
        row.identities = ids
            .iter()
            .map(|r| {
                Ok((
                    read_label::<IdentityKind>(r, "", "kind", "conversation_identities.kind")?,
                    r.try_get("", "value")?,
                ))
            })
            .collect::<Result<_, DbErr>>()?;
        // In the order of the wire numbers, as before they were labels.
        row.identities.sort();
        let ps = db
            .query_all_raw(stmt(
                "SELECT principal_id, role, display_name, active FROM participants WHERE conversation_id = $1 ORDER BY joined_at, principal_id",
                [row.id.into()],
            ))
            .await?;
        row.participants = ps
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("", "principal_id")?,
                    r.try_get("", "role")?,
                    r.try_get("", "display_name")?,
                    r.try_get("", "active")?,
                ))
            })
            .collect::<Result<_, DbErr>>()?;
        Ok(Some(row))
    }

    /// Makes `agent` the owner of a live conversation (RTG assignment):
    /// ACTIVE, the agent an active participant, the previous owner not
    /// (`previous` after a transfer to an agent, RTG-7: only that agent
    /// leaves, a conference guest stays). Returns whether anything changed.
    pub async fn assign<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        agent: &str,
        name: &str,
        at: DateTime<Utc>,
        previous: Option<&str>,
    ) -> Result<bool, DbErr> {
        let changed = db
            .execute_raw(stmt(
                "UPDATE conversations SET status = $3, assigned_agent_id = $4, assigned_at = COALESCE(assigned_at, $5), \
                   last_activity_at = now() \
                 WHERE org_id = $1 AND id = $2 AND status = ANY($6) AND assigned_agent_id IS DISTINCT FROM $4",
                [org.into(), id.into(), status_label(Status::Active).into(), agent.to_owned().into(), at.into(), live()],
            ))
            .await?
            .rows_affected()
            == 1;
        if changed {
            match previous {
                Some(p) if p != agent => Self::deactivate(db, id, p).await?,
                Some(_) => {}
                None => {
                    db.execute_raw(stmt(
                        "UPDATE participants SET active = false WHERE conversation_id = $1 AND role = 'agent' AND principal_id <> $2",
                        [id.into(), agent.to_owned().into()],
                    ))
                    .await?;
                }
            }
            Self::upsert_participant(db, org, id, agent, "agent", name).await?;
        }
        Ok(changed)
    }

    /// Ends a live conversation; `None` when it was not live (ended twice,
    /// or never existed). Frees its identities for a new conversation and
    /// applies the chosen request status (CNV-8).
    pub async fn end<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        e: &EndChange,
    ) -> Result<Option<ConvRow>, DbErr> {
        let n = db
            .execute_raw(stmt(
                "UPDATE conversations SET status = $3, ended_by = $4, ended_by_principal_id = $5, request_status_at_end = $6, \
                   qual_tags = $7, qual_reason = $8, qual_note = $9, ended_at = now(), last_activity_at = now() \
                 WHERE org_id = $1 AND id = $2 AND status = ANY($10)",
                [
                    org.into(),
                    id.into(),
                    status_label(e.status).into(),
                    ended_by_label(e.ended_by).into(),
                    e.by.clone().into(),
                    request_status_label(e.request_status).into(),
                    text_array(&e.qualification.tags),
                    e.qualification.contact_reason.clone().into(),
                    e.qualification.note.clone().into(),
                    live(),
                ],
            ))
            .await?
            .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        db.execute_raw(stmt(
            "UPDATE conversation_identities SET live = false WHERE conversation_id = $1",
            [id.into()],
        ))
        .await?;
        db.execute_raw(stmt("UPDATE participants SET active = false WHERE conversation_id = $1 AND role <> 'customer'", [id.into()]))
            .await?;
        db.execute_raw(stmt(
            "UPDATE requests SET status = $3, updated_at = now(), \
               contact_reason = CASE WHEN $4 = '' THEN contact_reason ELSE $4 END, \
               tags = ARRAY(SELECT DISTINCT unnest(tags || $5::text[])) \
             WHERE org_id = $1 AND id = (SELECT request_id FROM conversations WHERE id = $2)",
            [
                org.into(),
                id.into(),
                request_status_label(e.request_status).into(),
                e.qualification.contact_reason.clone().into(),
                text_array(&e.qualification.tags),
            ],
        ))
        .await?;
        Self::get(db, org, id).await
    }
}
