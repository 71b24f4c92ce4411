//! Authentication and authorization for every Livedesk RPC (TEN-2, TEN-3).
//!
//! A request carries `authorization: Bearer <JWT>`; [`Verifier`] checks
//! signature (HS256 secret, RS256/ES256 public keys, or a JWKS by `kid`),
//! issuer, audience, expiry and not-before as RFC 7519 reads them (with
//! [`CLOCK_LEEWAY_SECONDS`] of clock skew), and yields a [`Principal`] whose
//! `org_id` is the only tenant a handler ever uses (never one from the body).
//! [`Issuer`] mints tokens: development tokens for `livedeskctl` and tests,
//! and short-lived `service` tokens for service-to-service calls.

mod claims;
mod interceptor;
mod issuer;
mod verifier;

pub use claims::{Audience, Claims, Principal, Role};
pub use interceptor::{AuthInterceptor, principal};
pub use issuer::Issuer;
pub use verifier::{CLOCK_LEEWAY_SECONDS, KeySource, Verifier};

/// Why a token or an action was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    MissingToken,
    #[error("invalid token: {0}")]
    InvalidToken(String),
    #[error("role {role} may not {action}")]
    Forbidden { role: Role, action: &'static str },
    #[error("key configuration: {0}")]
    Config(String),
}

impl AuthError {
    /// The gRPC code of this cause (each service's error enum answers an
    /// `Auth` cause with it).
    pub fn code(&self) -> tonic::Code {
        match self {
            AuthError::MissingToken | AuthError::InvalidToken(_) => tonic::Code::Unauthenticated,
            AuthError::Forbidden { .. } => tonic::Code::PermissionDenied,
            AuthError::Config(_) => tonic::Code::Internal,
        }
    }
}

impl From<AuthError> for tonic::Status {
    fn from(e: AuthError) -> Self {
        match e.code() {
            tonic::Code::Internal => tonic::Status::internal("authentication is misconfigured"),
            code => tonic::Status::new(code, e.to_string()),
        }
    }
}
