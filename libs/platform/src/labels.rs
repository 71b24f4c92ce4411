//! Enums stored as text: the one mechanism every service uses (the
//! storage rule, ARCHITECTURE.md "Enums are stored as text, one rule for
//! every table").
//!
//! Each stored enum lists its values and their labels once, with
//! [`stored_enum!`](crate::stored_enum): the label is the match arm of an
//! exhaustive `match`, so a value added to the enum does not compile until
//! it has a label, and the list of values ([`StoredEnum::ALL`]) is made from
//! the same arms, so the two never disagree. A protobuf enum's label is its
//! name without the type's prefix, in lowercase (`CHANNEL_WEB_CHAT` is
//! `web_chat`; a unit test below holds every protobuf enum here to that
//! rule). Each column has a CHECK listing exactly the labels, and a label
//! read back that is not one of them is refused with [`UnknownLabel`],
//! never read as a default (fail closed).
//!
//! The protobuf enums more than one service stores are given their labels
//! here; a service's own domain enums use the same macro in their crate.
use livedesk_proto::common::v1::{Channel, IdentityKind};
use livedesk_proto::conversations::v1::{
    AuthorKind, ConversationStatus, EndedBy, Priority, RequestStatus,
};
use livedesk_proto::routing::v1::AgentState;
use livedesk_proto::scheduling::v1::FormKind;

/// An enum stored as a text label.
pub trait StoredEnum: Copy + PartialEq + std::fmt::Debug + 'static {
    /// Every value of the enum, in declaration order.
    const ALL: &'static [Self];
    /// The value's stored label.
    fn label(self) -> &'static str;
}

/// Implements [`StoredEnum`] for an enum from one list of
/// `Variant => "label"` arms (every variant, or the `match` does not
/// compile).
#[macro_export]
macro_rules! stored_enum {
    ($ty:ty { $($variant:ident => $label:literal),+ $(,)? }) => {
        impl $crate::labels::StoredEnum for $ty {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn label(self) -> &'static str {
                match self {
                    $(Self::$variant => $label,)+
                }
            }
        }
    };
}

/// A stored label (or a wire number) that is none of its enum's: the row
/// or the event is corrupt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{column} holds an unknown value {value:?}")]
pub struct UnknownLabel {
    /// The table column (`blocks.channel`) or event field it came from.
    pub column: &'static str,
    /// What it held.
    pub value: String,
}

/// An unknown stored label met while reading rows is a database error
/// that carries the [`UnknownLabel`] as its source: every service answers
/// it INTERNAL and logs it, never reads the row with a default value (a
/// service that names the cause finds it with `downcast_ref`).
impl From<UnknownLabel> for sea_orm::DbErr {
    fn from(e: UnknownLabel) -> Self {
        sea_orm::DbErr::TryIntoErr {
            from: "text",
            into: "stored enum",
            source: std::sync::Arc::new(e),
        }
    }
}

/// The stored label of `value` (`web_chat`).
pub fn label<E: StoredEnum>(value: E) -> &'static str {
    value.label()
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

/// The value of the wire number `n` of `E` (an event field, a request
/// field kept as a number); a number outside the enum is refused.
pub fn from_wire<E: StoredEnum + Into<i32>>(
    column: &'static str,
    n: i32,
) -> Result<E, UnknownLabel> {
    E::ALL
        .iter()
        .copied()
        .find(|v| (*v).into() == n)
        .ok_or_else(|| UnknownLabel {
            column,
            value: n.to_string(),
        })
}

/// The stored label of the wire number `n` of `E`; a number outside the
/// enum has none (refused, never stored as some default).
pub fn label_of_wire<E: StoredEnum + Into<i32>>(
    column: &'static str,
    n: i32,
) -> Result<&'static str, UnknownLabel> {
    from_wire::<E>(column, n).map(E::label)
}

