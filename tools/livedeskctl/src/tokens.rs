//! Development tokens (TEN-2): `livedeskctl` signs with the shared HS256
//! secret of a development deployment. Production tokens come from the
//! identity provider.
use livedesk_auth::{Issuer, Role};
use uuid::Uuid;

/// Mints tokens for one org.
#[derive(Debug, Clone)]
pub struct Tokens {
    issuer: Issuer,
    pub org: Uuid,
}

impl Tokens {
    /// Uses `LIVEDESK_AUTH_ISSUER`, `LIVEDESK_AUTH_AUDIENCE` and
    /// `LIVEDESK_AUTH_HS256_SECRET` (the development defaults otherwise).
    pub fn from_env(org: Uuid) -> Self {
        let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
        let secret = var(
            "LIVEDESK_AUTH_HS256_SECRET",
            livedesk_platform::config::DEV_SECRET,
        );
        Self::new(
            Issuer::hs256(
                var("LIVEDESK_AUTH_ISSUER", "livedesk"),
                var("LIVEDESK_AUTH_AUDIENCE", "livedesk-api"),
                secret.as_bytes(),
            ),
            org,
        )
    }

    /// Uses an explicit issuer.
    pub fn new(issuer: Issuer, org: Uuid) -> Self {
        Self { issuer, org }
    }

    /// A token valid for one hour.
    pub fn mint(&self, sub: &str, role: Role, name: Option<&str>) -> anyhow::Result<String> {
        Ok(self.issuer.mint(self.org, sub, role, name, 3600)?)
    }
}

/// Adds `authorization: Bearer <token>`.
pub fn authed<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    if let Ok(v) = tonic::metadata::MetadataValue::try_from(format!("Bearer {token}")) {
        req.metadata_mut().insert("authorization", v);
    }
    req
}
