//! Token minting: development tokens and service-to-service tokens.
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use uuid::Uuid;

use crate::{AuthError, Claims, Role};

/// Signs tokens with the issuer's key (HS256 secret, or an RS256/ES256
/// private PEM in production).
#[derive(Clone)]
pub struct Issuer {
    issuer: String,
    audience: String,
    key: EncodingKey,
    algorithm: Algorithm,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("issuer", &self.issuer)
            .field("alg", &self.algorithm)
            .finish()
    }
}

impl Issuer {
    /// An HS256 issuer with a shared secret.
    pub fn hs256(issuer: impl Into<String>, audience: impl Into<String>, secret: &[u8]) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            key: EncodingKey::from_secret(secret),
            algorithm: Algorithm::HS256,
        }
    }

    /// An issuer from a private key PEM (RSA → RS256, EC → ES256).
    pub fn from_private_pem(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        pem: &[u8],
    ) -> Result<Self, AuthError> {
        let (key, algorithm) = match EncodingKey::from_rsa_pem(pem) {
            Ok(k) => (k, Algorithm::RS256),
            Err(_) => (
                EncodingKey::from_ec_pem(pem)
                    .map_err(|e| AuthError::Config(format!("private key: {e}")))?,
                Algorithm::ES256,
            ),
        };
        Ok(Self {
            issuer: issuer.into(),
            audience: audience.into(),
            key,
            algorithm,
        })
    }

    /// Mints a token for `sub` in `org` with `role`, valid for `ttl_seconds`.
    pub fn mint(
        &self,
        org: Uuid,
        sub: &str,
        role: Role,
        name: Option<&str>,
        ttl_seconds: i64,
    ) -> Result<String, AuthError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            org,
            sub: sub.to_owned(),
            role,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + ttl_seconds,
            iat: now,
            name: name.map(str::to_owned),
        };
        encode(&Header::new(self.algorithm), &claims, &self.key)
            .map_err(|e| AuthError::Config(format!("signing: {e}")))
    }

    /// A short-lived `service` token for calling another Livedesk service on
    /// behalf of `org` (the callee takes the org from it, TEN-2).
    pub fn service_token(&self, org: Uuid, service: &str) -> Result<String, AuthError> {
        self.mint(org, service, Role::Service, None, 300)
    }
}
