//! The notifications service's errors: one variant per cause, each with
//! its gRPC code, turned into a status by the one shared conversion
//! (`livedesk_platform::errors::to_status`, TEN-4).
use livedesk_platform::errors::{FieldViolation, ServiceError};
use tonic::Code;
use uuid::Uuid;

/// Everything that can go wrong in the notifications service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Auth(#[from] livedesk_auth::AuthError),
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("email delivery not found")]
    DeliveryNotFound,
    /// A stored row this version cannot read: answered INTERNAL and
    /// logged, never skipped nor read as a default (fail closed).
    #[error(transparent)]
    Corrupt(#[from] Corrupt),
    /// A `Subscribe` stream could not read its feed: the client resumes
    /// from its last sequence on another try.
    #[error("feed temporarily unavailable, resubscribe: {0}")]
    FeedUnavailable(sea_orm::DbErr),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// A stored row that does not read back as what was written.
#[derive(Debug, thiserror::Error)]
pub enum Corrupt {
    /// The body of a feed row is not an encoded `Notification`.
    #[error("feed row {seq} cannot be decoded: {cause}")]
    FeedRow { seq: i64, cause: String },
    /// An email delivery's stored status or attempt count is not one this
    /// version knows.
    #[error("email delivery {id} has an unknown stored {what} {value:?}")]
    Delivery {
        id: Uuid,
        what: &'static str,
        value: String,
    },
}

impl ServiceError for Error {
    fn error_code(&self) -> Code {
        match self {
            Error::Auth(a) => a.code(),
            Error::Invalid(_) => Code::InvalidArgument,
            Error::DeliveryNotFound => Code::NotFound,
            Error::Db(e) => livedesk_platform::errors::db_code(e),
            Error::Corrupt(_) => Code::Internal,
            Error::FeedUnavailable(_) => Code::Unavailable,
        }
    }
}

livedesk_platform::status_from_error!(Error, invalid = Invalid);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_has_its_code() {
        let corrupt = Error::Corrupt(Corrupt::FeedRow {
            seq: 3,
            cause: "bad wire type".into(),
        });
        let status = tonic::Status::from(corrupt);
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error", "nothing internal leaks");
        let missing = tonic::Status::from(Error::DeliveryNotFound);
        assert_eq!(missing.code(), Code::NotFound);
        assert_eq!(missing.message(), "email delivery not found");
        let down = tonic::Status::from(Error::FeedUnavailable(sea_orm::DbErr::Custom(
            "connection refused".into(),
        )));
        assert_eq!(down.code(), Code::Unavailable);
        assert_eq!(
            Error::Db(sea_orm::DbErr::Custom("x".into())).error_code(),
            Code::Internal
        );
    }
}
