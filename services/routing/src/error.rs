//! The routing service's errors: one variant per cause, each with its
//! gRPC code ([`ServiceError`]), turned into a status at one edge by the
//! shared `to_status` (TEN-4).
use livedesk_platform::errors::{FieldViolation, ServiceError};
use tonic::Code;

use crate::domain::ConferenceConflict;

/// What a request named that does not exist in the caller's org.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Conversation,
    Agent,
    Queue,
    Offer,
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Entity::Conversation => "conversation",
            Entity::Agent => "agent",
            Entity::Queue => "queue",
            Entity::Offer => "offer",
        })
    }
}

/// Everything that can go wrong in the routing service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Auth(#[from] livedesk_auth::AuthError),
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("{0} not found")]
    NotFound(Entity),
    /// Position, pick or assignment of a conversation not (or no longer)
    /// waiting.
    #[error("the conversation is not waiting in a queue")]
    NotWaiting,
    /// An accepted queue offer whose conversation left the queue meanwhile.
    #[error("the conversation is no longer waiting")]
    NoLongerWaiting,
    #[error("the conversation already has an owner")]
    AlreadyOwned,
    #[error("the conversation already has an owner or a participant")]
    AlreadyStaffed,
    #[error("the agent has no free capacity")]
    NoFreeCapacity,
    /// A transfer or conference invitation to an agent who cannot take it.
    #[error("the agent is not AVAILABLE or has no free capacity")]
    AgentCannotTakeOffer,
    #[error("a transfer is under way or the conversation was interrupted")]
    BusyOrInterrupted,
    #[error("an offer is already pending")]
    OfferAlreadyPending,
    #[error("a transfer or conference is under way for this conversation")]
    HandoverUnderWay,
    #[error("only the agent who owns the conversation may transfer it")]
    NotTheOwner,
    #[error("the conversation was interrupted and can only be ended")]
    Interrupted,
    /// A retried accept whose leg is gone.
    #[error("the offer is no longer pending")]
    OfferGone,
    #[error("the offer is no longer pending (expired, declined or withdrawn)")]
    OfferNotAcceptable,
    #[error("the offer is no longer pending (expired, accepted or withdrawn)")]
    OfferNotDeclinable,
    #[error("the transfer no longer applies")]
    TransferObsolete,
    #[error("the conference invitation no longer applies")]
    InvitationObsolete,
    /// The conference state machine refused the command (RTG-8).
    #[error(transparent)]
    Conference(#[from] ConferenceConflict),
    #[error("the default queue cannot be deleted")]
    DefaultQueue,
    #[error("the conversation has not ended yet")]
    NotEnded,
    #[error("this conversation is already wrapped up")]
    AlreadyWrappedUp,
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

impl ServiceError for Error {
    fn error_code(&self) -> Code {
        match self {
            Error::Auth(a) => a.code(),
            Error::Invalid(_) => Code::InvalidArgument,
            Error::NotFound(_) => Code::NotFound,
            Error::NotWaiting
            | Error::NoLongerWaiting
            | Error::AlreadyOwned
            | Error::AlreadyStaffed
            | Error::NoFreeCapacity
            | Error::AgentCannotTakeOffer
            | Error::BusyOrInterrupted
            | Error::OfferAlreadyPending
            | Error::HandoverUnderWay
            | Error::NotTheOwner
            | Error::Interrupted
            | Error::OfferGone
            | Error::OfferNotAcceptable
            | Error::OfferNotDeclinable
            | Error::TransferObsolete
            | Error::InvitationObsolete
            | Error::Conference(_)
            | Error::DefaultQueue
            | Error::NotEnded
            | Error::AlreadyWrappedUp => Code::FailedPrecondition,
            // Also an unknown stored enum value (the store refuses the row
            // with `DbErr::Type`): logged, answered "internal error".
            Error::Db(e) => livedesk_platform::errors::db_code(e),
        }
    }
}

livedesk_platform::status_from_error!(Error, invalid = Invalid);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_keeps_its_code_and_message() {
        let s = tonic::Status::from(Error::NotFound(Entity::Conversation));
        assert_eq!(s.code(), Code::NotFound);
        assert_eq!(s.message(), "conversation not found");
        let s = tonic::Status::from(Error::HandoverUnderWay);
        assert_eq!(s.code(), Code::FailedPrecondition);
        assert_eq!(
            s.message(),
            "a transfer or conference is under way for this conversation"
        );
        let s = tonic::Status::from(Error::Conference(ConferenceConflict::NothingPending));
        assert_eq!(s.code(), Code::FailedPrecondition);
        assert_eq!(s.message(), "no conference invitation is pending");
    }

    #[test]
    fn an_unknown_stored_value_is_internal_and_not_leaked() {
        let s = tonic::Status::from(Error::Db(sea_orm::DbErr::Type(
            "unknown stored queues.strategy \"fastest\"".into(),
        )));
        assert_eq!(s.code(), Code::Internal);
        assert_eq!(s.message(), "internal error");
    }
}
