//! Enums stored as text (the storage rule, ARCHITECTURE.md): each value
//! has one name in the database, and a stored name that is not one of them
//! is an error, never a default (fail closed).

/// A stored enum value that names no known value: the row is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown stored {column} {value:?}")]
pub struct UnknownStored {
    /// `table.column`, for the log.
    pub column: &'static str,
    /// What was read.
    pub value: String,
}

/// Gives an enum `as_str` (its stored name) and `from_stored` (the
/// strict parse) from one list, so the two never disagree.
macro_rules! stored_as_text {
    ($ty:ty, $column:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// The name stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)+
                }
            }

            /// Parses a stored name; an unknown one is an error.
            pub fn from_stored(raw: &str) -> Result<Self, $crate::domain::UnknownStored> {
                match raw {
                    $($name => Ok(Self::$variant),)+
                    other => Err($crate::domain::UnknownStored {
                        column: $column,
                        value: other.to_owned(),
                    }),
                }
            }
        }
    };
}
pub(crate) use stored_as_text;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::domain::{AgentState, OfferKind, Strategy, TransferFailurePolicy};

    #[test]
    fn every_stored_name_round_trips() {
        for s in [
            Strategy::LongestIdle,
            Strategy::LeastBusy,
            Strategy::RoundRobin,
        ] {
            assert_eq!(Strategy::from_stored(s.as_str()).unwrap(), s);
        }
        for p in [
            TransferFailurePolicy::Requeue,
            TransferFailurePolicy::Abandon,
        ] {
            assert_eq!(TransferFailurePolicy::from_stored(p.as_str()).unwrap(), p);
        }
        for k in [OfferKind::Queue, OfferKind::Transfer, OfferKind::Conference] {
            assert_eq!(OfferKind::from_stored(k.as_str()).unwrap(), k);
        }
        for a in [
            AgentState::Offline,
            AgentState::Available,
            AgentState::Away,
            AgentState::Rona,
        ] {
            assert_eq!(AgentState::from_stored(a.as_str()).unwrap(), a);
        }
    }

    #[test]
    fn an_unknown_stored_name_is_an_error_not_a_default() {
        let e = Strategy::from_stored("fastest").unwrap_err();
        assert_eq!(e.column, "queues.strategy");
        assert!(TransferFailurePolicy::from_stored("1").is_err());
        assert!(OfferKind::from_stored("").is_err());
        assert!(AgentState::from_stored("2").is_err());
    }
}
