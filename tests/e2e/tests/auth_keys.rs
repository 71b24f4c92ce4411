//! Secure by default (TEN-2): a real service verifying RS256 tokens with a
//! PEM public key and ES256/RS256 tokens with a JWKS, refusing the public
//! development secret; a service without a key refusing to start; and
//! livedeskctl minting with a private key against such a service.
//! Keys: the test-only fixtures of `libs/auth/tests/keys/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use livedesk_auth::{Issuer, Role};
use livedesk_platform::app::ServiceConfig;
use livedesk_platform::config::{DEV_SECRET, ports};
use livedesk_platform::{CommonConfig, ServiceApp};
use livedesk_proto::scheduling::v1 as pb;
use livedesk_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use livedesk_testkit::{RunningService, TEST_SECRET, TestEnv, authed, new_org, spawn};
use livedeskctl::tokens::TokenOptions;
use livedeskctl::{Clients, Endpoints, Tokens, commands};
use tonic::Code;
use uuid::Uuid;

const ISS: &str = "livedesk";
const AUD: &str = "livedesk-api";

fn key(name: &str) -> String {
    format!(
        "{}/../../libs/auth/tests/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn kv(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

/// testkit's environment with the given auth keys instead of its HS256
/// test secret (an empty value is no value).
fn keyed_env(env: &TestEnv, auth: &[(String, String)]) -> livedesk_platform::Env {
    let mut extra = vec![kv("LIVEDESK_AUTH_HS256_SECRET", "")];
    extra.extend(auth.iter().cloned());
    env.service_env("scheduling", &extra)
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(key(name)).unwrap()
}

fn issuer(private: &str, kid: Option<&str>) -> Issuer {
    let issuer = Issuer::from_private_pem(ISS, AUD, &pem(private)).unwrap();
    match kid {
        Some(kid) => issuer.with_key_id(kid),
        None => issuer,
    }
}

/// The code ListSchedules answers with `token`.
async fn list_schedules(svc: &RunningService, token: &str) -> Code {
    let mut client = SchedulingServiceClient::new(svc.channel().await.unwrap());
    match client
        .list_schedules(authed(token, pb::ListSchedulesRequest {}))
        .await
    {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

fn admin(issuer: &Issuer, org: Uuid) -> String {
    issuer.mint(org, "admin-1", Role::Admin, None, 300).unwrap()
}

// spec: TEN-2
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_with_an_rsa_public_key_accepts_its_tokens_and_refuses_the_dev_secret() {
    let env = TestEnv::new().await.unwrap();
    let vars = keyed_env(
        &env,
        &[
            kv("LIVEDESK_AUTH_PUBLIC_KEY_FILE", &key("rsa-public.pem")),
            kv("LIVEDESK_AUTH_SIGNING_KEY_FILE", &key("rsa-private.pem")),
        ],
    );
    let svc = spawn::<livedesk_scheduling::App>(&vars).await.unwrap();
    let org = new_org();

    let rsa = issuer("rsa-private.pem", None);
    assert_eq!(list_schedules(&svc, &admin(&rsa, org)).await, Code::Ok);
    for refused in [
        Issuer::hs256(ISS, AUD, DEV_SECRET.as_bytes()),
        Issuer::hs256(ISS, AUD, TEST_SECRET.as_bytes()),
        issuer("rsa-other-private.pem", None),
        issuer("ec-private.pem", None),
    ] {
        assert_eq!(
            list_schedules(&svc, &admin(&refused, org)).await,
            Code::Unauthenticated,
            "{refused:?}"
        );
    }

    // The service's own service-to-service tokens (its signing key) pass.
    let cfg = CommonConfig::from_env(&vars, "scheduling", ports::SCHEDULING).unwrap();
    let service_token = cfg
        .auth
        .issuer()
        .unwrap()
        .service_token(org, "conversations");
    assert_eq!(
        list_schedules(&svc, &service_token.unwrap()).await,
        Code::Ok
    );
    svc.stop().await.unwrap();
}

// spec: TEN-2
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_with_a_jwks_selects_the_key_by_kid() {
    let env = TestEnv::new().await.unwrap();
    let vars = keyed_env(
        &env,
        &[
            kv("LIVEDESK_AUTH_JWKS_FILE", &key("jwks.json")),
            kv("LIVEDESK_AUTH_SIGNING_KEY_FILE", &key("ec-private.pem")),
            kv("LIVEDESK_AUTH_SIGNING_KEY_ID", "ec-1"),
        ],
    );
    let svc = spawn::<livedesk_scheduling::App>(&vars).await.unwrap();
    let org = new_org();

    let ec = issuer("ec-private.pem", Some("ec-1"));
    assert_eq!(list_schedules(&svc, &admin(&ec, org)).await, Code::Ok);
    let rsa = issuer("rsa-private.pem", Some("rsa-1"));
    assert_eq!(list_schedules(&svc, &admin(&rsa, org)).await, Code::Ok);
    for refused in [
        issuer("ec-private.pem", None), // no kid: the JWKS names every key
        issuer("ec-private.pem", Some("ec-2")), // unknown kid
        issuer("ec-private.pem", Some("rsa-1")), // another key's kid
        issuer("ec-other-private.pem", Some("ec-1")),
        Issuer::hs256(ISS, AUD, DEV_SECRET.as_bytes()),
    ] {
        assert_eq!(
            list_schedules(&svc, &admin(&refused, org)).await,
            Code::Unauthenticated,
            "{refused:?}"
        );
    }
    let cfg = CommonConfig::from_env(&vars, "scheduling", ports::SCHEDULING).unwrap();
    let service_token = cfg
        .auth
        .issuer()
        .unwrap()
        .service_token(org, "conversations");
    assert_eq!(
        list_schedules(&svc, &service_token.unwrap()).await,
        Code::Ok,
        "service tokens carry the signing key's kid"
    );
    svc.stop().await.unwrap();
}

// spec: TEN-2
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_without_a_key_refuses_to_start() {
    let env = TestEnv::new().await.unwrap();
    let no_key = keyed_env(&env, &[]);
    let err = CommonConfig::from_env(&no_key, "scheduling", ports::SCHEDULING)
        .unwrap_err()
        .to_string();
    for named in [
        "LIVEDESK_AUTH_HS256_SECRET",
        "LIVEDESK_AUTH_PUBLIC_KEY_FILE",
        "LIVEDESK_AUTH_JWKS_FILE",
        "LIVEDESK_AUTH_ALLOW_DEV_SECRET",
    ] {
        assert!(err.contains(named), "{named} missing from: {err}");
    }
    // What the binary does: read the config, build, serve.
    assert!(spawn::<livedesk_scheduling::App>(&no_key).await.is_err());

    // The development secret, configured or implied, needs the flag.
    let dev = keyed_env(&env, &[kv("LIVEDESK_AUTH_HS256_SECRET", DEV_SECRET)]);
    let err = spawn::<livedesk_scheduling::App>(&dev).await.unwrap_err();
    assert!(format!("{err:#}").contains("development secret"), "{err:#}");

    // A public key alone cannot sign service tokens: refused at start.
    let verify_only = keyed_env(
        &env,
        &[kv("LIVEDESK_AUTH_PUBLIC_KEY_FILE", &key("rsa-public.pem"))],
    );
    let err = CommonConfig::from_env(&verify_only, "scheduling", ports::SCHEDULING)
        .unwrap_err()
        .to_string();
    assert!(err.contains("LIVEDESK_AUTH_SIGNING_KEY_FILE"), "{err}");

    // A signing key the verification keys do not accept: refused at start,
    // not at the first peer call (here: the JWKS needs the kid).
    let unnamed = keyed_env(
        &env,
        &[
            kv("LIVEDESK_AUTH_JWKS_FILE", &key("jwks.json")),
            kv("LIVEDESK_AUTH_SIGNING_KEY_FILE", &key("ec-private.pem")),
        ],
    );
    let err = spawn::<livedesk_scheduling::App>(&unnamed)
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("LIVEDESK_AUTH_SIGNING_KEY_ID"),
        "{err:#}"
    );

    // App::build itself refuses a configuration stripped of every key.
    let allowed = keyed_env(&env, &[kv("LIVEDESK_AUTH_ALLOW_DEV_SECRET", "true")]);
    let mut cfg = <livedesk_scheduling::Config as ServiceConfig>::from_env(&allowed).unwrap();
    cfg.common.auth.hs256_secret = None;
    cfg.common.auth.uses_dev_secret = false;
    assert!(livedesk_scheduling::App::build(cfg).await.is_err());
}

// spec: TEN-2
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dev_secret_is_used_only_when_allowed() {
    let env = TestEnv::new().await.unwrap();
    let allowed = keyed_env(&env, &[kv("LIVEDESK_AUTH_ALLOW_DEV_SECRET", "true")]);
    let svc = spawn::<livedesk_scheduling::App>(&allowed).await.unwrap();
    let dev = Issuer::hs256(ISS, AUD, DEV_SECRET.as_bytes());
    assert_eq!(
        list_schedules(&svc, &admin(&dev, new_org())).await,
        Code::Ok
    );
    svc.stop().await.unwrap();
}

fn ctl_options() -> TokenOptions {
    TokenOptions {
        token: None,
        token_file: None,
        private_key: None,
        key_id: None,
        secret: None,
        dev: false,
        issuer: ISS.into(),
        audience: AUD.into(),
    }
}

fn ctl_clients(svc: &RunningService) -> Clients {
    let url = svc.url();
    Clients::new(&Endpoints {
        routing: url.clone(),
        conversations: url.clone(),
        blocking: url.clone(),
        scheduling: url.clone(),
        reporting: url.clone(),
        notifications: url,
    })
    .unwrap()
}

// spec: TEN-2
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn livedeskctl_drives_a_service_with_its_private_key_or_a_given_token() {
    let env = TestEnv::new().await.unwrap();
    let vars = keyed_env(
        &env,
        &[
            kv("LIVEDESK_AUTH_JWKS_FILE", &key("jwks.json")),
            kv("LIVEDESK_AUTH_SIGNING_KEY_FILE", &key("ec-private.pem")),
            kv("LIVEDESK_AUTH_SIGNING_KEY_ID", "ec-1"),
        ],
    );
    let svc = spawn::<livedesk_scheduling::App>(&vars).await.unwrap();
    let clients = ctl_clients(&svc);
    let org = new_org();

    // --private-key (RSA) --key-id rsa-1: minted per call, accepted.
    let with_key = TokenOptions {
        private_key: Some(key("rsa-private.pem").into()),
        key_id: Some("rsa-1".into()),
        ..ctl_options()
    };
    let tokens = Tokens::with_credential(with_key.credential().unwrap(), Some(org)).unwrap();
    let created = commands::create_schedule(
        &clients,
        &tokens,
        "Office",
        "Europe/Paris",
        "mon-fri=09:00-17:00",
        None,
    )
    .await
    .unwrap();
    assert_eq!(created.name, "Office");

    // --token: the given token as is; it acts in its own org.
    let token = tokens.mint("ops", Role::Admin, None).unwrap();
    let given = TokenOptions {
        token: Some(token),
        ..ctl_options()
    };
    let as_is = Tokens::with_credential(given.credential().unwrap(), None).unwrap();
    assert_eq!(as_is.org, org);
    assert!(!as_is.can_mint());
    commands::create_schedule(&clients, &as_is, "Week-end", "UTC", "sat=10:00-14:00", None)
        .await
        .unwrap();

    // --dev against this cluster: refused by the service.
    let dev = TokenOptions {
        dev: true,
        ..ctl_options()
    };
    let dev_tokens = Tokens::with_credential(dev.credential().unwrap(), Some(org)).unwrap();
    let err = commands::create_schedule(&clients, &dev_tokens, "X", "UTC", "sat=10:00-14:00", None)
        .await
        .unwrap_err();
    let status = err.downcast_ref::<tonic::Status>().expect("a gRPC status");
    assert_eq!(status.code(), Code::Unauthenticated);

    // No credential at all: livedeskctl refuses before calling.
    assert!(ctl_options().credential().is_err());
    svc.stop().await.unwrap();
}
