//! The conversations service's errors, mapped to gRPC status at one edge (TEN-4).
use livedesk_platform::errors::{self, FieldViolation};

/// Everything that can go wrong in the conversations service.
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
    PermissionDenied(&'static str),
    #[error("{0}")]
    AlreadyExists(&'static str),
    /// A call to another service failed; its status is passed on when it
    /// is meaningful to the caller.
    #[error("peer call: {0}")]
    Peer(tonic::Status),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// The attachments' object store failed (CNV-6).
    #[error("object store: {0}")]
    Storage(#[from] object_store::Error),
    /// The client's own stream failed or was cancelled: its status is passed on.
    #[error("client stream: {0}")]
    ClientStream(tonic::Status),
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
        use tonic::{Code, Status};
        match e {
            Error::Auth(a) => a.into(),
            Error::Invalid(v) => errors::invalid_argument(&v),
            Error::NotFound(what) => Status::not_found(format!("{what} not found")),
            Error::FailedPrecondition(m) => Status::failed_precondition(m),
            Error::PermissionDenied(m) => Status::permission_denied(m),
            Error::AlreadyExists(m) => Status::already_exists(m),
            Error::Peer(s) => match s.code() {
                Code::InvalidArgument | Code::FailedPrecondition => s,
                // A peer being down is worth a retry by the client.
                Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                    tracing::warn!(error = %s, "peer unavailable");
                    Status::unavailable("a dependency is unavailable, retry later")
                }
                _ => errors::internal("peer call", &s),
            },
            Error::Db(db) => errors::internal("database", &db),
            Error::Storage(e) => errors::internal("object store", &e),
            Error::ClientStream(s) => s,
        }
    }
}
