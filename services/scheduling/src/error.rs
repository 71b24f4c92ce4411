//! The scheduling service's errors, mapped to gRPC status at one edge (TEN-4).
use livedesk_platform::errors::{self, FieldViolation};

/// Everything that can go wrong in the scheduling service.
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
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// A peer (routing) could not answer, even after retries.
    #[error("peer call: {0}")]
    Peer(tonic::Status),
    /// Stored data that no longer parses (a bug or a manual edit).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

impl From<FieldViolation> for Error {
    fn from(v: FieldViolation) -> Self {
        Error::Invalid(vec![v])
    }
}

impl From<Vec<FieldViolation>> for Error {
    fn from(v: Vec<FieldViolation>) -> Self {
        Error::Invalid(v)
    }
}

impl From<Error> for tonic::Status {
    fn from(e: Error) -> Self {
        use tonic::Status;
        match e {
            Error::Auth(a) => a.into(),
            Error::Invalid(v) => errors::invalid_argument(&v),
            Error::NotFound(what) => Status::not_found(format!("{what} not found")),
            Error::FailedPrecondition(m) => Status::failed_precondition(m),
            Error::Db(db) => errors::internal("database", &db),
            Error::Corrupt(what) => errors::internal("stored data", &what),
            Error::Peer(s) => match s.code() {
                tonic::Code::Unavailable
                | tonic::Code::DeadlineExceeded
                | tonic::Code::Cancelled
                | tonic::Code::Unknown => {
                    tracing::warn!(error = %s, "peer unavailable");
                    Status::unavailable("a dependency is unavailable, retry later")
                }
                _ => errors::internal("peer call", &s),
            },
        }
    }
}
