//! Transfers (RTG-7) and conferences (RTG-8): offer kinds, the failure
//! policy of a direct transfer, and the conference state machine.
use livedesk_platform::errors::FieldViolation;

/// What an offer is for. Wire/database values of `OfferKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferKind {
    /// A queued conversation (RTG-4).
    Queue = 1,
    /// A direct transfer from the owning agent (RTG-7).
    Transfer = 2,
    /// An invitation to join as a participant (RTG-8).
    Conference = 3,
}

livedesk_platform::stored_enum!(OfferKind {
    Queue => "queue",
    Transfer => "transfer",
    Conference => "conference",
});

impl OfferKind {
    /// The wire value.
    pub fn as_i32(self) -> i32 {
        self as i32
    }
}

/// What a declined or unanswered direct transfer does (RTG-3, RTG-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferFailurePolicy {
    /// Back to the source queue, keeping its age, at the head of its priority.
    Requeue = 1,
    /// Routing gives up: the conversation is abandoned.
    Abandon = 2,
}

livedesk_platform::stored_enum!(TransferFailurePolicy {
    Requeue => "requeue",
    Abandon => "abandon",
});

impl TransferFailurePolicy {
    /// The wire value.
    pub fn as_i32(self) -> i32 {
        self as i32
    }
}

/// A transfer note: at most 1000 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TransferNote(String);

impl TransferNote {
    /// Trims and checks the length.
    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let r = raw.trim();
        if r.chars().count() > 1000 {
            return Err(FieldViolation::new("note", "at most 1000 characters"));
        }
        Ok(Self(r.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a conversation's conference stands. Wire values of `ConferenceState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConferenceState {
    /// The owner alone (no invitation pending).
    None = 0,
    /// Invited, not answered yet (CONFERENCE_REQUESTED).
    Requested = 1,
    /// The invited agent joined (CONFERENCE).
    Active = 2,
    /// The invitation was declined or not answered in time.
    Declined = 3,
    /// Ended: back to the owner alone.
    Ended = 4,
}

/// Who acts on a conference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConferenceActor {
    Owner,
    Invited,
    Other,
}

/// A conference command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConferenceCommand {
    Invite,
    Accept,
    Decline,
    End,
}

/// Why a conference command is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConferenceRefusal {
    /// The actor may not do this (PERMISSION_DENIED).
    NotAllowed,
    /// The current state forbids it (FAILED_PRECONDITION).
    WrongState(ConferenceConflict),
}

/// Which state of the conference forbids a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConferenceConflict {
    #[error("a conference is already requested or active")]
    AlreadyRequested,
    #[error("no conference invitation is pending")]
    NothingPending,
    #[error("no conference to end")]
    NothingToEnd,
}

/// The conference state machine (RTG-8): only the owner invites; only the
/// invited agent accepts or declines; the owner or the invited agent ends
/// (the owner may also cancel a pending invitation). `current` is
/// `None`, `Requested` or `Active` (the stored states).
pub fn plan_conference(
    current: ConferenceState,
    actor: ConferenceActor,
    cmd: ConferenceCommand,
) -> Result<ConferenceState, ConferenceRefusal> {
    use ConferenceActor as A;
    use ConferenceCommand as C;
    use ConferenceState as S;
    match (cmd, actor, current) {
        (C::Invite, A::Owner, S::None) => Ok(S::Requested),
        (C::Invite, A::Owner, _) => Err(ConferenceRefusal::WrongState(
            ConferenceConflict::AlreadyRequested,
        )),
        (C::Accept | C::Decline, A::Invited, S::Requested) => Ok(if cmd == C::Accept {
            S::Active
        } else {
            S::Declined
        }),
        (C::Accept | C::Decline, A::Invited, _) => Err(ConferenceRefusal::WrongState(
            ConferenceConflict::NothingPending,
        )),
        (C::End, A::Owner | A::Invited, S::Requested | S::Active) => Ok(S::Ended),
        (C::End, A::Owner | A::Invited, _) => Err(ConferenceRefusal::WrongState(
            ConferenceConflict::NothingToEnd,
        )),
        _ => Err(ConferenceRefusal::NotAllowed),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use ConferenceActor as A;
    use ConferenceCommand as C;
    use ConferenceState as S;

    // spec: RTG-8
    #[test]
    fn conference_flow_invite_accept_end() {
        let s = plan_conference(S::None, A::Owner, C::Invite).unwrap();
        assert_eq!(s, S::Requested);
        assert_eq!(
            plan_conference(s, A::Invited, C::Accept).unwrap(),
            S::Active
        );
        assert_eq!(
            plan_conference(S::Active, A::Invited, C::End).unwrap(),
            S::Ended
        );
        assert_eq!(
            plan_conference(S::Active, A::Owner, C::End).unwrap(),
            S::Ended
        );
        assert_eq!(
            plan_conference(s, A::Invited, C::Decline).unwrap(),
            S::Declined
        );
        assert_eq!(
            plan_conference(S::Requested, A::Owner, C::Accept),
            Err(ConferenceRefusal::NotAllowed),
            "the owner cannot accept for the invited agent"
        );
        assert_eq!(
            plan_conference(S::None, A::Other, C::Invite),
            Err(ConferenceRefusal::NotAllowed)
        );
        assert!(matches!(
            plan_conference(S::Active, A::Owner, C::Invite),
            Err(ConferenceRefusal::WrongState(_))
        ));
    }

    // spec: RTG-7
    #[test]
    fn transfer_policy_and_note() {
        let policy = |wire| {
            crate::domain::QueueSpec::parse("q", 0, 0, &[], 0, wire, 0)
                .unwrap()
                .transfer_failure_policy
        };
        assert_eq!(policy(0), TransferFailurePolicy::Requeue);
        assert_eq!(policy(2), TransferFailurePolicy::Abandon);
        assert!(TransferNote::parse(&"x".repeat(1001)).is_err());
        assert_eq!(TransferNote::parse(" vip ").unwrap().as_str(), "vip");
        assert_eq!(
            livedesk_platform::labels::parse_label::<OfferKind>("offers.kind", "transfer").unwrap(),
            OfferKind::Transfer
        );
    }

    fn state() -> impl Strategy<Value = ConferenceState> {
        prop_oneof![Just(S::None), Just(S::Requested), Just(S::Active)]
    }
    fn actor() -> impl Strategy<Value = ConferenceActor> {
        prop_oneof![Just(A::Owner), Just(A::Invited), Just(A::Other)]
    }
    fn cmd() -> impl Strategy<Value = ConferenceCommand> {
        prop_oneof![
            Just(C::Invite),
            Just(C::Accept),
            Just(C::Decline),
            Just(C::End)
        ]
    }

    proptest! {
        // spec: RTG-8
        #[test]
        fn an_outsider_never_changes_a_conference_and_only_the_invited_joins(
            s in state(), a in actor(), c in cmd(),
        ) {
            let out = plan_conference(s, a, c);
            if a == A::Other {
                prop_assert_eq!(out, Err(ConferenceRefusal::NotAllowed));
            }
            if out == Ok(S::Active) {
                prop_assert!(a == A::Invited && s == S::Requested && c == C::Accept);
            }
            if out == Ok(S::Requested) {
                prop_assert!(a == A::Owner && s == S::None);
            }
        }
    }
}
