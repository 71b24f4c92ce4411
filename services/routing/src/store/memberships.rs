//! Versions of agents' queue memberships (TEN-3). Every transaction that
//! changes an org's memberships first takes the org's membership lock, so
//! such transactions run one after the other and the version each takes
//! grows in commit order: consumers of `AgentQueuesChanged` keep the
//! highest and are exact whatever order the events arrive in.
use livedesk_platform::db::stmt;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

/// Membership lock, versions and snapshots.
pub struct Memberships;

impl Memberships {
    /// Takes the org's membership lock until the transaction ends. Taken
    /// before any other lock of the transaction, so it cannot deadlock.
    pub async fn lock<C: ConnectionTrait>(db: &C, org: Uuid) -> Result<(), DbErr> {
        db.execute_raw(stmt(
            "SELECT pg_advisory_xact_lock(hashtextextended('livedesk.memberships.' || $1::text, 0))",
            [org.into()],
        ))
        .await?;
        Ok(())
    }

    /// The next membership version (taken under [`Memberships::lock`]).
    pub async fn next_version<C: ConnectionTrait>(db: &C) -> Result<i64, DbErr> {
        let row = db
            .query_one_raw(stmt("SELECT nextval('agent_membership_versions') AS v", []))
            .await?
            .ok_or_else(|| DbErr::Custom("nextval returned no row".into()))?;
        row.try_get("", "v")
    }

    /// The agent's queues now, or `None` when the agent does not exist.
    pub async fn of<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        agent: &str,
    ) -> Result<Option<Vec<Uuid>>, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT COALESCE((SELECT array_agg(m.queue_id ORDER BY m.queue_id) FROM queue_members m \
                   WHERE m.org_id = a.org_id AND m.agent_id = a.id), '{}'::uuid[]) AS queue_ids \
                 FROM agents a WHERE a.org_id = $1 AND a.id = $2",
                [org.into(), agent.into()],
            ))
            .await?;
        row.map(|r| r.try_get::<Vec<Uuid>>("", "queue_ids"))
            .transpose()
    }
}
