//! The stored labels of conversations' domain enums: each is the label of
//! the protobuf value of the same wire number (`livedesk_platform::labels`
//! holds the one rule and the protobuf enums' labels; ARCHITECTURE.md,
//! "Enums are stored as text, one rule for every table"). Each column has
//! a CHECK listing exactly these labels (`migrations/0008_enums_as_text.sql`).
use livedesk_platform::labels::{label, sql_list};
use livedesk_proto::conversations::v1::{AuthorKind, ConversationStatus, EndedBy, RequestStatus};

/// The stored label of a conversation status.
pub fn status_label(s: super::Status) -> &'static str {
    label(status_value(s))
}

fn status_value(s: super::Status) -> ConversationStatus {
    use super::Status as S;
    match s {
        S::Queued => ConversationStatus::Queued,
        S::Active => ConversationStatus::Active,
        S::Paused => ConversationStatus::Paused,
        S::Ended => ConversationStatus::Ended,
        S::Blocked => ConversationStatus::Blocked,
    }
}

/// The stored label of who ended a conversation.
pub fn ended_by_label(e: super::EndedBy) -> &'static str {
    use super::EndedBy as E;
    label(match e {
        E::Agent => EndedBy::Agent,
        E::Customer => EndedBy::Customer,
        E::Inactivity => EndedBy::Inactivity,
        E::Admin => EndedBy::Admin,
        E::ResourceDeleted => EndedBy::ResourceDeleted,
        E::System => EndedBy::System,
    })
}

/// The stored label of a request status.
pub fn request_status_label(s: super::RequestStatus) -> &'static str {
    use super::RequestStatus as R;
    label(match s {
        R::Open => RequestStatus::Open,
        R::Pending => RequestStatus::Pending,
        R::Closed => RequestStatus::Closed,
    })
}

/// The stored label of a message's author.
pub fn author_label(a: super::Author) -> &'static str {
    use super::Author as A;
    label(match a {
        A::Customer => AuthorKind::Customer,
        A::Agent => AuthorKind::Agent,
        A::System => AuthorKind::System,
        A::Bot => AuthorKind::Bot,
    })
}

/// The live statuses as an SQL list of literals: `('queued', 'active',
/// 'paused')`.
pub fn live_statuses_sql() -> String {
    let live: Vec<ConversationStatus> = super::Status::LIVE.map(status_value).to_vec();
    sql_list(&live)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use livedesk_platform::labels::{check_text_migration, label_of_wire};
    use livedesk_proto::common::v1::{Channel, IdentityKind};
    use livedesk_proto::conversations::v1::Priority;

    use super::*;

    /// The domain enums store the label of the protobuf value of the same
    /// wire number.
    #[test]
    fn domain_values_store_the_label_of_their_wire_number() {
        use crate::domain::{Author, EndedBy as E, RequestStatus as R, Status as S};
        for s in [S::Queued, S::Active, S::Paused, S::Ended, S::Blocked] {
            assert_eq!(
                label_of_wire::<ConversationStatus>("c", s as i32).unwrap(),
                status_label(s)
            );
        }
        for e in [
            E::Agent,
            E::Customer,
            E::Inactivity,
            E::Admin,
            E::ResourceDeleted,
            E::System,
        ] {
            assert_eq!(
                label_of_wire::<EndedBy>("c", e as i32).unwrap(),
                ended_by_label(e)
            );
        }
        for r in [R::Open, R::Pending, R::Closed] {
            assert_eq!(
                label_of_wire::<RequestStatus>("c", r as i32).unwrap(),
                request_status_label(r)
            );
        }
        for a in [Author::Customer, Author::Agent, Author::System, Author::Bot] {
            assert_eq!(
                label_of_wire::<AuthorKind>("c", a as i32).unwrap(),
                author_label(a)
            );
        }
        assert_eq!(live_statuses_sql(), "('queued', 'active', 'paused')");
        let sql = include_str!("../../migrations/0008_enums_as_text.sql");
        assert!(sql.contains(&format!("WHERE status IN {};", live_statuses_sql())));
    }

    /// The migration that turned the numbers into text maps each number to
    /// the label the code stores, and its CHECKs allow exactly those.
    #[test]
    fn the_text_migration_agrees_with_the_labels() {
        let sql = include_str!("../../migrations/0008_enums_as_text.sql");
        for result in [
            check_text_migration::<RequestStatus>(sql, "status"),
            check_text_migration::<Priority>(sql, "priority"),
            check_text_migration::<Channel>(sql, "channel"),
            check_text_migration::<ConversationStatus>(sql, "status"),
            check_text_migration::<EndedBy>(sql, "ended_by"),
            check_text_migration::<RequestStatus>(sql, "request_status_at_end"),
            check_text_migration::<IdentityKind>(sql, "kind"),
            check_text_migration::<AuthorKind>(sql, "author_kind"),
        ] {
            assert_eq!(result, Ok(()));
        }
        // Every enum column of every table is converted and checked.
        for (table, column) in [
            ("requests", "status"),
            ("requests", "priority"),
            ("conversations", "channel"),
            ("conversations", "status"),
            ("conversations", "priority"),
            ("conversations", "ended_by"),
            ("conversations", "request_status_at_end"),
            ("conversation_identities", "channel"),
            ("conversation_identities", "kind"),
            ("messages", "author_kind"),
            ("blocked_identities", "kind"),
        ] {
            assert!(
                sql.contains(&format!(
                    "ADD CONSTRAINT {table}_{column}_label CHECK ({column} IN ("
                )),
                "{table}.{column} has no CHECK"
            );
        }
    }
}
