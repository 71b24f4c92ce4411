//! Transfers as asked (RTG-7): a retried call finds its first result here
//! (TEN-5).
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

/// One recorded transfer.
#[derive(Debug, Clone, FromQueryResult)]
pub struct TransferRow {
    pub to_queue_id: Option<Uuid>,
    pub to_agent_id: Option<String>,
    pub offer_id: Option<Uuid>,
}

/// Transfer queries.
pub struct Transfers;

impl Transfers {
    /// Records a transfer.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
        from_agent: &str,
        to_queue: Option<Uuid>,
        to_agent: Option<&str>,
        offer: Option<Uuid>,
        note: &str,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO transfers (id, org_id, conversation_id, from_agent_id, to_queue_id, to_agent_id, offer_id, note) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            [
                Uuid::now_v7().into(),
                org.into(),
                conversation.into(),
                from_agent.into(),
                to_queue.into(),
                to_agent.map(str::to_owned).into(),
                offer.into(),
                note.into(),
            ],
        ))
        .await?;
        Ok(())
    }

    /// The latest transfer of a conversation asked by `agent`.
    pub async fn latest<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        conversation: Uuid,
        agent: &str,
    ) -> Result<Option<TransferRow>, DbErr> {
        TransferRow::find_by_statement(stmt(
            "SELECT to_queue_id, to_agent_id, offer_id FROM transfers \
             WHERE org_id = $1 AND conversation_id = $2 AND from_agent_id = $3 ORDER BY created_at DESC LIMIT 1",
            [org.into(), conversation.into(), agent.into()],
        ))
        .one(db)
        .await
    }
}
