//! Helpers for the one `From<Error> for tonic::Status` each crate writes
//! (TEN-4): field violations travel as `google.rpc.BadRequest` details, and
//! internal errors are logged with context but never shown to callers.
use tonic_types::{ErrorDetails, StatusExt};

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    /// Names a field and what is wrong with it.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

impl std::fmt::Display for FieldViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.description)
    }
}

/// INVALID_ARGUMENT with a BadRequest field list.
pub fn invalid_argument(violations: &[FieldViolation]) -> tonic::Status {
    let message = violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    let details = ErrorDetails::with_bad_request(
        violations
            .iter()
            .map(|v| tonic_types::FieldViolation::new(v.field.clone(), v.description.clone()))
            .collect::<Vec<_>>(),
    );
    tonic::Status::with_error_details(tonic::Code::InvalidArgument, message, details)
}

/// INTERNAL: logs the cause, tells the caller nothing more.
pub fn internal(context: &str, cause: &dyn std::fmt::Display) -> tonic::Status {
    tracing::error!(error = %cause, context, "internal error");
    tonic::Status::internal("internal error")
}

/// The code of a database failure, the same in every service: a database
/// that cannot be reached (restart, failover, cut link:
/// [`crate::db::is_unavailable`]) is UNAVAILABLE, so callers retry; a
/// serialization failure or a deadlock PostgreSQL broke (40001, 40P01) is
/// ABORTED, a conflict the caller may retry; anything else is INTERNAL.
pub fn db_code(e: &sea_orm::DbErr) -> tonic::Code {
    if crate::db::is_unavailable(e) {
        return tonic::Code::Unavailable;
    }
    match crate::db::sqlstate(e).as_deref() {
        Some("40001" | "40P01") => tonic::Code::Aborted,
        _ => tonic::Code::Internal,
    }
}

/// Parses a UUID field of a request, naming the field on failure.
pub fn parse_uuid(field: &str, raw: &str) -> Result<uuid::Uuid, FieldViolation> {
    uuid::Uuid::parse_str(raw.trim()).map_err(|_| FieldViolation::new(field, "must be a UUID"))
}

/// What a crate's error enum says about each of its causes: the gRPC code
/// it has. Every crate's enum implements it (one variant per cause, each
/// with its code), and [`to_status`] is the one conversion to a status that
/// every crate's `From<Error> for tonic::Status` calls, so the same cause
/// gets the same answer in every service (as Quickwit's
/// `ServiceError::error_code`).
pub trait ServiceError: std::error::Error {
    /// The gRPC code this cause is answered with.
    fn error_code(&self) -> tonic::Code;

    /// The invalid fields of an INVALID_ARGUMENT cause, sent as a
    /// `google.rpc.BadRequest`.
    fn field_violations(&self) -> Option<&[FieldViolation]> {
        None
    }
}

/// The one conversion of a crate's error to the status its caller sees.
///
/// - INVALID_ARGUMENT carries the field list when the cause has one.
/// - INTERNAL, UNKNOWN and DATA_LOSS are logged with their cause and
///   answered "internal error": nothing internal leaks to a caller.
/// - UNAVAILABLE (a peer, the database or the broker is down) is logged and
///   answered with one retryable message.
/// - Every other code carries the cause's own message, which is written
///   for the caller.
pub fn to_status<E: ServiceError>(e: &E) -> tonic::Status {
    to_status_with(e, e.field_violations())
}

/// [`to_status`] with the cause's invalid fields given by the caller (what
/// [`status_from_error!`] passes).
pub fn to_status_with<E: ServiceError>(e: &E, fields: Option<&[FieldViolation]>) -> tonic::Status {
    use tonic::{Code, Status};
    let code = e.error_code();
    match code {
        Code::InvalidArgument => match fields {
            Some(v) => invalid_argument(v),
            None => Status::invalid_argument(e.to_string()),
        },
        Code::Internal | Code::Unknown | Code::DataLoss | Code::Ok => internal("request", e),
        Code::Unavailable => {
            tracing::warn!(error = %e, "dependency unavailable");
            Status::unavailable("a dependency is unavailable, retry later")
        }
        _ => Status::new(code, e.to_string()),
    }
}

