//! Token verification rules (TEN-2) and the role matrix helpers (TEN-3).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use livedesk_auth::{Issuer, KeySource, Role, Verifier};
use uuid::Uuid;

const SECRET: &[u8] = b"a-development-secret-of-32-bytes!";

fn verifier() -> Verifier {
    Verifier::new(
        "livedesk",
        "livedesk-api",
        &[KeySource::SharedSecret(SECRET.to_vec())],
    )
    .unwrap()
}

// spec: TEN-2
#[test]
fn a_valid_token_yields_its_org_principal_and_role() {
    let org = Uuid::now_v7();
    let token = Issuer::hs256("livedesk", "livedesk-api", SECRET)
        .mint(org, "agent-1", Role::Agent, Some("Ada"), 60)
        .unwrap();
    let p = verifier()
        .verify_header(Some(&format!("Bearer {token}")))
        .unwrap();
    assert_eq!(p.org_id, org);
    assert_eq!(p.id, "agent-1");
    assert_eq!(p.role, Role::Agent);
    assert_eq!(p.name.as_deref(), Some("Ada"));
}

// spec: TEN-2
#[test]
fn wrong_issuer_audience_key_expiry_or_missing_header_are_refused() {
    let org = Uuid::now_v7();
    let v = verifier();
    let wrong_iss =
        Issuer::hs256("other", "livedesk-api", SECRET).mint(org, "a", Role::Agent, None, 60);
    let wrong_aud =
        Issuer::hs256("livedesk", "other", SECRET).mint(org, "a", Role::Agent, None, 60);
    let wrong_key = Issuer::hs256(
        "livedesk",
        "livedesk-api",
        b"another-secret-of-32-bytes-long!!",
    )
    .mint(org, "a", Role::Agent, None, 60);
    let expired =
        Issuer::hs256("livedesk", "livedesk-api", SECRET).mint(org, "a", Role::Agent, None, -3600);
    for token in [wrong_iss, wrong_aud, wrong_key, expired] {
        assert!(v.verify(&token.unwrap()).is_err());
    }
    assert!(v.verify_header(None).is_err());
    assert!(v.verify_header(Some("Basic abc")).is_err());
    assert!(v.verify("not.a.token").is_err());
}

// spec: TEN-2
#[test]
fn a_too_short_shared_secret_is_a_configuration_error() {
    assert!(Verifier::new("i", "a", &[KeySource::SharedSecret(b"short".to_vec())]).is_err());
    assert!(Verifier::new("i", "a", &[]).is_err());
}

// spec: TEN-3
#[test]
fn role_helpers_follow_the_matrix() {
    let org = Uuid::now_v7();
    let visitor = livedesk_auth::Principal::new(org, "v", Role::Visitor);
    let agent = livedesk_auth::Principal::new(org, "a", Role::Agent);
    let supervisor = livedesk_auth::Principal::new(org, "s", Role::Supervisor);
    let admin = livedesk_auth::Principal::new(org, "ad", Role::Admin);
    assert!(visitor.require_staff("x").is_err());
    assert!(agent.require_staff("x").is_ok());
    assert!(agent.require_supervisor("x").is_err());
    assert!(supervisor.require_supervisor("x").is_ok());
    assert!(supervisor.require_admin("unblock").is_err());
    assert!(admin.require_admin("unblock").is_ok());
    assert!(!agent.sees_whole_org() && supervisor.sees_whole_org());
}
