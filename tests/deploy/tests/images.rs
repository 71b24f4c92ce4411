//! The container images (OPS-3), run for real with Podman: PostgreSQL, NATS
//! and the six service images on a private network, each service publishing
//! its gRPC port on 127.0.0.1. Every service must run as the numeric non-root
//! user its image declares and answer `grpc.health.v1/Check` with SERVING
//! through the published port. Needs `make images`; fails (never skips)
//! without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use livedesk_deploy_tests::podman::{
    Cleanup, log_tail, podman, published, require_images, unique_suffix, wait_until,
};
use livedesk_deploy_tests::{SERVICES, health};
use tonic_health::pb::health_check_response::ServingStatus;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const POSTGRES_IMAGE: &str = "localhost/livedesk/postgres:15";
const NATS_IMAGE: &str = "localhost/livedesk/nats:2.9";
const SERVICE_UID: u32 = 10001;
/// How long a service may take from `podman run` to SERVING.
const HEALTH_DEADLINE: Duration = Duration::from_secs(120);

fn service_image(service: &str) -> String {
    format!("localhost/livedesk/{service}:{VERSION}")
}

/// The uid an image's config runs as (`USER uid[:gid]`), which must be
/// numeric: Kubernetes' runAsNonRoot cannot check a user name.
async fn image_uid(image: &str) -> anyhow::Result<u32> {
    let user = podman(&["image", "inspect", "--format", "{{.Config.User}}", image]).await?;
    let uid = user.split(':').next().unwrap_or_default();
    uid.parse()
        .with_context(|| format!("{image} runs as {user:?}, not a numeric uid"))
}

