//! Queries on `requests` and `contacts` (CNV-1, CNV-7, CNV-15).
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use livedesk_proto::conversations::v1 as pb;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, QueryResult, Value};
use uuid::Uuid;

use super::{bind_label, filter_label, read_label, text_array};
use crate::domain::labels::request_status_label;
use crate::domain::{ContactQuery, RequestStatus};

/// One request with its contact and conversations. `status` and
/// `priority` are stored as labels (`domain::labels`) and held here as
/// their wire numbers; an unknown stored label fails the read.
#[derive(Debug, Clone)]
pub struct RequestRow {
    pub id: Uuid,
    pub customer_principal_id: String,
    pub status: i32,
    pub priority: i32,
    pub contact_reason: String,
    pub tags: Vec<String>,
    pub assignee_id: Option<String>,
    pub assignee_initials: String,
    pub contact_id: Option<Uuid>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_created_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub conversation_ids: Vec<Uuid>,
    /// A contact form's custom fields (SCH-6): keys and values in order.
    pub custom_field_keys: Vec<String>,
    pub custom_field_values: Vec<String>,
}

impl FromQueryResult for RequestRow {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            id: res.try_get(pre, "id")?,
            customer_principal_id: res.try_get(pre, "customer_principal_id")?,
            status: read_label::<pb::RequestStatus>(res, pre, "status", "requests.status")?,
            priority: read_label::<pb::Priority>(res, pre, "priority", "requests.priority")?,
            contact_reason: res.try_get(pre, "contact_reason")?,
            tags: res.try_get(pre, "tags")?,
            assignee_id: res.try_get(pre, "assignee_id")?,
            assignee_initials: res.try_get(pre, "assignee_initials")?,
            contact_id: res.try_get(pre, "contact_id")?,
            contact_name: res.try_get(pre, "contact_name")?,
            contact_email: res.try_get(pre, "contact_email")?,
            contact_phone: res.try_get(pre, "contact_phone")?,
            contact_created_at: res.try_get(pre, "contact_created_at")?,
            created_at: res.try_get(pre, "created_at")?,
            updated_at: res.try_get(pre, "updated_at")?,
            conversation_ids: res.try_get(pre, "conversation_ids")?,
            custom_field_keys: res.try_get(pre, "custom_field_keys")?,
            custom_field_values: res.try_get(pre, "custom_field_values")?,
        })
    }
}

/// One contact.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ContactRow {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub created_at: DateTime<Utc>,
}

/// Filters of `ListRequests` (CNV-15).
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub status: Option<i32>,
    pub assignee_id: Option<String>,
    pub tag: Option<String>,
    pub priority: Option<i32>,
    /// Only this customer's (visitors).
    pub customer: Option<String>,
    /// Only requests this agent may see: assigned to them or holding a
    /// conversation they may see (TEN-3).
    pub visible_to_agent: Option<String>,
}

/// Changes of `UpdateRequest`; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct RequestChange {
    pub status: Option<i32>,
    pub priority: Option<i32>,
    pub contact_reason: Option<String>,
    pub tags: Option<Vec<String>>,
}

const SELECT: &str = "SELECT r.id, r.customer_principal_id, r.status, r.priority, r.contact_reason, r.tags, r.assignee_id, \
     r.assignee_initials, r.contact_id, k.name AS contact_name, k.email AS contact_email, k.phone AS contact_phone, \
     k.created_at AS contact_created_at, r.created_at, r.updated_at, r.custom_field_keys, r.custom_field_values, \
     ARRAY(SELECT c.id FROM conversations c WHERE c.request_id = r.id ORDER BY c.created_at, c.id) AS conversation_ids \
     FROM requests r LEFT JOIN contacts k ON k.id = r.contact_id";

/// Request and contact queries.
pub struct Requests;

impl Requests {
    /// One request of the org.
    pub async fn get<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<RequestRow>, DbErr> {
        RequestRow::find_by_statement(stmt(
            &format!("{SELECT} WHERE r.org_id = $1 AND r.id = $2"),
            [org.into(), id.into()],
        ))
        .one(db)
        .await
    }