/// The one edge where a crate's errors become statuses (TEN-4):
/// implements `From<$error> for tonic::Status` through [`to_status`].
///
/// With `invalid = Variant` (a `Variant(Vec<FieldViolation>)` cause) it
/// also converts a [`FieldViolation`] or a list of them into that cause, so
/// `?` works on a parser's result, and sends the list as the status'
/// `google.rpc.BadRequest`.
#[macro_export]
macro_rules! status_from_error {
    ($error:ident, invalid = $variant:ident) => {
        impl From<$crate::errors::FieldViolation> for $error {
            fn from(v: $crate::errors::FieldViolation) -> Self {
                $error::$variant(vec![v])
            }
        }

        impl From<Vec<$crate::errors::FieldViolation>> for $error {
            fn from(v: Vec<$crate::errors::FieldViolation>) -> Self {
                $error::$variant(v)
            }
        }

        impl From<$error> for ::tonic::Status {
            fn from(e: $error) -> Self {
                let fields = match &e {
                    $error::$variant(v) => Some(v.as_slice()),
                    #[allow(unreachable_patterns)]
                    _ => None,
                };
                $crate::errors::to_status_with(&e, fields)
            }
        }
    };
    ($error:ty) => {
        impl From<$error> for ::tonic::Status {
            fn from(e: $error) -> Self {
                $crate::errors::to_status(&e)
            }
        }
    };
}

/// A failed call to another Livedesk service, and the one rule for what it
/// means to this service's caller, so an outage gives the same answer in
/// every service:
///
/// - the caller's own fault (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED,
///   FAILED_PRECONDITION, ALREADY_EXISTS, OUT_OF_RANGE) is passed on with
///   the peer's message;
/// - a peer that is down, overloaded, slow or cut off mid-call
///   (UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, RESOURCE_EXHAUSTED,
///   ABORTED, UNKNOWN: tonic's answer to a connection reset) is UNAVAILABLE:
///   worth a retry;
/// - anything else (INTERNAL, UNIMPLEMENTED, DATA_LOSS, UNAUTHENTICATED:
///   this service's own token refused) is this system's bug: INTERNAL.
#[derive(Debug, thiserror::Error)]
#[error("{}", status.message())]
pub struct PeerError {
    /// The peer's name (`blocking`, `routing` …), for the logs.
    pub peer: &'static str,
    /// What the peer answered.
    pub status: tonic::Status,
}

impl PeerError {
    /// A failed call to `peer`.
    pub fn new(peer: &'static str, status: tonic::Status) -> Self {
        Self { peer, status }
    }

    /// A peer's answer that breaks the contract between the two services
    /// (a field it must fill is missing or malformed).
    pub fn contract(peer: &'static str, what: &str) -> Self {
        Self::new(
            peer,
            tonic::Status::internal(format!("{peer} broke its contract: {what}")),
        )
    }

    /// The code this service answers with (see the type's docs).
    pub fn code(&self) -> tonic::Code {
        use tonic::Code;
        if is_transport_failure(&self.status) {
            return Code::Unavailable;
        }
        match self.status.code() {
            c @ (Code::InvalidArgument
            | Code::NotFound
            | Code::PermissionDenied
            | Code::FailedPrecondition
            | Code::AlreadyExists
            | Code::OutOfRange) => c,
            Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Cancelled
            | Code::ResourceExhausted
            | Code::Aborted
            | Code::Unknown => Code::Unavailable,
            Code::Ok
            | Code::Internal
            | Code::Unimplemented
            | Code::DataLoss
            | Code::Unauthenticated => Code::Internal,
        }
    }
}