/// The real and effective uids of a container's main process, read by the
/// host kernel (/proc/PID/status), not by anything inside the image.
async fn process_uids(container: &str) -> anyhow::Result<Vec<u32>> {
    let pid = podman(&["inspect", "--format", "{{.State.Pid}}", container]).await?;
    if pid == "0" {
        bail!(
            "{container} is not running: {}",
            log_tail(container, 30).await
        );
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status of {container}"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .context("no Uid line")?;
    line.split_whitespace()
        .skip(1)
        .map(|u| u.parse().context("uid"))
        .collect()
}

/// Starts one service container on `network` with its database and NATS in
/// the same network and its peers by their network aliases.
async fn start_service(
    cleanup: &mut Cleanup,
    network: &str,
    suffix: &str,
    service: &str,
) -> anyhow::Result<String> {
    let name = format!("livedesk-img-{service}-{suffix}");
    let p = format!("LIVEDESK_{}__", service.to_uppercase());
    let mut env = vec![
        format!("{p}DATABASE_URL=postgres://postgres@postgres:5432/livedesk_{service}"),
        "LIVEDESK_NATS_URL=nats://nats:4222".to_string(),
        "LIVEDESK_AUTH_HS256_SECRET=images-test-secret-of-32-bytes!!".to_string(),
        "LIVEDESK_DB_MAX_CONNECTIONS=4".to_string(),
    ];
    let peers: &[&str] = match service {
        "conversations" => &["blocking", "scheduling"],
        "blocking" => &["conversations"],
        "scheduling" => &["routing"],
        _ => &[],
    };
    for peer in peers {
        env.push(format!(
            "{p}{}_URL=http://{peer}:50051",
            peer.to_uppercase()
        ));
    }
    let image = service_image(service);
    let mut args = vec![
        "--network",
        network,
        "--network-alias",
        service,
        "-p",
        "127.0.0.1::50051",
    ];
    for e in &env {
        args.push("-e");
        args.push(e);
    }
    args.push(&image);
    cleanup.run(&name, &args).await?;
    Ok(name)
}

/// Waits until the container's published gRPC port answers readiness with
/// SERVING, then checks liveness there too; fails at once when the container
/// has exited (a service refusing its configuration never becomes ready).
async fn serving(service: &str, container: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + HEALTH_DEADLINE;
    loop {
        let running = podman(&["inspect", "--format", "{{.State.Running}}", container]).await?;
        ensure!(running == "true", "{service}: {container} exited");
        let last = match published(container, 50051).await {
            Ok(addr) => match health(&addr, "").await {
                Ok(ServingStatus::Serving) => {
                    let live = health(&addr, "liveness").await?;
                    ensure!(
                        live == ServingStatus::Serving,
                        "{service} liveness is {live:?}"
                    );
                    return Ok(());
                }
                Ok(other) => format!("readiness {other:?}"),
                Err(e) => format!("{e:#}"),
            },
            Err(e) => format!("{e:#}"),
        };
        ensure!(
            Instant::now() < deadline,
            "{service} not SERVING within {HEALTH_DEADLINE:?} ({last})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// spec: OPS-3
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_image_runs_as_non_root_and_answers_health_through_its_published_port() {
    let images: Vec<String> = SERVICES.iter().map(|s| service_image(s)).collect();
    let mut all: Vec<&str> = images.iter().map(String::as_str).collect();
    all.extend([POSTGRES_IMAGE, NATS_IMAGE]);
    require_images(&all).await.unwrap();

    // The image config: a numeric, non-root user (before anything runs).
    for (service, image) in SERVICES.iter().zip(&images) {
        let uid = image_uid(image).await.unwrap();
        assert_eq!(uid, SERVICE_UID, "{image} must run as uid {SERVICE_UID}");
        // The contract the chart and manifests rely on: the binary as the
        // entrypoint, `serve` as the overridable command (`migrate` in the
        // migration job), both ports declared.
        let config = podman(&[
            "image",
            "inspect",
            "--format",
            "{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{json .Config.ExposedPorts}}",
            image,
        ])
        .await
        .unwrap();
        assert_eq!(
            config,
            format!(
                r#"["/usr/local/bin/livedesk-{service}"] ["serve"] {{"50051/tcp":{{}},"9090/tcp":{{}}}}"#
            ),
            "{image} config"
        );
    }

    let suffix = unique_suffix();
    let network = format!("livedesk-img-{suffix}");
    let mut cleanup = Cleanup::new();
    cleanup.network(&network).await.unwrap();

    let pg = format!("livedesk-img-postgres-{suffix}");
    let nats = format!("livedesk-img-nats-{suffix}");
    cleanup
        .run(
            &pg,
            &[
                "--network",
                &network,
                "--network-alias",
                "postgres",
                POSTGRES_IMAGE,
                "-c",
                "fsync=off",
            ],
        )
        .await
        .unwrap();
    cleanup
        .run(
            &nats,
            &["--network", &network, "--network-alias", "nats", NATS_IMAGE],
        )
        .await
        .unwrap();
    // The services exit when their database or NATS does not answer at start.
    wait_until(
        "postgres accepts connections",
        Duration::from_secs(60),
        || {
            let pg = pg.clone();
            async move {
                Ok(podman(&[
                    "exec",
                    &pg,
                    "pg_isready",
                    "-q",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                ])
                .await
                .is_ok())
            }
        },
    )
    .await
    .unwrap();
    wait_until("nats is ready", Duration::from_secs(60), || {
        let nats = nats.clone();
        async move { Ok(log_tail(&nats, 50).await.contains("Server is ready")) }
    })
    .await
    .unwrap();

    let mut containers = Vec::new();
    for service in SERVICES {
        let name = start_service(&mut cleanup, &network, &suffix, service)
            .await
            .unwrap();
        containers.push((service, name));
    }

    // All six are polled at once: wall time is the slowest start, not the sum.
    let mut checks = tokio::task::JoinSet::new();
    for (service, name) in containers.clone() {
        checks.spawn(async move {
            let result = serving(service, &name).await;
            if let Err(e) = result {
                bail!(
                    "{e:#}\nlast log lines of {name}:\n{}",
                    log_tail(&name, 40).await
                );
            }
            Ok::<_, anyhow::Error>(service)
        });
    }
    let mut failures = Vec::new();
    while let Some(joined) = checks.join_next().await {
        match joined {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => failures.push(format!("{e:#}")),
            Err(e) => failures.push(format!("health task: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));

    // The running process (not only the image config) is the non-root user.
    for (service, name) in &containers {
        let uids = process_uids(name).await.unwrap();
        assert!(
            uids.iter().all(|&u| u == SERVICE_UID),
            "{service} runs with uids {uids:?}, expected {SERVICE_UID} (never 0)"
        );
        let exec_uid = podman(&["exec", name, "id", "-u"]).await.unwrap();
        assert_eq!(exec_uid, SERVICE_UID.to_string(), "{service}: id -u");
    }
}
