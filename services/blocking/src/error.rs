//! The blocking service's errors: one variant per cause, each with its gRPC
//! code ([`ServiceError`]); the status is made at one edge, the shared
//! `to_status` (TEN-4).
use livedesk_platform::errors::{FieldViolation, PeerError, ServiceError};
use tonic::Code;

/// Everything that can go wrong in the blocking service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Auth(#[from] livedesk_auth::AuthError),
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    /// No block with this id in the caller's org.
    #[error("block not found")]
    BlockNotFound,
    /// BLK-1: a closed conversation's customer cannot be blocked.
    #[error("only the customer of an open conversation can be blocked")]
    ConversationNotOpen,
    /// UnblockCustomer on a block that is no longer active.
    #[error("this block was already lifted")]
    AlreadyLifted,
    #[error("this conversation's customer is already blocked")]
    CustomerAlreadyBlocked,
    #[error("this range is already blocked")]
    RangeAlreadyBlocked,
    /// A call to another service failed: the one shared mapping of its
    /// status ([`PeerError::code`]).
    #[error(transparent)]
    Peer(#[from] PeerError),
    /// A stored row that does not decode (an enum label no value has):
    /// the read fails rather than show a default (fail closed).
    #[error("corrupt row: {0}")]
    Corrupt(#[from] crate::domain::UnknownLabel),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

impl ServiceError for Error {
    fn error_code(&self) -> Code {
        match self {
            Error::Auth(a) => a.code(),
            Error::Invalid(_) => Code::InvalidArgument,
            Error::BlockNotFound => Code::NotFound,
            Error::ConversationNotOpen | Error::AlreadyLifted => Code::FailedPrecondition,
            Error::CustomerAlreadyBlocked | Error::RangeAlreadyBlocked => Code::AlreadyExists,
            Error::Peer(p) => p.code(),
            Error::Db(e) => livedesk_platform::errors::db_code(e),
            Error::Corrupt(_) => Code::Internal,
        }
    }
}

livedesk_platform::status_from_error!(Error, invalid = Invalid);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_has_its_code_and_a_down_peer_is_unavailable() {
        let down = PeerError::new("conversations", tonic::Status::unavailable("refused"));
        let cases = [
            (Error::BlockNotFound, Code::NotFound),
            (Error::ConversationNotOpen, Code::FailedPrecondition),
            (Error::AlreadyLifted, Code::FailedPrecondition),
            (Error::CustomerAlreadyBlocked, Code::AlreadyExists),
            (Error::RangeAlreadyBlocked, Code::AlreadyExists),
            (Error::Peer(down), Code::Unavailable),
            (
                Error::Corrupt(crate::domain::UnknownLabel {
                    column: "blocks.channel",
                    value: "carrier_pigeon".into(),
                }),
                Code::Internal,
            ),
            (
                Error::Peer(PeerError::new(
                    "conversations",
                    tonic::Status::not_found("conversation not found"),
                )),
                Code::NotFound,
            ),
        ];
        for (e, code) in cases {
            let status = tonic::Status::from(e);
            assert_eq!(status.code(), code, "{status:?}");
        }
        let msg = tonic::Status::from(Error::BlockNotFound);
        assert_eq!(msg.message(), "block not found");
    }
}