/// The wire number of a label read back from `column` (for rows that keep
/// wire numbers in memory); an unknown label is refused.
pub fn wire_of_label<E: StoredEnum + Into<i32>>(
    column: &'static str,
    stored: &str,
) -> Result<i32, UnknownLabel> {
    parse_label::<E>(column, stored).map(Into::into)
}

/// `values`' labels as an SQL list of literals, `('queued', 'active')`:
/// for a fixed `IN` list in a statement, and for the tests that hold a
/// migration's CHECK to the labels.
pub fn sql_list<E: StoredEnum>(values: &[E]) -> String {
    let labels: Vec<String> = values.iter().map(|v| format!("'{}'", v.label())).collect();
    format!("({})", labels.join(", "))
}

/// The `CASE` arms that turn `E`'s wire numbers into its labels,
/// `WHEN 0 THEN 'unspecified' WHEN 1 THEN 'web_chat' …`: what a migration
/// from numbers to text must contain (its tests hold it to this).
fn sql_case<E: StoredEnum + Into<i32>>() -> String {
    let arms: Vec<String> = E::ALL
        .iter()
        .map(|v| format!("WHEN {} THEN '{}'", (*v).into(), v.label()))
        .collect();
    arms.join(" ")
}

/// Checks that a migration turning `column`'s wire numbers into `E`'s
/// labels converts each number to the label the code stores
/// (`USING CASE column WHEN 0 THEN '…' … END`) and lets exactly those labels
/// in (`CHECK (column IN ('…', …))`): each service's migration test holds
/// its SQL to the labels with this. The error says what is missing.
pub fn check_text_migration<E: StoredEnum + Into<i32>>(
    sql: &str,
    column: &str,
) -> Result<(), String> {
    let check = format!("CHECK ({column} IN {})", sql_list(E::ALL));
    let case = format!("USING CASE {column} {} END", sql_case::<E>());
    for needed in [check, case] {
        if !sql.contains(&needed) {
            return Err(format!("the migration has no {needed}"));
        }
    }
    Ok(())
}

stored_enum!(Channel {
    Unspecified => "unspecified",
    WebChat => "web_chat",
    Messenger => "messenger",
    Whatsapp => "whatsapp",
    Instagram => "instagram",
    Email => "email",
});

stored_enum!(IdentityKind {
    Unspecified => "unspecified",
    WebVisitor => "web_visitor",
    Email => "email",
    Phone => "phone",
    Messenger => "messenger",
    Whatsapp => "whatsapp",
    Instagram => "instagram",
});

stored_enum!(ConversationStatus {
    Unspecified => "unspecified",
    Queued => "queued",
    Active => "active",
    Paused => "paused",
    Ended => "ended",
    Blocked => "blocked",
});

stored_enum!(EndedBy {
    Unspecified => "unspecified",
    Agent => "agent",
    Customer => "customer",
    Inactivity => "inactivity",
    Admin => "admin",
    ResourceDeleted => "resource_deleted",
    System => "system",
});

stored_enum!(RequestStatus {
    Unspecified => "unspecified",
    Open => "open",
    Pending => "pending",
    Closed => "closed",
});

stored_enum!(Priority {
    Unspecified => "unspecified",
    Low => "low",
    Medium => "medium",
    High => "high",
});

stored_enum!(AuthorKind {
    Unspecified => "unspecified",
    Customer => "customer",
    Agent => "agent",
    System => "system",
    Bot => "bot",
});

stored_enum!(AgentState {
    Unspecified => "unspecified",
    Offline => "offline",
    Available => "available",
    Away => "away",
    Rona => "rona",
});

