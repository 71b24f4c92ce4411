//! The one mapping between the protobuf enums conversations stores and
//! their stored text (ARCHITECTURE.md, "Enums are stored as text, one rule
//! for every table"): a value is stored as its name without the type's
//! prefix, in lowercase (`CONVERSATION_STATUS_ACTIVE` is `active`,
//! `CHANNEL_WEB_CHAT` is `web_chat`). Each column has a CHECK listing
//! exactly these labels (`migrations/0008_enums_as_text.sql`), and a label
//! read back that is not one of them is refused, never read as a default
//! (fail closed).
use livedesk_proto::common::v1::{Channel, IdentityKind};
use livedesk_proto::conversations::v1::{
    AuthorKind, ConversationStatus, EndedBy, Priority, RequestStatus,
};

/// A protobuf enum conversations stores as a label.
pub trait StoredEnum: Copy + Sized + PartialEq + Into<i32> + 'static {
    /// Every value of the enum.
    const ALL: &'static [Self];
    /// The value's stored label (an exhaustive match: a value added to the
    /// proto does not compile without one).
    fn label(self) -> &'static str;
}

impl StoredEnum for Channel {
    const ALL: &'static [Self] = &[
        Channel::Unspecified,
        Channel::WebChat,
        Channel::Messenger,
        Channel::Whatsapp,
        Channel::Instagram,
        Channel::Email,
    ];

    fn label(self) -> &'static str {
        match self {
            Channel::Unspecified => "unspecified",
            Channel::WebChat => "web_chat",
            Channel::Messenger => "messenger",
            Channel::Whatsapp => "whatsapp",
            Channel::Instagram => "instagram",
            Channel::Email => "email",
        }
    }
}

impl StoredEnum for IdentityKind {
    const ALL: &'static [Self] = &[
        IdentityKind::Unspecified,
        IdentityKind::WebVisitor,
        IdentityKind::Email,
        IdentityKind::Phone,
        IdentityKind::Messenger,
        IdentityKind::Whatsapp,
        IdentityKind::Instagram,
    ];

    fn label(self) -> &'static str {
        match self {
            IdentityKind::Unspecified => "unspecified",
            IdentityKind::WebVisitor => "web_visitor",
            IdentityKind::Email => "email",
            IdentityKind::Phone => "phone",
            IdentityKind::Messenger => "messenger",
            IdentityKind::Whatsapp => "whatsapp",
            IdentityKind::Instagram => "instagram",
        }
    }
}

impl StoredEnum for ConversationStatus {
    const ALL: &'static [Self] = &[
        ConversationStatus::Unspecified,
        ConversationStatus::Queued,
        ConversationStatus::Active,
        ConversationStatus::Paused,
        ConversationStatus::Ended,
        ConversationStatus::Blocked,
    ];

    fn label(self) -> &'static str {
        match self {
            ConversationStatus::Unspecified => "unspecified",
            ConversationStatus::Queued => "queued",
            ConversationStatus::Active => "active",
            ConversationStatus::Paused => "paused",
            ConversationStatus::Ended => "ended",
            ConversationStatus::Blocked => "blocked",
        }
    }
}

impl StoredEnum for EndedBy {
    const ALL: &'static [Self] = &[
        EndedBy::Unspecified,
        EndedBy::Agent,
        EndedBy::Customer,
        EndedBy::Inactivity,
        EndedBy::Admin,
        EndedBy::ResourceDeleted,
        EndedBy::System,
    ];

    fn label(self) -> &'static str {
        match self {
            EndedBy::Unspecified => "unspecified",
            EndedBy::Agent => "agent",
            EndedBy::Customer => "customer",
            EndedBy::Inactivity => "inactivity",
            EndedBy::Admin => "admin",
            EndedBy::ResourceDeleted => "resource_deleted",
            EndedBy::System => "system",
        }
    }
}

impl StoredEnum for RequestStatus {
    const ALL: &'static [Self] = &[
        RequestStatus::Unspecified,
        RequestStatus::Open,
        RequestStatus::Pending,
        RequestStatus::Closed,
    ];

    fn label(self) -> &'static str {
        match self {
            RequestStatus::Unspecified => "unspecified",
            RequestStatus::Open => "open",
            RequestStatus::Pending => "pending",
            RequestStatus::Closed => "closed",
        }
    }
}

impl StoredEnum for Priority {
    const ALL: &'static [Self] = &[
        Priority::Unspecified,
        Priority::Low,
        Priority::Medium,
        Priority::High,
    ];

    fn label(self) -> &'static str {
        match self {
            Priority::Unspecified => "unspecified",
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
        }
    }
}

