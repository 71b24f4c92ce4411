//! State changes staged by several paths (RPCs and sweeps): an agent's
//! state change, and what follows a recorded wrap-up (RTG-9, RTG-14).
use livedesk_events::{Outbox, Staged};
use livedesk_proto::routing::v1 as pb;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use crate::store::{Agents, LegRow};
use crate::views;

/// Stages `AgentStateChanged`.
#[allow(clippy::too_many_arguments)]
pub async fn stage_state_change<C: ConnectionTrait>(
    outbox: &Outbox,
    txn: &C,
    org: Uuid,
    agent_id: &str,
    from: i32,
    to: i32,
    away_reason: &str,
    changed_by: &str,
) -> Result<Staged, DbErr> {
    outbox
        .stage(
            txn,
            org,
            agent_id,
            &pb::AgentStateChanged {
                agent_id: agent_id.to_owned(),
                from,
                to,
                away_reason: away_reason.to_owned(),
                changed_by: changed_by.to_owned(),
            },
        )
        .await
}

/// After a leg's wrap-up was recorded (by the agent or automatically):
/// restarts the agent's idle clock, applies a pending next state when this
/// was their last conversation (RTG-14), and stages `WrapUpSubmitted`.
pub async fn finish_wrap_up<C: ConnectionTrait>(
    outbox: &Outbox,
    txn: &C,
    leg: &LegRow,
) -> Result<Vec<Staged>, DbErr> {
    Agents::touch_idle(txn, leg.org_id, &leg.agent_id).await?;
    let mut staged = vec![
        outbox
            .stage(
                txn,
                leg.org_id,
                leg.conversation_id,
                &pb::WrapUpSubmitted {
                    wrap_up: Some(views::wrap_up(leg)),
                },
            )
            .await?,
    ];
    staged.extend(apply_next_state(outbox, txn, leg.org_id, &leg.agent_id, "system").await?);
    Ok(staged)
}

/// Applies the agent's next state when they have nothing left to finish
/// (RTG-14) and stages the change, `changed_by` naming who caused it.
pub async fn apply_next_state<C: ConnectionTrait>(
    outbox: &Outbox,
    txn: &C,
    org: Uuid,
    agent_id: &str,
    changed_by: &str,
) -> Result<Option<Staged>, DbErr> {
    let Some((from, to, reason)) = Agents::apply_next_state_if_idle(txn, org, agent_id).await?
    else {
        return Ok(None);
    };
    let staged =
        stage_state_change(outbox, txn, org, agent_id, from, to, &reason, changed_by).await?;
    Ok(Some(staged))
}
