//! Upserts of conversation facts and blocks. Every write tolerates
//! reordering and repetition (EVT-3): it keeps the newest version of a
//! fact and never counts the same conversation twice.
use chrono::{DateTime, Utc};
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

use crate::domain::Durations;

/// What a `ConversationEnded` event contributes.
#[derive(Debug, Clone)]
pub struct EndedFact {
    pub org_id: Uuid,
    pub conversation_id: Uuid,
    pub summary: ConversationSummary,
    /// Already masked.
    pub customer_name: String,
    pub created_at: Option<DateTime<Utc>>,
    pub queued_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    pub message_count: i32,
    pub abandoned: bool,
    pub proactive: bool,
    pub blocked: bool,
    pub durations: Durations,
}

/// Where a conversation ran, who took part, how it was qualified and how
/// it ended: stored from its end and exported alike.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ConversationSummary {
    pub queue_id: String,
    /// Stored label (`crate::domain::label`).
    pub channel: String,
    pub agent_ids: Vec<String>,
    pub tags: Vec<String>,
    pub reason: String,
    /// Stored label.
    pub status: String,
    /// Stored label.
    pub ended_by: String,
}

/// What a `WrapUpSubmitted` event contributes.
#[derive(Debug, Clone)]
pub struct WrapUpFact {
    pub org_id: Uuid,
    pub conversation_id: Uuid,
    pub agent_id: String,
    pub code: String,
    pub automatic: bool,
    pub submitted_at: DateTime<Utc>,
}

/// What a `CustomerBlocked`, `CustomerUnblocked` or `BlockExpired` event
/// contributes (each carries the whole block).
#[derive(Debug, Clone)]
pub struct BlockFact {
    pub org_id: Uuid,
    pub block_id: Uuid,
    pub block: BlockState,
    pub dropped_reported: i64,
}

/// A block as its events describe it, stored and exported alike.
#[derive(Debug, Clone, FromQueryResult)]
pub struct BlockState {
    pub conversation_id: String,
    pub blocked_by: String,
    pub blocked_at: Option<DateTime<Utc>>,
    pub reason: String,
    /// Masked labels, `kind:value` joined by ` | `.
    pub identities: String,
    /// Already masked.
    pub customer_name: String,
    /// Stored label (`crate::domain::label`).
    pub channel: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub expired: bool,
    pub unblocked_by: String,
    pub unblocked_at: Option<DateTime<Utc>>,
}

/// Writes of the conversation and block facts.
pub struct Facts;

impl Facts {
    /// Records an ended conversation. A later end (a resumed conversation
    /// ended again) replaces an earlier one; an older one arriving late
    /// changes nothing. The wrap-up columns are left alone.
    pub async fn upsert_ended<C: ConnectionTrait>(db: &C, f: &EndedFact) -> Result<(), DbErr> {
        let s = &f.summary;
        db.execute_raw(stmt(
            "INSERT INTO conversation_facts (org_id, conversation_id, queue_id, channel, agent_ids, tags, reason, status, \
                 ended_by, customer_name, created_at, queued_at, first_response_at, assigned_at, ended_at, message_count, \
                 abandoned, proactive, blocked, wait_seconds, handle_seconds, first_response_seconds) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) \
             ON CONFLICT (org_id, conversation_id) DO UPDATE SET \
                 queue_id = EXCLUDED.queue_id, channel = EXCLUDED.channel, agent_ids = EXCLUDED.agent_ids, \
                 tags = CASE WHEN conversation_facts.qualified_at > EXCLUDED.ended_at THEN conversation_facts.tags ELSE EXCLUDED.tags END, \
                 reason = CASE WHEN conversation_facts.qualified_at > EXCLUDED.ended_at THEN conversation_facts.reason ELSE EXCLUDED.reason END, \
                 status = EXCLUDED.status, ended_by = EXCLUDED.ended_by, \
                 customer_name = EXCLUDED.customer_name, created_at = EXCLUDED.created_at, queued_at = EXCLUDED.queued_at, \
                 first_response_at = EXCLUDED.first_response_at, assigned_at = EXCLUDED.assigned_at, \
                 ended_at = EXCLUDED.ended_at, message_count = EXCLUDED.message_count, abandoned = EXCLUDED.abandoned, \
                 proactive = EXCLUDED.proactive, blocked = EXCLUDED.blocked, wait_seconds = EXCLUDED.wait_seconds, \
                 handle_seconds = EXCLUDED.handle_seconds, first_response_seconds = EXCLUDED.first_response_seconds \
             WHERE conversation_facts.ended_at IS NULL OR conversation_facts.ended_at <= EXCLUDED.ended_at",
            [
                f.org_id.into(),
                f.conversation_id.into(),
                s.queue_id.clone().into(),
                s.channel.clone().into(),
                s.agent_ids.clone().into(),
                s.tags.clone().into(),
                s.reason.clone().into(),
                s.status.clone().into(),
                s.ended_by.clone().into(),
                f.customer_name.clone().into(),
                f.created_at.into(),
                f.queued_at.into(),
                f.first_response_at.into(),
                f.assigned_at.into(),
                f.ended_at.into(),
                f.message_count.into(),
                f.abandoned.into(),
                f.proactive.into(),
                f.blocked.into(),
                f.durations.wait.into(),
                f.durations.handle.into(),
                f.durations.first_response.into(),
            ],
        ))
        .await
        .map(|_| ())
    }

