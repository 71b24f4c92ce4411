//! Token minting: development tokens and service-to-service tokens.
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use uuid::Uuid;

use crate::{Audience, AuthError, Claims, Role};

/// Signs tokens with the issuer's key (HS256 secret, or an RS256/ES256
/// private PEM in production).
#[derive(Clone)]
pub struct Issuer {
    issuer: String,
    audience: String,
    key: EncodingKey,
    algorithm: Algorithm,
    /// `kid` header naming the key in the verifiers' JWKS.
    key_id: Option<String>,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("issuer", &self.issuer)
            .field("alg", &self.algorithm)
            .field("kid", &self.key_id)
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
            key_id: None,
        }
    }

    /// An issuer from a PKCS#8 (or PKCS#1 RSA) private key PEM: RSA signs
    /// RS256, EC P-256 signs ES256.
    pub fn from_private_pem(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        pem: &[u8],
    ) -> Result<Self, AuthError> {
        let (key, algorithm) = match EncodingKey::from_rsa_pem(pem) {
            Ok(k) => (k, Algorithm::RS256),
            Err(_) => (
                EncodingKey::from_ec_pem(pem).map_err(|e| {
                    AuthError::Config(format!(
                        "private key is neither an RSA nor an EC P-256 PKCS#8 PEM: {e}"
                    ))
                })?,
                Algorithm::ES256,
            ),
        };
        // The PEM parsers accept a public key or another curve without
        // complaint; signing once here makes such a key fail at start
        // rather than on the first service call.
        encode(&Header::new(algorithm), &serde_json::json!({}), &key).map_err(|e| {
            AuthError::Config(format!(
                "private key cannot sign {algorithm:?} (a public key, or not RSA / EC P-256?): {e}"
            ))
        })?;
        Ok(Self {
            issuer: issuer.into(),
            audience: audience.into(),
            key,
            algorithm,
            key_id: None,
        })
    }

    /// Names the signing key in the token header (`kid`), so verifiers
    /// holding a JWKS pick the right public key.
    pub fn with_key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// The signature algorithm of this issuer's key (`"RS256"`).
    pub fn algorithm(&self) -> &'static str {
        match self.algorithm {
            Algorithm::HS256 => "HS256",
            Algorithm::RS256 => "RS256",
            Algorithm::ES256 => "ES256",
            _ => "other",
        }
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
            aud: Audience::One(self.audience.clone()),
            exp: now + ttl_seconds,
            iat: Some(now),
            nbf: None,
            name: name.map(str::to_owned),
        };
        self.sign(&claims)
    }

    /// Signs arbitrary claims with this issuer's key and `kid`.
    pub fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        let mut header = Header::new(self.algorithm);
        header.kid.clone_from(&self.key_id);
        encode(&header, claims, &self.key).map_err(|e| AuthError::Config(format!("signing: {e}")))
    }

    /// A short-lived `service` token for calling another Livedesk service on
    /// behalf of `org` (the callee takes the org from it, TEN-2).
    pub fn service_token(&self, org: Uuid, service: &str) -> Result<String, AuthError> {
        self.mint(org, service, Role::Service, None, 300)
    }
}
