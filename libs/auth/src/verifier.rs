//! Token verification with a shared secret (development) or public keys.
use std::collections::HashMap;
use std::path::Path;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
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

/// Seconds of clock skew tolerated on `exp` and `nbf` (RFC 7519 §4.1.4
/// allows "a small leeway"). Hosts synchronised by NTP differ by far less;
/// 30 s absorbs a slow VM clock without keeping an expired token usable for
/// long (a revoked session ends at most this much after its `exp`).
pub const CLOCK_LEEWAY_SECONDS: u64 = 30;

/// The one algorithm a JWK verifies: its `alg` when given, else the one
/// its key type implies. Only RS256 and ES256 (P-256) are accepted; a
/// symmetric (`oct`) key in a JWKS is refused, since a published JWKS must
/// never hold a secret.
fn jwk_algorithm(jwk: &Jwk) -> Result<Algorithm, AuthError> {
    let kid = jwk.common.key_id.as_deref().unwrap_or("");
    let implied = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        _ => {
            return Err(AuthError::Config(format!(
                "JWK {kid:?}: only RSA and EC P-256 keys are supported"
            )));
        }
    };
    match jwk.common.key_algorithm {
        None => Ok(implied),
        Some(KeyAlgorithm::RS256) if implied == Algorithm::RS256 => Ok(implied),
        Some(KeyAlgorithm::ES256) if implied == Algorithm::ES256 => Ok(implied),
        Some(other) => Err(AuthError::Config(format!(
            "JWK {kid:?}: algorithm {other:?} does not match its key or is not supported (RS256, ES256)"
        ))),
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
                        let algorithm = jwk_algorithm(jwk)?;
                        let key = DecodingKey::from_jwk(jwk)
                            .map_err(|e| AuthError::Config(format!("invalid JWK: {e}")))?;
                        let entry = Key {
                            key,
                            algorithms: vec![algorithm],
                        };
                        match jwk.common.key_id.clone().filter(|k| !k.is_empty()) {
                            Some(kid) => {
                                if by_kid.insert(kid.clone(), entry).is_some() {
                                    return Err(AuthError::Config(format!(
                                        "the JWKS names key id {kid:?} twice"
                                    )));
                                }
                            }
                            None => keys.push(entry),
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
    ///
    /// A token naming a `kid` the JWKS holds is checked against that key
    /// only; any other token against the keys without an id (shared secret,
    /// PEM public keys, JWKS entries without `kid`). A key only ever accepts
    /// its own algorithm, so an HS256 token "signed" with a public key's bytes
    /// is refused (algorithm confusion).
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = decode_header(token).map_err(|e| AuthError::InvalidToken(e.to_string()))?;
        let candidates: Vec<&Key> = match header.kid.as_deref().and_then(|k| self.by_kid.get(k)) {
            Some(k) => vec![k],
            None => self.keys.iter().collect(),
        };
        let mut last = match header.kid.as_deref() {
            Some(kid) => {
                AuthError::InvalidToken(format!("no configured key accepts key id {kid:?}"))
            }
            None => AuthError::InvalidToken(format!("no configured key accepts {:?}", header.alg)),
        };
        for key in candidates {
            if !key.algorithms.contains(&header.alg) {
                continue;
            }
            let mut validation = Validation::new(header.alg);
            validation.set_issuer(&[&self.issuer]);
            validation.set_audience(&[&self.audience]);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            validation.validate_exp = true;
            validation.validate_nbf = true;
            validation.leeway = CLOCK_LEEWAY_SECONDS;
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
