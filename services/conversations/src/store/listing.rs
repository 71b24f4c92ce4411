//! `ListConversations` (CNV-15): filters and the keyset cursor, scoped by
//! org and by what the caller may see (TEN-3).
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use uuid::Uuid;

use livedesk_proto::common::v1::Channel;
use livedesk_proto::conversations::v1 as pb;

use super::conversations::COLUMNS;
use super::{ConvRow, Conversations, agent_sees};
use super::{filter_label, text_array};

/// Filters of `ListConversations` (CNV-15).
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub channel: Option<i32>,
    pub statuses: Vec<i32>,
    pub queue_id: Option<Uuid>,
    pub assigned_agent_id: Option<String>,
    pub tag: Option<String>,
    pub priority: Option<i32>,
    /// Only this customer's (visitors).
    pub customer: Option<String>,
    /// Only conversations this agent may see (TEN-3, `agent_sees`).
    pub visible_to_agent: Option<String>,
}

impl Conversations {
    /// Lists conversations newest first after the keyset cursor (CNV-15).
    pub async fn list<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        f: &ListFilter,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u64,
    ) -> Result<Vec<ConvRow>, DbErr> {
        let (at, after_id) = after.map_or((None, None), |(a, i)| (Some(a), Some(i)));
        let statuses = if f.statuses.is_empty() {
            None
        } else {
            let labels: Vec<String> = f
                .statuses
                .iter()
                .map(|n| filter_label::<pb::ConversationStatus>(*n))
                .collect();
            Some(text_array(&labels))
        };
        let rows = ConvRow::find_by_statement(stmt(
            &format!(
                "SELECT {COLUMNS} FROM conversations c WHERE c.org_id = $1 \
                 AND ($2::text IS NULL OR c.channel = $2) \
                 AND ($3::text[] IS NULL OR c.status = ANY($3)) \
                 AND ($4::uuid IS NULL OR c.queue_id = $4) \
                 AND ($5::text IS NULL OR c.assigned_agent_id = $5) \
                 AND ($6::text IS NULL OR $6 = ANY(c.qual_tags)) \
                 AND ($7::text IS NULL OR c.priority = $7) \
                 AND ($8::text IS NULL OR c.customer_principal_id = $8) \
                 AND ($9::text IS NULL OR {agent_sees}) \
                 AND ($10::timestamptz IS NULL OR (c.created_at, c.id) < ($10, $11)) \
                 ORDER BY c.created_at DESC, c.id DESC LIMIT $12",
                agent_sees = agent_sees("c", "$9")
            ),
            [
                org.into(),
                f.channel.map(filter_label::<Channel>).into(),
                statuses.unwrap_or(Value::Array(sea_orm::sea_query::ArrayType::String, None)),
                f.queue_id.into(),
                f.assigned_agent_id.clone().into(),
                f.tag.clone().into(),
                f.priority.map(filter_label::<pb::Priority>).into(),
                f.customer.clone().into(),
                f.visible_to_agent.clone().into(),
                at.into(),
                after_id.into(),
                i64::try_from(limit).unwrap_or(50).into(),
            ],
        ))
        .all(db)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            if let Some(r) = Self::complete(db, Some(r)).await? {
                out.push(r);
            }
        }
        Ok(out)
    }
}
