//! The blocking service's errors, mapped to gRPC status at one edge (TEN-4).
use livedesk_platform::errors::{self, FieldViolation};

/// Everything that can go wrong in the blocking service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Auth(#[from] livedesk_auth::AuthError),
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    FailedPrecondition(&'static str),
    #[error("{0}")]
    AlreadyExists(&'static str),
    /// A call to another service failed; its status is passed on when it
    /// is the caller's fault (NOT_FOUND, PERMISSION_DENIED …).
    #[error("peer call: {0}")]
    Peer(tonic::Status),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

impl From<FieldViolation> for Error {
    fn from(v: FieldViolation) -> Self {
        Error::Invalid(vec![v])
    }
}

impl From<Error> for tonic::Status {
    fn from(e: Error) -> Self {
        use tonic::{Code, Status};
        match e {
            Error::Auth(a) => a.into(),
            Error::Invalid(v) => errors::invalid_argument(&v),
            Error::NotFound(what) => Status::not_found(format!("{what} not found")),
            Error::FailedPrecondition(m) => Status::failed_precondition(m),
            Error::AlreadyExists(m) => Status::already_exists(m),
            Error::Peer(s) => match s.code() {
                Code::NotFound
                | Code::PermissionDenied
                | Code::InvalidArgument
                | Code::FailedPrecondition => s,
                _ => errors::internal("peer call", &s),
            },
            Error::Db(db) => errors::internal("database", &db),
        }
    }
}