stored_enum!(FormKind {
    Unspecified => "unspecified",
    Offline => "offline",
    Contact => "contact",
});

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Every wire number of `E` from 0 up to the first it does not have:
    /// each label is the protobuf name without `prefix`, lowercased, parses
    /// back to the same value, and `ALL` lists exactly these values.
    fn holds_to_the_rule<E>(prefix: &str, name: fn(&E) -> &'static str)
    where
        E: StoredEnum + Into<i32> + TryFrom<i32>,
    {
        let mut seen = Vec::new();
        let mut n = 0;
        while let Ok(value) = E::try_from(n) {
            let l = label(value);
            let expected = name(&value)
                .strip_prefix(prefix)
                .unwrap()
                .to_ascii_lowercase();
            assert_eq!(l, expected, "{value:?}");
            assert_eq!(parse_label::<E>("c", l).unwrap(), value);
            assert_eq!(label_of_wire::<E>("c", n).unwrap(), l);
            assert_eq!(wire_of_label::<E>("c", l).unwrap(), n);
            seen.push(value);
            n += 1;
        }
        assert_eq!(
            seen.as_slice(),
            E::ALL,
            "ALL lists every value once, in order"
        );
        assert!(from_wire::<E>("c", n).is_err());
        assert!(from_wire::<E>("c", -1).is_err());
    }

    #[test]
    fn every_protobuf_label_is_its_name_without_prefix_in_lowercase() {
        holds_to_the_rule::<Channel>("CHANNEL_", Channel::as_str_name);
        holds_to_the_rule::<IdentityKind>("IDENTITY_KIND_", IdentityKind::as_str_name);
        holds_to_the_rule::<ConversationStatus>(
            "CONVERSATION_STATUS_",
            ConversationStatus::as_str_name,
        );
        holds_to_the_rule::<EndedBy>("ENDED_BY_", EndedBy::as_str_name);
        holds_to_the_rule::<RequestStatus>("REQUEST_STATUS_", RequestStatus::as_str_name);
        holds_to_the_rule::<Priority>("PRIORITY_", Priority::as_str_name);
        holds_to_the_rule::<AuthorKind>("AUTHOR_KIND_", AuthorKind::as_str_name);
        holds_to_the_rule::<AgentState>("AGENT_STATE_", AgentState::as_str_name);
        holds_to_the_rule::<FormKind>("FORM_KIND_", FormKind::as_str_name);
    }

    #[test]
    fn an_unknown_label_or_number_is_refused_with_its_column() {
        for bad in [
            "",
            "WEB_CHAT",
            "Web_Chat",
            "CHANNEL_WEB_CHAT",
            "webchat",
            "1",
        ] {
            assert_eq!(
                parse_label::<Channel>("blocks.channel", bad).unwrap_err(),
                UnknownLabel {
                    column: "blocks.channel",
                    value: bad.into()
                }
            );
            assert!(wire_of_label::<Channel>("blocks.channel", bad).is_err());
        }
        assert_eq!(
            label_of_wire::<FormKind>("forms.kind", 7)
                .unwrap_err()
                .to_string(),
            "forms.kind holds an unknown value \"7\""
        );
    }

    #[test]
    fn a_text_migration_must_convert_and_check_every_label() {
        let good = "ALTER COLUMN kind TYPE text USING CASE kind WHEN 0 THEN 'unspecified' \
                    WHEN 1 THEN 'offline' WHEN 2 THEN 'contact' END, \
                    ADD CONSTRAINT k CHECK (kind IN ('unspecified', 'offline', 'contact'))";
        assert_eq!(check_text_migration::<FormKind>(good, "kind"), Ok(()));
        let no_check = good.replace("'contact'))", "'contact', 'survey'))");
        assert!(
            check_text_migration::<FormKind>(&no_check, "kind")
                .unwrap_err()
                .contains("CHECK")
        );
        let no_case = good.replace("WHEN 2 THEN 'contact' ", "");
        assert!(
            check_text_migration::<FormKind>(&no_case, "kind")
                .unwrap_err()
                .contains("CASE")
        );
    }

    #[test]
    fn sql_lists_and_cases_quote_each_label() {
        assert_eq!(
            sql_list(&[ConversationStatus::Queued, ConversationStatus::Active]),
            "('queued', 'active')"
        );
        assert_eq!(
            sql_case::<FormKind>(),
            "WHEN 0 THEN 'unspecified' WHEN 1 THEN 'offline' WHEN 2 THEN 'contact'"
        );
    }
}
