//! RS256, ES256 and JWKS verification with real key pairs (the test-only
//! fixtures of `tests/keys/`), and the RFC 7519 reading of the time and
//! audience claims (TEN-2).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use livedesk_auth::{CLOCK_LEEWAY_SECONDS, Issuer, KeySource, Role, Verifier};
use serde_json::{Value, json};
use uuid::Uuid;

const ISS: &str = "livedesk";
const AUD: &str = "livedesk-api";

const RSA_PRIVATE: &[u8] = include_bytes!("keys/rsa-private.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("keys/rsa-public.pem");
const RSA_OTHER_PRIVATE: &[u8] = include_bytes!("keys/rsa-other-private.pem");
const EC_PRIVATE: &[u8] = include_bytes!("keys/ec-private.pem");
const EC_PUBLIC: &[u8] = include_bytes!("keys/ec-public.pem");
const EC_OTHER_PRIVATE: &[u8] = include_bytes!("keys/ec-other-private.pem");
const JWKS: &str = include_str!("keys/jwks.json");

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn verifier(source: KeySource) -> Verifier {
    Verifier::new(ISS, AUD, &[source]).unwrap()
}

fn rsa_verifier() -> Verifier {
    verifier(KeySource::PublicKeyPem(RSA_PUBLIC.to_vec()))
}

fn jwks_verifier() -> Verifier {
    verifier(KeySource::Jwks(JWKS.to_owned()))
}

/// Valid claims of an agent, as an identity provider would write them.
fn claims() -> Value {
    json!({
        "org": Uuid::now_v7(),
        "sub": "agent-1",
        "role": "agent",
        "iss": ISS,
        "aud": AUD,
        "exp": now() + 600,
        "iat": now(),
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn sign(alg: Algorithm, key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, key).unwrap()
}

fn rs256(claims: &Value) -> String {
    sign(
        Algorithm::RS256,
        &EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap(),
        None,
        claims,
    )
}

fn es256(kid: Option<&str>, claims: &Value) -> String {
    sign(
        Algorithm::ES256,
        &EncodingKey::from_ec_pem(EC_PRIVATE).unwrap(),
        kid,
        claims,
    )
}

// spec: TEN-2
#[test]
fn rs256_and_es256_tokens_are_accepted_by_their_public_keys() {
    let org = Uuid::now_v7();
    let rsa = Issuer::from_private_pem(ISS, AUD, RSA_PRIVATE).unwrap();
    assert_eq!(rsa.algorithm(), "RS256");
    let token = rsa.mint(org, "agent-1", Role::Agent, None, 60).unwrap();
    let p = rsa_verifier().verify(&token).unwrap();
    assert_eq!(
        (p.org_id, p.id.as_str(), p.role),
        (org, "agent-1", Role::Agent)
    );

    let ec = Issuer::from_private_pem(ISS, AUD, EC_PRIVATE).unwrap();
    assert_eq!(ec.algorithm(), "ES256");
    let token = ec.mint(org, "admin-1", Role::Admin, None, 60).unwrap();
    let p = verifier(KeySource::PublicKeyPem(EC_PUBLIC.to_vec()))
        .verify(&token)
        .unwrap();
    assert_eq!((p.org_id, p.role), (org, Role::Admin));
}

// spec: TEN-2
#[test]
fn a_token_signed_by_another_key_is_refused() {
    let org = Uuid::now_v7();
    let other_rsa = Issuer::from_private_pem(ISS, AUD, RSA_OTHER_PRIVATE).unwrap();
    let token = other_rsa.mint(org, "a", Role::Admin, None, 60).unwrap();
    assert!(rsa_verifier().verify(&token).is_err());

    let other_ec = Issuer::from_private_pem(ISS, AUD, EC_OTHER_PRIVATE).unwrap();
    let token = other_ec.mint(org, "a", Role::Admin, None, 60).unwrap();
    assert!(
        verifier(KeySource::PublicKeyPem(EC_PUBLIC.to_vec()))
            .verify(&token)
            .is_err()
    );
    // The RSA key does not accept an ES256 token of the right issuer either.
    let ec = Issuer::from_private_pem(ISS, AUD, EC_PRIVATE).unwrap();
    let token = ec.mint(org, "a", Role::Admin, None, 60).unwrap();
    assert!(rsa_verifier().verify(&token).is_err());
}

// spec: TEN-2
#[test]
fn a_jwks_token_selects_its_key_by_kid() {
    let org = Uuid::now_v7();
    let v = jwks_verifier();
    let rsa = Issuer::from_private_pem(ISS, AUD, RSA_PRIVATE)
        .unwrap()
        .with_key_id("rsa-1");
    let p = v
        .verify(&rsa.mint(org, "s", Role::Supervisor, None, 60).unwrap())
        .unwrap();
    assert_eq!((p.org_id, p.role), (org, Role::Supervisor));
    let ec = Issuer::from_private_pem(ISS, AUD, EC_PRIVATE)
        .unwrap()
        .with_key_id("ec-1");
    assert_eq!(
        v.verify(&ec.mint(org, "s", Role::Agent, None, 60).unwrap())
            .unwrap()
            .role,
        Role::Agent
    );
    // The EC key's signature under the RSA key's id: the named key decides.
    assert!(v.verify(&es256(Some("rsa-1"), &claims())).is_err());
    // A right signature naming the other EC key id is still checked
    // against that id's key, never against every key.
    let wrong_kid = Issuer::from_private_pem(ISS, AUD, RSA_PRIVATE)
        .unwrap()
        .with_key_id("ec-1");
    assert!(
        v.verify(&wrong_kid.mint(org, "s", Role::Agent, None, 60).unwrap())
            .is_err()
    );
}

// spec: TEN-2
#[test]
fn an_unknown_kid_or_no_kid_is_refused_by_a_jwks_of_named_keys() {
    let v = jwks_verifier();
    let err = v
        .verify(&es256(Some("ec-2"), &claims()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("ec-2"), "{err}");
    assert!(v.verify(&es256(None, &claims())).is_err());
}

// spec: TEN-2
#[test]
fn an_hs256_token_signed_with_the_public_key_bytes_is_refused() {
    // Algorithm confusion: a verifier that fed the RSA public key to HMAC
    // would accept this token.
    for public in [RSA_PUBLIC, EC_PUBLIC] {
        let token = sign(
            Algorithm::HS256,
            &EncodingKey::from_secret(public),
            None,
            &claims(),
        );
        assert!(
            verifier(KeySource::PublicKeyPem(public.to_vec()))
                .verify(&token)
                .is_err()
        );
    }
    let token = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(JWKS.as_bytes()),
        Some("rsa-1"),
        &claims(),
    );
    assert!(jwks_verifier().verify(&token).is_err());
}

// spec: TEN-2
#[test]
fn nbf_is_honoured_with_the_clock_leeway() {
    let v = rsa_verifier();
    let leeway = CLOCK_LEEWAY_SECONDS as i64;
    let future = rs256(&with(claims(), "nbf", json!(now() + leeway + 60)));
    let err = v.verify(&future).unwrap_err().to_string();
    assert!(err.to_lowercase().contains("immature"), "{err}");
    assert!(
        v.verify(&rs256(&with(claims(), "nbf", json!(now() + leeway / 2))))
            .is_ok(),
        "a not-before within the clock leeway is accepted"
    );
    assert!(
        v.verify(&rs256(&with(claims(), "nbf", json!(now() - 60))))
            .is_ok()
    );
}

// spec: TEN-2
#[test]
fn exp_is_checked_with_the_clock_leeway() {
    let v = rsa_verifier();
    let leeway = CLOCK_LEEWAY_SECONDS as i64;
    let expired = rs256(&with(claims(), "exp", json!(now() - leeway - 60)));
    let err = v.verify(&expired).unwrap_err().to_string();
    assert!(err.to_lowercase().contains("expired"), "{err}");
    assert!(
        v.verify(&rs256(&with(claims(), "exp", json!(now() - leeway / 2))))
            .is_ok(),
        "an expiry within the clock leeway is accepted"
    );
    assert!(
        (1..=60).contains(&CLOCK_LEEWAY_SECONDS),
        "a small leeway, one minute at most"
    );
}

// spec: TEN-2
#[test]
fn iat_is_optional_and_sub_exp_iss_aud_are_required() {
    let v = rsa_verifier();
    assert!(v.verify(&rs256(&without(claims(), "iat"))).is_ok());
    for required in ["sub", "exp", "iss", "aud"] {
        assert!(
            v.verify(&rs256(&without(claims(), required))).is_err(),
            "{required} is required"
        );
    }
}

// spec: TEN-2
#[test]
fn aud_may_be_a_string_or_an_array_containing_ours() {
    let v = rsa_verifier();
    let array = rs256(&with(claims(), "aud", json!(["other-api", AUD])));
    assert_eq!(v.verify(&array).unwrap().id, "agent-1");
    assert!(
        v.verify(&rs256(&with(claims(), "aud", json!(["other-api"]))))
            .is_err()
    );
    assert!(v.verify(&rs256(&with(claims(), "aud", json!([])))).is_err());
    assert!(
        v.verify(&rs256(&with(claims(), "aud", json!("other-api"))))
            .is_err()
    );
}

// spec: TEN-2
#[test]
fn a_jwks_with_a_secret_or_a_mismatched_algorithm_is_a_configuration_error() {
    let oct =
        json!({"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}]});
    assert!(Verifier::new(ISS, AUD, &[KeySource::Jwks(oct.to_string())]).is_err());
    let mut set: Value = serde_json::from_str(JWKS).unwrap();
    set["keys"][0]["alg"] = json!("ES256");
    assert!(Verifier::new(ISS, AUD, &[KeySource::Jwks(set.to_string())]).is_err());
    let mut twice: Value = serde_json::from_str(JWKS).unwrap();
    twice["keys"][1]["kid"] = json!("rsa-1");
    assert!(Verifier::new(ISS, AUD, &[KeySource::Jwks(twice.to_string())]).is_err());
    assert!(Verifier::new(ISS, AUD, &[KeySource::PublicKeyPem(b"not a key".to_vec())]).is_err());
    assert!(Issuer::from_private_pem(ISS, AUD, RSA_PUBLIC).is_err());
}
