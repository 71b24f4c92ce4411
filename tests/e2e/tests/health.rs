//! Health fails closed (TEN-7): while a service drains, every name it
//! answers for reports NOT_SERVING, not only `""`; and PostgreSQL going
//! away makes every name NOT_SERVING until it is back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use livedesk_e2e::Suite;
use livedesk_testkit::health::{
    ServingStatus, livedesk_services, wait_for_health, watch_health, watch_until,
};
use livedesk_testkit::{PrivatePostgres, RunningService, TestEnv, spawn};

/// `""` and every Livedesk service `svc` lists by reflection.
async fn health_names(svc: &RunningService) -> Vec<String> {
    let mut names = livedesk_services(svc.channel().await.unwrap())
        .await
        .unwrap();
    assert!(!names.is_empty(), "{} lists no service", svc.name);
    names.push(String::new());
    names
}

/// Stops `svc` and proves, through `Watch` streams opened before the stop
/// (new calls are refused once the drain starts), that each of `names`
/// reports NOT_SERVING while it drains.
async fn drains_not_serving(svc: RunningService) {
    let channel = svc.channel().await.unwrap();
    let names = health_names(&svc).await;
    wait_for_health(&channel, &names, ServingStatus::Serving, 20)
        .await
        .unwrap();
    let mut watches = watch_health(&channel, &names).await.unwrap();
    for (name, w) in &mut watches {
        watch_until(name, w, ServingStatus::Serving, 10)
            .await
            .unwrap();
    }
    let service = svc.name;
    let stopping = tokio::spawn(svc.stop());
    for (name, w) in &mut watches {
        watch_until(name, w, ServingStatus::NotServing, 10)
            .await
            .unwrap_or_else(|e| panic!("{service} while draining: {e:#}"));
    }
    // The watches are open RPCs: ending them lets the drain finish.
    drop(watches);
    stopping.await.unwrap().unwrap();
}

// spec: TEN-7
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn while_draining_every_named_service_reports_not_serving() {
    let Suite {
        routing,
        blocking,
        scheduling,
        conversations,
        reporting,
        notifications,
        env,
        ..
    } = Suite::start().await.unwrap();
    for svc in [
        notifications,
        reporting,
        conversations,
        scheduling,
        blocking,
        routing,
    ] {
        drains_not_serving(svc).await;
    }
    drop(env);
}

// spec: TEN-7
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_calls_follow_postgres_down_and_back() {
    let Some(mut pg) = PrivatePostgres::start().await.unwrap() else {
        return;
    };
    let env = TestEnv::new().await.unwrap();
    let vars = env.service_env(
        "blocking",
        &[(
            "LIVEDESK_BLOCKING__DATABASE_URL".into(),
            format!("{}/livedesk_blocking", pg.url()),
        )],
    );
    let svc = spawn::<livedesk_blocking::App>(&vars).await.unwrap();
    let channel = svc.channel().await.unwrap();
    let names = health_names(&svc).await;
    assert!(
        names
            .iter()
            .any(|n| n == "livedesk.privacy.v1.DataSubjectService"),
        "{names:?}"
    );
    wait_for_health(&channel, &names, ServingStatus::Serving, 20)
        .await
        .unwrap();
    let admin = env.token(
        livedesk_testkit::new_org(),
        "admin",
        livedesk_auth::Role::Admin,
    );
    let list = || {
        let mut c =
            livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient::new(
                channel.clone(),
            );
        let req = livedesk_testkit::authed(&admin, Default::default());
        async move { c.list_blocks(req).await }
    };
    list().await.unwrap();
    pg.stop().await.unwrap();
    wait_for_health(&channel, &names, ServingStatus::NotServing, 20)
        .await
        .unwrap();
    // A call the database cannot answer is UNAVAILABLE (retry), never
    // INTERNAL (a bug to report).
    let down = list().await.unwrap_err();
    assert_eq!(down.code(), tonic::Code::Unavailable, "{down:?}");
    pg.resume().await.unwrap();
    wait_for_health(&channel, &names, ServingStatus::Serving, 30)
        .await
        .unwrap();
    livedesk_testkit::eventually(30, "calls answered again", || async { list().await.ok() })
        .await
        .unwrap();
    svc.stop().await.unwrap();
}
