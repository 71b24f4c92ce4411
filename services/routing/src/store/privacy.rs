//! A customer's share in routing (PRV-1, PRV-2): queue entries, offers,
//! legs and transfers of the customer's conversations. Routing knows
//! customers only through conversation ids, which conversations sends.
use livedesk_platform::db::{stmt, uuid_array};
use livedesk_platform::subject::{SubjectScope, SubjectShare, export_json};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr};
use uuid::Uuid;

/// This service's share for the shared export and erasure
/// (`livedesk_platform::subject`, `livedesk_events::ErasureEvents`).
#[derive(Debug, Clone, Copy)]
pub struct SubjectData;

impl SubjectShare for SubjectData {
    const SERVICE: &'static str = "routing";

    /// Everything routing holds on the subject's conversations, as JSON.
    async fn export(
        &self,
        db: &DatabaseConnection,
        org: Uuid,
        s: &SubjectScope,
    ) -> Result<String, DbErr> {
        export_json(
            db,
            "SELECT json_build_object( \
               'queue_entries', (SELECT coalesce(json_agg(q), '[]') FROM queue_entries q WHERE q.org_id = $1 AND q.conversation_id = ANY($2)), \
               'offers', (SELECT coalesce(json_agg(o), '[]') FROM offers o WHERE o.org_id = $1 AND o.conversation_id = ANY($2)), \
               'legs', (SELECT coalesce(json_agg(l), '[]') FROM legs l WHERE l.org_id = $1 AND l.conversation_id = ANY($2)) \
             )::text AS doc",
            [org.into(), uuid_array(&s.conversations)],
        )
        .await
    }

    /// Redacts the customer's name, principal and first messages from the
    /// queue entries of the subject's conversations (offers and legs name
    /// agents, not customers).
    async fn erase(
        &self,
        txn: &DatabaseTransaction,
        org: Uuid,
        s: &SubjectScope,
    ) -> Result<(), DbErr> {
        txn.execute_raw(stmt(
            "UPDATE queue_entries SET customer_name = '', first_messages = '{}', \
                    customer_principal_id = 'erased:' || conversation_id::text \
             WHERE org_id = $1 AND conversation_id = ANY($2) \
               AND (customer_name <> '' OR cardinality(first_messages) > 0 OR customer_principal_id NOT LIKE 'erased:%')",
            [org.into(), uuid_array(&s.conversations)],
        ))
        .await?;
        Ok(())
    }
}
