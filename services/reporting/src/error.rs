//! The reporting service's errors, mapped to gRPC status at one edge (TEN-4).
use livedesk_platform::errors::{self, FieldViolation};

/// Everything that can go wrong in the reporting service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Auth(#[from] livedesk_auth::AuthError),
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
}

impl From<FieldViolation> for Error {
    fn from(v: FieldViolation) -> Self {
        Error::Invalid(vec![v])
    }
}

impl From<Error> for tonic::Status {
    fn from(e: Error) -> Self {
        match e {
            Error::Auth(a) => a.into(),
            Error::Invalid(v) => errors::invalid_argument(&v),
            Error::Db(db) => errors::internal("database", &db),
            Error::Csv(c) => errors::internal("csv", &c),
        }
    }
}
