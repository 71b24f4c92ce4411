//! Statistics over ended conversations (RPT-2, RPT-3), computed by
//! PostgreSQL: averages, `percentile_cont` and rates over one group key.
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use uuid::Uuid;

use crate::domain::{GroupBy, Range, Scope};

/// One group of the answer.
#[derive(Debug, Clone, FromQueryResult)]
pub struct StatsRow {
    pub key: String,
    pub count: i64,
    pub avg_handle: Option<f64>,
    pub p90_handle: Option<f64>,
    pub avg_wait: Option<f64>,
    pub abandonment_rate: Option<f64>,
    pub blocked_count: i64,
    pub avg_first_response: Option<f64>,
}

/// The key expression of a grouping. Multi-valued dimensions (tags,
/// agents) count a conversation once under each of its values, and under
/// `""` when it has none, so no ended conversation disappears.
fn key_expr(group: GroupBy) -> &'static str {
    match group {
        GroupBy::Nothing => "''::text",
        GroupBy::Tag => {
            "unnest(CASE WHEN cardinality(f.tags) = 0 THEN ARRAY['']::text[] ELSE f.tags END)"
        }
        GroupBy::Reason => "f.reason",
        GroupBy::Queue => "f.queue_id",
        GroupBy::Agent => {
            "unnest(CASE WHEN cardinality(f.agent_ids) = 0 THEN ARRAY['']::text[] ELSE f.agent_ids END)"
        }
        GroupBy::Channel => "f.channel",
    }
}

/// Statistics of the conversations of `org` ended within `range`, grouped
/// by `group`, restricted to an agent's own conversations for agents.
/// Only ended conversations count (RPT-2): rows created by an early
/// wrap-up have no `ended_at` and are left out.
pub async fn statistics<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    range: Range,
    group: GroupBy,
    scope: &Scope,
) -> Result<Vec<StatsRow>, DbErr> {
    let agent = scope.agent().map(str::to_owned);
    // An agent grouping by agent sees their own line only, not the other
    // participants of their conferences.
    let own_key = if group == GroupBy::Agent {
        "AND ($4::text IS NULL OR g.key = $4)"
    } else {
        ""
    };
    let sql = format!(
        "WITH g AS ( \
             SELECT {key} AS key, f.handle_seconds, f.wait_seconds, f.abandoned, f.blocked, f.first_response_seconds \
             FROM conversation_facts f \
             WHERE f.org_id = $1 AND f.ended_at IS NOT NULL \
               AND ($2::timestamptz IS NULL OR f.ended_at >= $2) \
               AND ($3::timestamptz IS NULL OR f.ended_at < $3) \
               AND ($4::text IS NULL OR $4 = ANY (f.agent_ids)) \
         ) \
         SELECT g.key, count(*) AS count, \
                avg(g.handle_seconds) AS avg_handle, \
                percentile_cont(0.9) WITHIN GROUP (ORDER BY g.handle_seconds) AS p90_handle, \
                avg(g.wait_seconds) AS avg_wait, \
                avg(CASE WHEN g.abandoned THEN 1.0 ELSE 0.0 END)::float8 AS abandonment_rate, \
                count(*) FILTER (WHERE g.blocked) AS blocked_count, \
                avg(g.first_response_seconds) AS avg_first_response \
         FROM g WHERE true {own_key} GROUP BY g.key ORDER BY g.key",
        key = key_expr(group),
    );
    StatsRow::find_by_statement(stmt(
        &sql,
        [
            org_id.into(),
            range.from.into(),
            range.to.into(),
            Value::from(agent),
        ],
    ))
    .all(db)
    .await
}
