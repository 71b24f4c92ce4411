//! Token verification with a shared secret (development) or public keys.
use std::collections::HashMap;
use std::path::Path;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

use crate::{AuthError, Claims, Principal};

/// Where verification keys come from (TEN-2).
#[derive(Debug, Clone)]
pub enum KeySource {
    /// HS256 shared secret: development and tests.
    SharedSecret(Vec<u8>),
    /// A PEM public key (RSA for RS256, EC P-256 for ES256).
    PublicKeyPem(Vec<u8>),
    /// A JWKS document (JSON) with RS256/ES256 keys selected by `kid`.
    Jwks(String),
}

impl KeySource {
    /// Reads a PEM public key file.
    pub fn pem_file(path: &Path) -> Result<Self, AuthError> {
        std::fs::read(path)
            .map(KeySource::PublicKeyPem)
            .map_err(|e| AuthError::Config(format!("reading {}: {e}", path.display())))
    }

    /// Reads a JWKS file.
    pub fn jwks_file(path: &Path) -> Result<Self, AuthError> {
        std::fs::read_to_string(path)
            .map(KeySource::Jwks)
            .map_err(|e| AuthError::Config(format!("reading {}: {e}", path.display())))
    }
}

struct Key {
    key: DecodingKey,
    algorithms: Vec<Algorithm>,
}

/// Verifies bearer tokens against the configured issuer, audience and keys.
pub struct Verifier {
    issuer: String,
    audience: String,
    /// Keys tried in order when the token names no `kid`.
    keys: Vec<Key>,
    by_kid: HashMap<String, Key>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("keys", &(self.keys.len() + self.by_kid.len()))
            .finish()
    }
}

impl Verifier {
    /// Builds a verifier; every source's keys are accepted.
    pub fn new(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        sources: &[KeySource],
    ) -> Result<Self, AuthError> {
        let mut keys = Vec::new();
        let mut by_kid = HashMap::new();
        for source in sources {
            match source {
                KeySource::SharedSecret(secret) => {
                    if secret.len() < 16 {
                        return Err(AuthError::Config(
                            "the shared secret must be at least 16 bytes".into(),
                        ));
                    }
                    keys.push(Key {
                        key: DecodingKey::from_secret(secret),
                        algorithms: vec![Algorithm::HS256],
                    });
                }
                KeySource::PublicKeyPem(pem) => {
                    let key = if let Ok(k) = DecodingKey::from_rsa_pem(pem) {
                        Key {
                            key: k,
                            algorithms: vec![Algorithm::RS256],
                        }
                    } else {
                        let k = DecodingKey::from_ec_pem(pem).map_err(|e| {
                            AuthError::Config(format!("public key is neither RSA nor EC: {e}"))
                        })?;
                        Key {
                            key: k,
                            algorithms: vec![Algorithm::ES256],
                        }
                    };
                    keys.push(key);
                }
                KeySource::Jwks(json) => {
                    let set: JwkSet = serde_json::from_str(json)
                        .map_err(|e| AuthError::Config(format!("invalid JWKS: {e}")))?;
                    for jwk in &set.keys {
                        let key = DecodingKey::from_jwk(jwk)
                            .map_err(|e| AuthError::Config(format!("invalid JWK: {e}")))?;
                        let kid = jwk.common.key_id.clone().unwrap_or_default();
                        let entry = Key {
                            key,
                            algorithms: vec![Algorithm::RS256, Algorithm::ES256],
                        };
                        if kid.is_empty() {
                            keys.push(entry);
                        } else {
                            by_kid.insert(kid, entry);
                        }
                    }
                }
            }
        }
        if keys.is_empty() && by_kid.is_empty() {
            return Err(AuthError::Config("no verification key configured".into()));
        }
        Ok(Self {
            issuer: issuer.into(),
            audience: audience.into(),
            keys,
            by_kid,
        })
    }

    /// Verifies a raw token and returns its principal.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = decode_header(token).map_err(|e| AuthError::InvalidToken(e.to_string()))?;
        let candidates: Vec<&Key> = match header.kid.as_deref().and_then(|k| self.by_kid.get(k)) {
            Some(k) => vec![k],
            None => self.keys.iter().collect(),
        };
        let mut last = AuthError::InvalidToken("no key accepts this token".into());
        for key in candidates {
            if !key.algorithms.contains(&header.alg) {
                continue;
            }
            let mut validation = Validation::new(header.alg);
            validation.set_issuer(&[&self.issuer]);
            validation.set_audience(&[&self.audience]);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            validation.leeway = 30;
            match decode::<Claims>(token, &key.key, &validation) {
                Ok(data) => return Ok(data.claims.into()),
                Err(e) => last = AuthError::InvalidToken(e.to_string()),
            }
        }
        Err(last)
    }

    /// Verifies an `authorization` header value (`Bearer <token>`).
    pub fn verify_header(&self, value: Option<&str>) -> Result<Principal, AuthError> {
        let value = value.ok_or(AuthError::MissingToken)?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or(AuthError::MissingToken)?;
        self.verify(token.trim())
    }
}
