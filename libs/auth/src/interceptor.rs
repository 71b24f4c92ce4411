//! The tonic interceptor that authenticates every Livedesk RPC.
use std::sync::Arc;

use crate::{AuthError, Principal, Verifier};

/// Verifies the bearer token and stores the [`Principal`] in the request
/// extensions. Health and reflection are not wrapped, so they stay open.
#[derive(Clone, Debug)]
pub struct AuthInterceptor {
    verifier: Arc<Verifier>,
}

impl AuthInterceptor {
    /// Wraps a shared verifier.
    pub fn new(verifier: Arc<Verifier>) -> Self {
        Self { verifier }
    }
}

impl tonic::service::Interceptor for AuthInterceptor {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let header = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        let principal = self.verifier.verify_header(header).map_err(|e| {
            tracing::debug!(error = %e, "authentication refused");
            tonic::Status::from(e)
        })?;
        req.extensions_mut().insert(principal);
        Ok(req)
    }
}

/// Returns the principal the interceptor stored; UNAUTHENTICATED when absent
/// (a handler reached without the interceptor is a wiring bug, never a bypass).
pub fn principal<T>(req: &tonic::Request<T>) -> Result<Principal, AuthError> {
    req.extensions()
        .get::<Principal>()
        .cloned()
        .ok_or(AuthError::MissingToken)
}
