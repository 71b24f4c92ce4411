//! The service binary's subcommands: `config` prints the effective
//! configuration with secrets redacted, unknown keys are refused, and
//! `migrate` applies the migrations and exits (TEN-6; the Helm migration Job).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use livedesk_testkit::TestEnv;
use sea_orm::ConnectionTrait;

fn binary() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_livedesk-blocking"));
    // Only what this test sets: nothing inherited decides the outcome.
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

// spec: TEN-6
#[test]
fn config_prints_the_effective_configuration_with_secrets_redacted() {
    let out = binary()
        .arg("config")
        .env("LIVEDESK_BLOCKING__GRPC_ADDR", "0.0.0.0:7000")
        .env(
            "LIVEDESK_AUTH_HS256_SECRET",
            "a-very-secret-value-0123456789",
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("LIVEDESK_BLOCKING__GRPC_ADDR=0.0.0.0:7000"),
        "{text}"
    );
    assert!(
        text.contains("LIVEDESK_NATS_URL=nats://127.0.0.1:4222"),
        "defaults are shown: {text}"
    );
    assert!(
        text.contains("LIVEDESK_AUTH_HS256_SECRET=<redacted>"),
        "{text}"
    );
    assert!(
        !text.contains("a-very-secret-value"),
        "the secret never appears"
    );
}

// spec: TEN-6
#[test]
fn an_unknown_key_of_the_service_is_refused_at_start() {
    let out = binary()
        .arg("config")
        .env("LIVEDESK_BLOCKING__GRPC_ADR", "0.0.0.0:7000")
        .env(
            "LIVEDESK_AUTH_HS256_SECRET",
            "a-very-secret-value-0123456789",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("LIVEDESK_BLOCKING__GRPC_ADR"), "{err}");
}

// spec: TEN-6
#[tokio::test]
async fn migrate_applies_the_schema_and_exits() {
    let env = TestEnv::new().await.unwrap();
    let url = env.database_url("blocking");
    let out = binary()
        .arg("migrate")
        .env("LIVEDESK_BLOCKING__DATABASE_URL", &url)
        // Every subcommand reads the whole configuration, keys included
        // (the chart's migration Job gets them too).
        .env(
            "LIVEDESK_AUTH_HS256_SECRET",
            "a-very-secret-value-0123456789",
        )
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = livedesk_platform::db::connect(&url).await.unwrap();
    let tables = db
        .query_all_raw(livedesk_platform::db::stmt(
            "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
            [],
        ))
        .await
        .unwrap();
    let names: Vec<String> = tables
        .iter()
        .map(|r| r.try_get::<String>("", "t").unwrap())
        .collect();
    for t in [
        "blocks",
        "block_identities",
        "block_audit",
        "event_outbox",
        "processed_events",
    ] {
        assert!(names.iter().any(|n| n == t), "{t} missing from {names:?}");
    }
    db.close().await.unwrap();
}