/// Whether a call failed below gRPC: the connection was refused, reset or
/// closed (a GOAWAY from a replica that is draining) before the peer
/// answered. tonic gives such a failure a code of its own guessing (often
/// INTERNAL, "h2 protocol error") and keeps the transport error as its
/// source: the peer never answered, so it is unavailable, not wrong, and
/// an idempotent call may be made again.
pub fn is_transport_failure(status: &tonic::Status) -> bool {
    let mut cause = std::error::Error::source(status);
    while let Some(e) = cause {
        if e.is::<tonic::transport::Error>() || e.is::<hyper::Error>() || e.is::<std::io::Error>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// A closure for `map_err` on a call to `peer`.
pub fn peer(peer: &'static str) -> impl Fn(tonic::Status) -> PeerError {
    move |status| PeerError::new(peer, status)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod service_error_tests {
    /// A call that broke below gRPC (here a reset connection, as a GOAWAY
    /// or a killed replica gives) is a peer that is unavailable whatever
    /// code tonic guessed; a peer's own INTERNAL stays INTERNAL.
    #[test]
    fn a_transport_failure_is_unavailable_whatever_code_tonic_gave() {
        use std::sync::Arc;

        let mut broken = tonic::Status::internal("h2 protocol error: http2 error");
        broken.set_source(Arc::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset",
        )));
        assert!(super::is_transport_failure(&broken));
        assert_eq!(
            super::PeerError::new("notifications", broken).code(),
            tonic::Code::Unavailable
        );
        let answered = tonic::Status::internal("the peer's own failure");
        assert!(!super::is_transport_failure(&answered));
        assert_eq!(
            super::PeerError::new("notifications", answered).code(),
            tonic::Code::Internal
        );
    }

    use super::*;
    use tonic::Code;

    #[test]
    fn a_database_out_of_reach_is_unavailable_and_other_failures_internal() {
        use sea_orm::DbErr;
        use sea_orm::error::ConnAcquireErr;
        assert_eq!(
            db_code(&DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
            Code::Unavailable
        );
        assert_eq!(db_code(&DbErr::Custom("a bug".into())), Code::Internal);
    }

    #[derive(Debug, thiserror::Error)]
    enum Sample {
        #[error("the conversation has ended")]
        Ended,
        #[error("invalid request")]
        Invalid(Vec<FieldViolation>),
        #[error("database: {0}")]
        Db(String),
        #[error(transparent)]
        Peer(#[from] PeerError),
    }

    impl ServiceError for Sample {
        fn error_code(&self) -> Code {
            match self {
                Sample::Ended => Code::FailedPrecondition,
                Sample::Invalid(_) => Code::InvalidArgument,
                Sample::Db(_) => Code::Internal,
                Sample::Peer(p) => p.code(),
            }
        }
        fn field_violations(&self) -> Option<&[FieldViolation]> {
            match self {
                Sample::Invalid(v) => Some(v),
                _ => None,
            }
        }
    }

    #[derive(Debug, thiserror::Error)]
    enum Wired {
        #[error("invalid request")]
        Invalid(Vec<FieldViolation>),
        #[error("gone")]
        Gone,
    }

    impl ServiceError for Wired {
        fn error_code(&self) -> Code {
            match self {
                Wired::Invalid(_) => Code::InvalidArgument,
                Wired::Gone => Code::NotFound,
            }
        }
    }

    crate::status_from_error!(Wired, invalid = Invalid);

    #[test]
    fn the_edge_macro_sends_the_invalid_fields_and_converts_violations() {
        let wired: Wired = FieldViolation::new("email", "not an address").into();
        let s = tonic::Status::from(wired);
        assert_eq!(s.code(), Code::InvalidArgument);
        let details = tonic_types::StatusExt::get_error_details(&s);
        assert_eq!(
            details.bad_request().map(|b| b.field_violations.len()),
            Some(1)
        );
        let s = tonic::Status::from(Wired::Gone);
        assert_eq!((s.code(), s.message()), (Code::NotFound, "gone"));
    }

    #[test]
    fn a_cause_gets_its_code_and_message() {
        let s = to_status(&Sample::Ended);
        assert_eq!(s.code(), Code::FailedPrecondition);
        assert_eq!(s.message(), "the conversation has ended");
    }

    #[test]
    fn internal_causes_never_leak() {
        let s = to_status(&Sample::Db("relation \"secret\" does not exist".into()));
        assert_eq!(s.code(), Code::Internal);
        assert_eq!(s.message(), "internal error");
    }

    #[test]
    fn invalid_arguments_carry_their_fields() {
        let s = to_status(&Sample::Invalid(vec![FieldViolation::new(
            "email",
            "not an address",
        )]));
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(s.message(), "email: not an address");
        let details = tonic_types::StatusExt::get_error_details(&s);
        assert_eq!(
            details.bad_request().map(|b| b.field_violations.len()),
            Some(1)
        );
    }

    #[test]
    fn a_peer_that_is_down_is_unavailable_and_its_callers_fault_is_passed_on() {
        for down in [
            Code::Unavailable,
            Code::DeadlineExceeded,
            Code::Cancelled,
            Code::ResourceExhausted,
            Code::Aborted,
            Code::Unknown,
        ] {
            let s = to_status(&Sample::from(PeerError::new(
                "blocking",
                tonic::Status::new(down, "x"),
            )));
            assert_eq!(s.code(), Code::Unavailable, "{down:?}");
            assert_eq!(s.message(), "a dependency is unavailable, retry later");
        }
        for callers in [
            Code::NotFound,
            Code::PermissionDenied,
            Code::InvalidArgument,
            Code::FailedPrecondition,
        ] {
            let s = to_status(&Sample::from(PeerError::new(
                "blocking",
                tonic::Status::new(callers, "why"),
            )));
            assert_eq!((s.code(), s.message()), (callers, "why"));
        }
        for bug in [
            Code::Internal,
            Code::Unimplemented,
            Code::Unauthenticated,
            Code::DataLoss,
        ] {
            let s = to_status(&Sample::from(PeerError::new(
                "blocking",
                tonic::Status::new(bug, "secret"),
            )));
            assert_eq!(
                (s.code(), s.message()),
                (Code::Internal, "internal error"),
                "{bug:?}"
            );
        }
    }
}
