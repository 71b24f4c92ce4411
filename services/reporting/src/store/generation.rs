//! Read-model generations: the rebuild path of RPT-1.
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};

/// Tables rebuilt from events; emptied when the generation is raised.
const READ_MODEL_TABLES: &str =
    "conversation_facts, agent_wrap_ups, agent_state_changes, blocks, form_submissions";

/// Moves the database to `generation`, emptying the read model exactly
/// once when it is raised (a conditional update, so several replicas
/// starting together truncate once). Returns whether it was emptied.
/// Refuses a generation older than the stored one: old consumers would
/// resume half-way and mix two read models.
pub async fn ensure_generation(db: &DatabaseConnection, generation: u32) -> Result<bool, DbErr> {
    let generation = i32::try_from(generation)
        .map_err(|_| DbErr::Custom("read model generation too large".into()))?;
    let txn = db.begin().await?;
    let raised = txn
        .execute_raw(stmt(
            "UPDATE read_model SET generation = $1 WHERE generation < $1",
            [generation.into()],
        ))
        .await?
        .rows_affected()
        == 1;
    if raised {
        txn.execute_unprepared(&format!("TRUNCATE {READ_MODEL_TABLES}"))
            .await?;
    } else {
        let stored = txn
            .query_one_raw(stmt("SELECT generation FROM read_model", []))
            .await?
            // The migration inserts the one row: without it the stored
            // generation is unknown, and guessing one could mix two models.
            .ok_or_else(|| DbErr::RecordNotFound("the read_model row".into()))?
            .try_get::<i32>("", "generation")?;
        if stored > generation {
            return Err(DbErr::Custom(format!(
                "read model is at generation {stored}; LIVEDESK_REPORTING__READ_MODEL_GENERATION={generation} would go back"
            )));
        }
    }
    txn.commit().await?;
    Ok(raised)
}
