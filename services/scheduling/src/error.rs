//! The scheduling service's errors: one variant per cause, each with its
//! gRPC code ([`ServiceError`]); the status is made at one edge, the shared
//! `to_status` (TEN-4).
use livedesk_platform::errors::{FieldViolation, PeerError, ServiceError};
use tonic::Code;

/// What a NOT_FOUND is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Form,
    Submission,
    Schedule,
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Entity::Form => "form",
            Entity::Submission => "submission",
            Entity::Schedule => "schedule",
        })
    }
}

/// Everything that can go wrong in the scheduling service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Auth(#[from] livedesk_auth::AuthError),
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("{0} not found")]
    NotFound(Entity),
    /// SubmitForm on a form an admin switched off.
    #[error("this form is disabled")]
    FormDisabled,
    /// The default schedule is what an unassigned queue follows (SCH-1).
    #[error("the default schedule cannot be deleted")]
    DefaultScheduleUndeletable,
    /// DeleteSchedule of a schedule queues still follow.
    #[error("the schedule is assigned to queues; reassign them first")]
    ScheduleAssigned,
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// A peer (routing, blocking) failed, even after retries: the one
    /// shared mapping of its status ([`PeerError::code`]).
    #[error(transparent)]
    Peer(#[from] PeerError),
    /// Stored data that no longer parses (a bug or a manual edit): never
    /// replaced by a default.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

impl ServiceError for Error {
    fn error_code(&self) -> Code {
        match self {
            Error::Auth(a) => a.code(),
            Error::Invalid(_) => Code::InvalidArgument,
            Error::NotFound(_) => Code::NotFound,
            Error::FormDisabled | Error::DefaultScheduleUndeletable | Error::ScheduleAssigned => {
                Code::FailedPrecondition
            }
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
    fn each_cause_has_its_code_and_message() {
        let cases = [
            (
                Error::NotFound(Entity::Form),
                Code::NotFound,
                "form not found",
            ),
            (
                Error::FormDisabled,
                Code::FailedPrecondition,
                "this form is disabled",
            ),
            (
                Error::ScheduleAssigned,
                Code::FailedPrecondition,
                "the schedule is assigned to queues; reassign them first",
            ),
            (
                Error::Peer(PeerError::new(
                    "routing",
                    tonic::Status::unavailable("connection refused"),
                )),
                Code::Unavailable,
                "a dependency is unavailable, retry later",
            ),
            (
                Error::Peer(PeerError::contract(
                    "blocking",
                    "blocked without a block id",
                )),
                Code::Internal,
                "internal error",
            ),
            (
                Error::Corrupt("form kind".into()),
                Code::Internal,
                "internal error",
            ),
        ];
        for (e, code, message) in cases {
            let status = tonic::Status::from(e);
            assert_eq!(status.code(), code, "{status:?}");
            assert_eq!(status.message(), message);
        }
    }
}