    /// The request whose id ends with `short` (subject tokens, CNV-14).
    pub async fn by_short_id<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        short: &str,
    ) -> Result<Option<Uuid>, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT id FROM requests WHERE org_id = $1 AND right(replace(id::text, '-', ''), 10) = $2 \
                 ORDER BY created_at DESC LIMIT 1",
                [org.into(), short.to_owned().into()],
            ))
            .await?;
        row.map(|r| r.try_get::<Uuid>("", "id")).transpose()
    }

    /// Lists newest first after the keyset cursor.
    pub async fn list<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        f: &RequestFilter,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u64,
    ) -> Result<Vec<RequestRow>, DbErr> {
        let (at, after_id) = after.map_or((None, None), |(a, i)| (Some(a), Some(i)));
        RequestRow::find_by_statement(stmt(
            &format!(
                "{SELECT} WHERE r.org_id = $1 \
                 AND ($2::text IS NULL OR r.status = $2) \
                 AND ($3::text IS NULL OR r.assignee_id = $3) \
                 AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM unnest(r.tags) t WHERE lower(t) = lower($4))) \
                 AND ($5::text IS NULL OR r.priority = $5) \
                 AND ($6::text IS NULL OR r.customer_principal_id = $6) \
                 AND ($7::timestamptz IS NULL OR (r.created_at, r.id) < ($7, $8)) \
                 AND ($10::text IS NULL OR r.assignee_id = $10 OR EXISTS \
                      (SELECT 1 FROM conversations c WHERE c.request_id = r.id AND {agent_sees}) \
                      OR (NOT EXISTS (SELECT 1 FROM conversations c WHERE c.request_id = r.id) \
                          AND EXISTS (SELECT 1 FROM queue_members m WHERE m.org_id = r.org_id AND m.agent_id = $10 \
                                      AND m.queue_id = $11))) \
                 ORDER BY r.created_at DESC, r.id DESC LIMIT $9",
                agent_sees = super::agent_sees("c", "$10")
            ),
            [
                org.into(),
                f.status.map(filter_label::<pb::RequestStatus>).into(),
                f.assignee_id.clone().into(),
                f.tag.clone().into(),
                f.priority.map(filter_label::<pb::Priority>).into(),
                f.customer.clone().into(),
                at.into(),
                after_id.into(),
                i64::try_from(limit).unwrap_or(50).into(),
                f.visible_to_agent.clone().into(),
                livedesk_platform::defaults::default_queue_id(org).into(),
            ],
        ))
        .all(db)
        .await
    }

    /// Applies `UpdateRequest`; `false` when absent from the org.
    pub async fn update<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        c: &RequestChange,
    ) -> Result<bool, DbErr> {
        let tags = c
            .tags
            .as_ref()
            .map(|t| text_array(t))
            .unwrap_or(Value::Array(sea_orm::sea_query::ArrayType::String, None));
        let n = db
            .execute_raw(stmt(
                "UPDATE requests SET status = COALESCE($3, status), priority = COALESCE($4, priority), \
                   contact_reason = COALESCE($5, contact_reason), tags = COALESCE($6::text[], tags), updated_at = now() \
                 WHERE org_id = $1 AND id = $2",
                [
                    org.into(),
                    id.into(),
                    c.status
                        .map(|n| bind_label::<pb::RequestStatus>("requests.status", n))
                        .transpose()?
                        .unwrap_or(Value::String(None)),
                    c.priority
                        .map(|n| bind_label::<pb::Priority>("requests.priority", n))
                        .transpose()?
                        .unwrap_or(Value::String(None)),
                    c.contact_reason.clone().into(),
                    tags,
                ],
            ))
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Assigns the request; `false` when absent from the org.
    pub async fn assign<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        assignee: &str,
        initials: &str,
    ) -> Result<bool, DbErr> {
        let n = db
            .execute_raw(stmt(
                "UPDATE requests SET assignee_id = $3, assignee_initials = $4, updated_at = now() \
                 WHERE org_id = $1 AND id = $2",
                [
                    org.into(),
                    id.into(),
                    assignee.to_owned().into(),
                    initials.to_owned().into(),
                ],
            ))
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// The latest display name the org's conversations know for `principal`.
    pub async fn display_name<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        principal: &str,
    ) -> Result<Option<String>, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT display_name FROM participants WHERE org_id = $1 AND principal_id = $2 AND display_name <> '' \
                 ORDER BY joined_at DESC LIMIT 1",
                [org.into(), principal.to_owned().into()],
            ))
            .await?;
        row.map(|r| r.try_get::<String>("", "display_name"))
            .transpose()
    }

    /// Attaches a contact of the org; `false` when either is absent.
    pub async fn attach_contact<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        id: Uuid,
        contact: Uuid,
    ) -> Result<bool, DbErr> {
        let n = db
            .execute_raw(stmt(
                "UPDATE requests SET contact_id = k.id, updated_at = now() FROM contacts k \
                 WHERE requests.org_id = $1 AND requests.id = $2 AND k.org_id = $1 AND k.id = $3",
                [org.into(), id.into(), contact.into()],
            ))
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Creates a contact.
    pub async fn create_contact<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        name: &str,
        email: &str,
        phone: &str,
    ) -> Result<Option<ContactRow>, DbErr> {
        ContactRow::find_by_statement(stmt(
            "INSERT INTO contacts (id, org_id, name, email, phone) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, name, email, phone, created_at",
            [
                Uuid::now_v7().into(),
                org.into(),
                name.to_owned().into(),
                email.to_owned().into(),
                phone.to_owned().into(),
            ],
        ))
        .one(db)
        .await
    }

    /// The org's oldest contact with this email address.
    pub async fn contact_by_email<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        email: &str,
    ) -> Result<Option<ContactRow>, DbErr> {
        ContactRow::find_by_statement(stmt(
            "SELECT id, name, email, phone, created_at FROM contacts WHERE org_id = $1 AND email = $2 \
             ORDER BY created_at, id LIMIT 1",
            [org.into(), email.to_owned().into()],
        ))
        .one(db)
        .await
    }

    /// Contacts matching by name, email or phone, newest first (CNV-7).
    pub async fn search_contacts<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        q: &ContactQuery,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u64,
    ) -> Result<Vec<ContactRow>, DbErr> {
        let (at, after_id) = after.map_or((None, None), |(a, i)| (Some(a), Some(i)));
        ContactRow::find_by_statement(stmt(
            "SELECT id, name, email, phone, created_at FROM contacts WHERE org_id = $1 \
             AND (name ILIKE $2 ESCAPE '\\' OR email ILIKE $2 ESCAPE '\\' \
                  OR ($3::text IS NOT NULL AND regexp_replace(phone, '[^0-9]', '', 'g') LIKE '%' || $3 || '%')) \
             AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5)) \
             ORDER BY created_at DESC, id DESC LIMIT $6",
            [
                org.into(),
                q.pattern.clone().into(),
                q.digits.clone().into(),
                at.into(),
                after_id.into(),
                i64::try_from(limit).unwrap_or(50).into(),
            ],
        ))
        .all(db)
        .await
    }

    /// Opens a request for a customer who starts by email (CNV-14).
    pub async fn insert_for_contact<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        customer: &str,
        contact: Uuid,
    ) -> Result<Uuid, DbErr> {
        let id = Uuid::now_v7();
        db.execute_raw(stmt(
            "INSERT INTO requests (id, org_id, customer_principal_id, contact_id) VALUES ($1, $2, $3, $4)",
            [id.into(), org.into(), customer.to_owned().into(), contact.into()],
        ))
        .await?;
        Ok(id)
    }

    /// A reply reopens a request (CNV-14).
    pub async fn reopen<C: ConnectionTrait>(db: &C, org: Uuid, id: Uuid) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "UPDATE requests SET status = $3, updated_at = now() WHERE org_id = $1 AND id = $2",
            [
                org.into(),
                id.into(),
                request_status_label(RequestStatus::Open).into(),
            ],
        ))
        .await?;
        Ok(())
    }
}
