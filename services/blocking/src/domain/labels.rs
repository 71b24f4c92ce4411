//! The one mapping between the protobuf enums blocking stores and their
//! stored text (the project's storage rule, issue 9): a value is stored as
//! its name without the type's prefix, in lowercase (`CHANNEL_WEB_CHAT` is
//! `web_chat`, `IDENTITY_KIND_EMAIL` is `email`). Each column has a CHECK
//! listing exactly these labels (`migrations/0003_enums_as_text.sql`), and
//! a label read back that is not one of them is refused, never read as a
//! default (fail closed).
use livedesk_proto::common::v1::{Channel, IdentityKind};

/// A protobuf enum blocking stores as a label.
pub trait StoredEnum: Copy + Sized + PartialEq + 'static {
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

/// A stored label that is none of its enum's: the row is corrupt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{column} holds an unknown label {value:?}")]
pub struct UnknownLabel {
    /// The table column (`blocks.channel`).
    pub column: &'static str,
    /// What it held.
    pub value: String,
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
            out.push((n, l));
            n += 1;
        }
        assert_eq!(out.len(), E::ALL.len(), "ALL lists every value once");
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

    #[test]
    fn every_channel_and_identity_kind_round_trips_through_its_label() {
        assert_eq!(channels().len(), 6);
        assert_eq!(kinds().len(), 7);
        assert_eq!(label(Channel::WebChat), "web_chat");
        assert_eq!(label(IdentityKind::Email), "email");
        assert_eq!(label(IdentityKind::WebVisitor), "web_visitor");
    }

    #[test]
    fn an_unknown_stored_label_is_refused() {
        for bad in [
            "",
            "WEB_CHAT",
            "Web_Chat",
            "CHANNEL_WEB_CHAT",
            "carrier_pigeon",
            "1",
            " web_chat",
        ] {
            assert_eq!(
                parse_label::<Channel>("blocks.channel", bad).unwrap_err(),
                UnknownLabel {
                    column: "blocks.channel",
                    value: bad.into()
                }
            );
        }
        for bad in ["EMAIL", "2", "mail", "identity_kind_email"] {
            assert!(parse_label::<IdentityKind>("block_identities.kind", bad).is_err());
        }
    }

    /// The migration that turned the numbers into text maps each number to
    /// the label the code stores, and its CHECKs allow exactly those.
    #[test]
    fn the_text_migration_agrees_with_the_labels() {
        let sql = include_str!("../../migrations/0003_enums_as_text.sql");
        for (column, values) in [("channel", channels()), ("kind", kinds())] {
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
    }
}
