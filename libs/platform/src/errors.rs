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

/// Parses a UUID field of a request, naming the field on failure.
pub fn parse_uuid(field: &str, raw: &str) -> Result<uuid::Uuid, FieldViolation> {
    uuid::Uuid::parse_str(raw.trim()).map_err(|_| FieldViolation::new(field, "must be a UUID"))
}