impl StoredEnum for AuthorKind {
    const ALL: &'static [Self] = &[
        AuthorKind::Unspecified,
        AuthorKind::Customer,
        AuthorKind::Agent,
        AuthorKind::System,
        AuthorKind::Bot,
    ];

    fn label(self) -> &'static str {
        match self {
            AuthorKind::Unspecified => "unspecified",
            AuthorKind::Customer => "customer",
            AuthorKind::Agent => "agent",
            AuthorKind::System => "system",
            AuthorKind::Bot => "bot",
        }
    }
}

/// A stored label that is none of its enum's (the row is corrupt), or a
/// wire number that has no label (nothing is stored for it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{column} holds an unknown label {value:?}")]
pub struct UnknownLabel {
    /// The table column (`conversations.status`).
    pub column: &'static str,
    /// What it held.
    pub value: String,
}

/// The stored label of `value` (`web_chat`).
pub fn label<E: StoredEnum>(value: E) -> &'static str {
    value.label()
}

/// The stored label of the wire number `n` of `E`; a number outside the
/// enum has none (refused, never stored as some default).
pub fn label_of<E: StoredEnum>(column: &'static str, n: i32) -> Result<&'static str, UnknownLabel> {
    E::ALL
        .iter()
        .copied()
        .find(|v| (*v).into() == n)
        .map(E::label)
        .ok_or_else(|| UnknownLabel {
            column,
            value: n.to_string(),
        })
}

/// Parses a label read back from `column`; anything but the exact label
/// of one of the enum's values is refused.
pub fn parse_label<E: StoredEnum>(column: &'static str, stored: &str) -> Result<E, UnknownLabel> {
    E::ALL
        .iter()
        .copied()
        .find(|v| v.label() == stored)
        .ok_or_else(|| UnknownLabel {
            column,
            value: stored.to_owned(),
        })
}

/// The wire number of a label read back from `column` (rows keep wire
/// numbers in memory); an unknown label is refused.
pub fn number_of<E: StoredEnum>(column: &'static str, stored: &str) -> Result<i32, UnknownLabel> {
    parse_label::<E>(column, stored).map(Into::into)
}

/// The stored label of a conversation status.
pub fn status_label(s: super::Status) -> &'static str {
    use super::Status as S;
    label(match s {
        S::Queued => ConversationStatus::Queued,
        S::Active => ConversationStatus::Active,
        S::Paused => ConversationStatus::Paused,
        S::Ended => ConversationStatus::Ended,
        S::Blocked => ConversationStatus::Blocked,
    })
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
    let list: Vec<String> = super::Status::LIVE
        .iter()
        .map(|s| format!("'{}'", status_label(*s)))
        .collect();
    format!("({})", list.join(", "))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Every wire number of `E` up to the first it does not have, with its
    /// label: each label is the protobuf name without `prefix`, lowercased,
    /// and parses back to the same value.
    fn round_trip<E, F>(
        prefix: &str,
        from_wire: F,
        name: fn(E) -> &'static str,
    ) -> Vec<(i32, &'static str)>
    where
        E: StoredEnum + std::fmt::Debug,
        F: Fn(i32) -> Option<E>,
    {
        let mut out = Vec::new();
        let mut n = 0;
        while let Some(value) = from_wire(n) {
            let l = label(value);
            assert_eq!(
                l,
                name(value)
                    .strip_prefix(prefix)
                    .unwrap()
                    .to_ascii_lowercase(),
                "{value:?}"
            );
            assert_eq!(parse_label::<E>("c", l).unwrap(), value);
            assert_eq!(number_of::<E>("c", l).unwrap(), n);
            assert_eq!(label_of::<E>("c", n).unwrap(), l);
            out.push((n, l));
            n += 1;
        }
        assert_eq!(out.len(), E::ALL.len(), "ALL lists every value once");
        assert!(label_of::<E>("c", n).is_err());
        assert!(label_of::<E>("c", -1).is_err());
        out
    }

    fn channels() -> Vec<(i32, &'static str)> {
        round_trip(
            "CHANNEL_",
            |n| Channel::try_from(n).ok(),
            |c: Channel| c.as_str_name(),
        )
    }

    fn kinds() -> Vec<(i32, &'static str)> {
        round_trip(
            "IDENTITY_KIND_",
            |n| IdentityKind::try_from(n).ok(),
            |k: IdentityKind| k.as_str_name(),
        )
    }

    fn statuses() -> Vec<(i32, &'static str)> {
        round_trip(
            "CONVERSATION_STATUS_",
            |n| ConversationStatus::try_from(n).ok(),
            |s: ConversationStatus| s.as_str_name(),
        )
    }

    fn ended_bys() -> Vec<(i32, &'static str)> {
        round_trip(
            "ENDED_BY_",
            |n| EndedBy::try_from(n).ok(),
            |e: EndedBy| e.as_str_name(),
        )
    }

    fn request_statuses() -> Vec<(i32, &'static str)> {
        round_trip(
            "REQUEST_STATUS_",
            |n| RequestStatus::try_from(n).ok(),
            |s: RequestStatus| s.as_str_name(),
        )
    }

    fn priorities() -> Vec<(i32, &'static str)> {
        round_trip(
            "PRIORITY_",
            |n| Priority::try_from(n).ok(),
            |p: Priority| p.as_str_name(),
        )
    }

    fn authors() -> Vec<(i32, &'static str)> {
        round_trip(
            "AUTHOR_KIND_",
            |n| AuthorKind::try_from(n).ok(),
            |a: AuthorKind| a.as_str_name(),
        )
    }

    #[test]
    fn every_stored_enum_round_trips_through_its_label() {
        assert_eq!(channels().len(), 6);
        assert_eq!(kinds().len(), 7);
        assert_eq!(statuses().len(), 6);
        assert_eq!(ended_bys().len(), 7);
        assert_eq!(request_statuses().len(), 4);
        assert_eq!(priorities().len(), 4);
        assert_eq!(authors().len(), 5);
        assert_eq!(label(Channel::WebChat), "web_chat");
        assert_eq!(label(ConversationStatus::Active), "active");
        assert_eq!(label(EndedBy::ResourceDeleted), "resource_deleted");
    }

    /// The domain enums map to the proto value of the same number.
    #[test]
    fn domain_values_store_the_label_of_their_wire_number() {
        use crate::domain::{Author, EndedBy as E, RequestStatus as R, Status as S};
        for s in [S::Queued, S::Active, S::Paused, S::Ended, S::Blocked] {
            assert_eq!(
                label_of::<ConversationStatus>("c", s as i32).unwrap(),
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
                label_of::<EndedBy>("c", e as i32).unwrap(),
                ended_by_label(e)
            );
        }
        for r in [R::Open, R::Pending, R::Closed] {
            assert_eq!(
                label_of::<RequestStatus>("c", r as i32).unwrap(),
                request_status_label(r)
            );
        }
        for a in [Author::Customer, Author::Agent, Author::System, Author::Bot] {
            assert_eq!(
                label_of::<AuthorKind>("c", a as i32).unwrap(),
                author_label(a)
            );
        }
        assert_eq!(live_statuses_sql(), "('queued', 'active', 'paused')");
        let sql = include_str!("../../migrations/0008_enums_as_text.sql");
        assert!(sql.contains(&format!("WHERE status IN {};", live_statuses_sql())));
    }

    #[test]
    fn an_unknown_stored_label_is_refused() {
        for bad in [
            "",
            "ACTIVE",
            "Active",
            "CONVERSATION_STATUS_ACTIVE",
            "live",
            "2",
            " active",
        ] {
            assert_eq!(
                parse_label::<ConversationStatus>("conversations.status", bad).unwrap_err(),
                UnknownLabel {
                    column: "conversations.status",
                    value: bad.into()
                }
            );
            assert!(number_of::<ConversationStatus>("conversations.status", bad).is_err());
        }
        for bad in ["WEB_CHAT", "1", "webchat"] {
            assert!(parse_label::<Channel>("conversations.channel", bad).is_err());
        }
        for bad in ["EMAIL", "2", "mail"] {
            assert!(parse_label::<IdentityKind>("conversation_identities.kind", bad).is_err());
        }
    }

    /// The migration that turned the numbers into text maps each number to
    /// the label the code stores, and its CHECKs allow exactly those.
    #[test]
    fn the_text_migration_agrees_with_the_labels() {
        let sql = include_str!("../../migrations/0008_enums_as_text.sql");
        for (column, values) in [
            ("status", request_statuses()),
            ("priority", priorities()),
            ("channel", channels()),
            ("status", statuses()),
            ("ended_by", ended_bys()),
            ("request_status_at_end", request_statuses()),
            ("kind", kinds()),
            ("author_kind", authors()),
        ] {
            let labels = values
                .iter()
                .map(|(_, l)| format!("'{l}'"))
                .collect::<Vec<_>>()
                .join(", ");
            let case = values
                .iter()
                .map(|(n, l)| format!("WHEN {n} THEN '{l}'"))
                .collect::<Vec<_>>()
                .join(" ");
            assert!(
                sql.contains(&format!("CHECK ({column} IN ({labels}))")),
                "no CHECK ({column} IN ({labels}))"
            );
            assert!(
                sql.contains(&format!("USING CASE {column} {case} END")),
                "no CASE {column} {case}"
            );
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