    /// Records tags and reason edited after the end (CNV-10), whether the
    /// end is already known or not; the newest edit wins, and an end that
    /// arrives later does not undo it (its qualification is older).
    pub async fn upsert_qualification<C: ConnectionTrait>(
        db: &C,
        org_id: Uuid,
        conversation_id: Uuid,
        tags: &[String],
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO conversation_facts (org_id, conversation_id, tags, reason, qualified_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org_id, conversation_id) DO UPDATE SET \
                 tags = EXCLUDED.tags, reason = EXCLUDED.reason, qualified_at = EXCLUDED.qualified_at \
             WHERE conversation_facts.qualified_at IS NULL OR conversation_facts.qualified_at <= EXCLUDED.qualified_at",
            [org_id.into(), conversation_id.into(), tags.to_vec().into(), reason.into(), at.into()],
        ))
        .await
        .map(|_| ())
    }

    /// Records a wrap-up code, whether the conversation's end is already
    /// known or not (it may arrive before or after `ConversationEnded`).
    /// The newest submission wins.
    pub async fn upsert_wrap_up<C: ConnectionTrait>(db: &C, w: &WrapUpFact) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO conversation_facts (org_id, conversation_id, wrap_up_code, wrap_up_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id, conversation_id) DO UPDATE SET \
                 wrap_up_code = EXCLUDED.wrap_up_code, wrap_up_at = EXCLUDED.wrap_up_at \
             WHERE conversation_facts.wrap_up_at IS NULL OR conversation_facts.wrap_up_at <= EXCLUDED.wrap_up_at",
            [w.org_id.into(), w.conversation_id.into(), w.code.clone().into(), w.submitted_at.into()],
        ))
        .await?;
        db.execute_raw(stmt(
            "INSERT INTO agent_wrap_ups (org_id, conversation_id, code, submitted_at, agent_id, automatic) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (org_id, conversation_id, agent_id) DO UPDATE SET \
                 code = EXCLUDED.code, submitted_at = EXCLUDED.submitted_at, automatic = EXCLUDED.automatic \
             WHERE agent_wrap_ups.submitted_at <= EXCLUDED.submitted_at",
            [
                w.org_id.into(),
                w.conversation_id.into(),
                w.code.clone().into(),
                w.submitted_at.into(),
                w.agent_id.clone().into(),
                w.automatic.into(),
            ],
        ))
        .await
        .map(|_| ())
    }

    /// Records a block's state. Every block event carries the whole block,
    /// so descriptive fields are overwritten; an unblock or expiry, once
    /// seen, is never undone by an older event arriving late.
    pub async fn upsert_block<C: ConnectionTrait>(db: &C, fact: &BlockFact) -> Result<(), DbErr> {
        let b = &fact.block;
        db.execute_raw(stmt(
            "INSERT INTO blocks (org_id, block_id, known, conversation_id, blocked_by, blocked_at, reason, identities, \
                 customer_name, channel, expires_at, expired, unblocked_by, unblocked_at, dropped_reported) \
             VALUES ($1, $2, true, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (org_id, block_id) DO UPDATE SET \
                 known = true, conversation_id = EXCLUDED.conversation_id, blocked_by = EXCLUDED.blocked_by, \
                 blocked_at = EXCLUDED.blocked_at, reason = EXCLUDED.reason, identities = EXCLUDED.identities, \
                 customer_name = EXCLUDED.customer_name, channel = EXCLUDED.channel, expires_at = EXCLUDED.expires_at, \
                 expired = blocks.expired OR EXCLUDED.expired, \
                 unblocked_by = CASE WHEN EXCLUDED.unblocked_at IS NOT NULL THEN EXCLUDED.unblocked_by ELSE blocks.unblocked_by END, \
                 unblocked_at = COALESCE(EXCLUDED.unblocked_at, blocks.unblocked_at), \
                 dropped_reported = GREATEST(blocks.dropped_reported, EXCLUDED.dropped_reported)",
            [
                fact.org_id.into(),
                fact.block_id.into(),
                b.conversation_id.clone().into(),
                b.blocked_by.clone().into(),
                b.blocked_at.into(),
                b.reason.clone().into(),
                b.identities.clone().into(),
                b.customer_name.clone().into(),
                b.channel.clone().into(),
                b.expires_at.into(),
                b.expired.into(),
                b.unblocked_by.clone().into(),
                b.unblocked_at.into(),
                fact.dropped_reported.into(),
            ],
        ))
        .await
        .map(|_| ())
    }

    /// Counts one dropped message against its block (BLK-3), creating a
    /// placeholder row when the block itself has not arrived yet. Runs once
    /// per event id: the consumer runtime dedups redeliveries.
    pub async fn count_dropped<C: ConnectionTrait>(
        db: &C,
        org_id: Uuid,
        block_id: Uuid,
    ) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "INSERT INTO blocks (org_id, block_id, dropped_counted) VALUES ($1, $2, 1) \
             ON CONFLICT (org_id, block_id) DO UPDATE SET dropped_counted = blocks.dropped_counted + 1",
            [org_id.into(), block_id.into()],
        ))
        .await
        .map(|_| ())
    }
}
