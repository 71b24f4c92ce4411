//! Protobuf enums as the read model stores them: text, never the wire
//! number (the project's storage rule). A value is stored as its name
//! without the type's prefix, in lowercase (`CHANNEL_WEB_CHAT` is stored
//! `web_chat`), which is also the text the CSV exports show. Each column
//! has a CHECK listing these labels (`migrations/0004_enums_as_text.sql`),
//! and a label read back that is not one of them is refused, never read
//! as a default (fail closed). Identity kinds take the same form in the
//! masked identity labels of blocks (`email:m******@gmail.com`).
use livedesk_proto::common::v1::{Channel, IdentityKind};
use livedesk_proto::conversations::v1::{ConversationStatus, EndedBy};
use livedesk_proto::routing::v1::AgentState;
use livedesk_proto::scheduling::v1::FormKind;

/// A protobuf enum the read model stores as a label.
pub trait StoredEnum: Copy + Sized {
    /// The prefix of every value's name (`CHANNEL_`).
    const PREFIX: &'static str;
    /// The value of a wire number, if the number is one of the enum's.
    fn from_wire(number: i32) -> Option<Self>;
    /// The value's protobuf name (`CHANNEL_WEB_CHAT`).
    fn name(self) -> &'static str;
    /// The value of a protobuf name, if it is one of the enum's.
    fn from_name(name: &str) -> Option<Self>;
}

macro_rules! stored_enum {
    ($($ty:ty => $prefix:literal),* $(,)?) => {$(
        impl StoredEnum for $ty {
            const PREFIX: &'static str = $prefix;
            fn from_wire(number: i32) -> Option<Self> {
                <$ty>::try_from(number).ok()
            }
            fn name(self) -> &'static str {
                self.as_str_name()
            }
            fn from_name(name: &str) -> Option<Self> {
                <$ty>::from_str_name(name)
            }
        }
    )*};
}

stored_enum! {
    Channel => "CHANNEL_",
    ConversationStatus => "CONVERSATION_STATUS_",
    EndedBy => "ENDED_BY_",
    AgentState => "AGENT_STATE_",
    FormKind => "FORM_KIND_",
    IdentityKind => "IDENTITY_KIND_",
}

/// A value that is not one of its enum's: a wire number an event carried,
/// or a label read back from a table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} holds an unknown value {value:?}")]
pub struct UnknownValue {
    /// The event field or the table column.
    pub field: &'static str,
    /// What it held.
    pub value: String,
}

/// The stored label of a value (`web_chat`).
pub fn label<E: StoredEnum>(value: E) -> String {
    let name = value.name();
    name.strip_prefix(E::PREFIX)
        .unwrap_or(name)
        .to_ascii_lowercase()
}

/// The value of the wire number an event carried in `field`; a number the
/// enum does not have is refused.
pub fn from_wire<E: StoredEnum>(field: &'static str, number: i32) -> Result<E, UnknownValue> {
    E::from_wire(number).ok_or_else(|| UnknownValue {
        field,
        value: number.to_string(),
    })
}

/// The stored label of the wire number an event carried in `field`; a
/// number the enum does not have is refused.
pub fn label_of_wire<E: StoredEnum>(
    field: &'static str,
    number: i32,
) -> Result<String, UnknownValue> {
    from_wire::<E>(field, number).map(label)
}

/// Parses a label read back from `column`; anything but the exact label
/// of one of the enum's values is refused.
pub fn parse_label<E: StoredEnum>(column: &'static str, stored: &str) -> Result<E, UnknownValue> {
    E::from_name(&format!("{}{}", E::PREFIX, stored.to_ascii_uppercase()))
        .filter(|e| label(*e) == stored)
        .ok_or_else(|| UnknownValue {
            field: column,
            value: stored.to_owned(),
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Every wire number of `E` (`0..=max`): its label, parsed back.
    fn round_trip<E: StoredEnum + PartialEq + std::fmt::Debug>(max: i32) -> Vec<(i32, String)> {
        (0..=max)
            .map(|n| {
                let l = label_of_wire::<E>("f", n).unwrap();
                assert_eq!(parse_label::<E>("c", &l).unwrap(), E::from_wire(n).unwrap());
                (n, l)
            })
            .collect()
    }

    fn all() -> Vec<(&'static str, Vec<(i32, String)>)> {
        vec![
            ("channel", round_trip::<Channel>(5)),
            ("status", round_trip::<ConversationStatus>(5)),
            ("ended_by", round_trip::<EndedBy>(6)),
            ("state", round_trip::<AgentState>(4)),
            ("kind", round_trip::<FormKind>(2)),
        ]
    }

    #[test]
    fn labels_are_the_names_without_prefix_in_lowercase() {
        assert_eq!(label(Channel::WebChat), "web_chat");
        assert_eq!(label(ConversationStatus::Blocked), "blocked");
        assert_eq!(label(EndedBy::ResourceDeleted), "resource_deleted");
        assert_eq!(label(AgentState::Rona), "rona");
        assert_eq!(label(FormKind::Offline), "offline");
        assert_eq!(label(Channel::Unspecified), "unspecified");
        assert_eq!(all().len(), 5);
    }

    #[test]
    fn unknown_wire_numbers_and_stored_labels_are_refused() {
        assert_eq!(
            label_of_wire::<Channel>("channel", 99).unwrap_err(),
            UnknownValue {
                field: "channel",
                value: "99".into()
            }
        );
        assert!(label_of_wire::<FormKind>("kind", -1).is_err());
        for bad in [
            "",
            "WEB_CHAT",
            "Web_Chat",
            "CHANNEL_WEB_CHAT",
            "carrier_pigeon",
            "1",
        ] {
            let e = parse_label::<Channel>("conversation_facts.channel", bad).unwrap_err();
            assert_eq!(e.field, "conversation_facts.channel");
            assert_eq!(e.value, bad);
        }
    }

    /// The migration that turned the numbers into text maps each number to
    /// the label the code stores, and its CHECK allows exactly those.
    #[test]
    fn the_text_migration_agrees_with_the_labels() {
        let sql = include_str!("../../migrations/0004_enums_as_text.sql");
        for (_, values) in all() {
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
                sql.contains(&format!("IN ({labels})")),
                "no CHECK IN ({labels})"
            );
            assert!(sql.contains(&case), "no {case}");
        }
    }
}
