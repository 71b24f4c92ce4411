//! The reporting service's errors, one variant per cause, each with its
//! gRPC code; the shared `livedesk_platform::errors::to_status` turns them
//! into statuses at one edge (TEN-4).
use livedesk_platform::errors::{FieldViolation, ServiceError};
use tonic::Code;

use crate::domain::{CopyRowsError, UnknownLabel};

/// Everything that can go wrong in the reporting service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Auth(#[from] livedesk_auth::AuthError),
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    /// A table holds a label the service does not know (a CHECK should
    /// have refused it): the read fails rather than showing a default.
    #[error("stored value: {0}")]
    UnknownStored(#[from] UnknownLabel),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    /// The conversations export's `COPY` sent bytes that are not the rows
    /// it asked for.
    #[error("copy data: {0}")]
    CopyData(&'static str),
}

impl From<CopyRowsError> for Error {
    fn from(e: CopyRowsError) -> Self {
        match e {
            CopyRowsError::Label(label) => Error::UnknownStored(label),
            CopyRowsError::Malformed(what) => Error::CopyData(what),
        }
    }
}

impl ServiceError for Error {
    fn error_code(&self) -> Code {
        match self {
            Error::Auth(a) => a.code(),
            Error::Invalid(_) => Code::InvalidArgument,
            Error::Db(e) => livedesk_platform::errors::db_code(e),
            Error::UnknownStored(_) | Error::Csv(_) | Error::CopyData(_) => Code::Internal,
        }
    }
}

livedesk_platform::status_from_error!(Error, invalid = Invalid);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_has_its_code() {
        let unknown = UnknownLabel {
            column: "conversation_facts.channel",
            value: "carrier_pigeon".into(),
        };
        let cases = [
            (
                Error::Auth(livedesk_auth::AuthError::MissingToken),
                Code::Unauthenticated,
            ),
            (
                Error::Invalid(vec![FieldViolation::new("kind", "unknown")]),
                Code::InvalidArgument,
            ),
            (Error::UnknownStored(unknown), Code::Internal),
            (Error::CopyData("a truncated array"), Code::Internal),
            (
                Error::Db(sea_orm::DbErr::Custom("down".into())),
                Code::Internal,
            ),
        ];
        for (e, code) in cases {
            assert_eq!(e.error_code(), code, "{e}");
            assert_eq!(tonic::Status::from(e).code(), code);
        }
    }

    #[test]
    fn an_unknown_stored_value_is_not_shown_to_the_caller() {
        let e = Error::UnknownStored(UnknownLabel {
            column: "blocks.channel",
            value: "carrier_pigeon".into(),
        });
        let status = tonic::Status::from(e);
        assert!(
            !status.message().contains("carrier_pigeon"),
            "{}",
            status.message()
        );
    }
}
