//! The gRPC server every service runs: its own services behind the auth
//! interceptor, plus grpc.health.v1 and reflection (unauthenticated), the
//! telemetry layer, and a drain on shutdown (TEN-7); beside it, the
//! Prometheus `GET /metrics` endpoint on its own port.
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::Runtime;

/// The health service name that reports liveness only (process up, not
/// draining); `""` and every named service report readiness.
pub const LIVENESS: &str = "liveness";

/// Serves `routes` on `listener` and metrics on `metrics` until `shutdown`
/// is cancelled, then stops accepting, reports NOT_SERVING and waits for
/// in-flight RPCs (bounded by the configured grace period). The metrics
/// endpoint stops with the same token.
///
/// `service_names` are the fully qualified gRPC services in `routes`; they
/// are listed by reflection and reported by health.
pub async fn serve(
    rt: &Runtime,
    listener: TcpListener,
    metrics: crate::metrics::MetricsListener,
    routes: Routes,
    service_names: &[&'static str],
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (reporter, health_service) = tonic_health::server::health_reporter();
    let mut reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(livedesk_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET);
    for name in service_names {
        reflection = reflection.with_service_name(*name);
    }
    let reflection = reflection
        .with_service_name("grpc.health.v1.Health")
        .build_v1()?;
    let routes = routes.add_service(health_service).add_service(reflection);
    let known = crate::grpc_telemetry::KnownMethods::from_descriptor_sets(&[
        livedesk_proto::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
    ])?;
    // Liveness (Kubernetes' liveness probe asks for this name): SERVING
    // while the process answers, whatever its dependencies say, so an
    // outage of PostgreSQL or NATS makes pods unready, never restarts them.
    reporter
        .set_service_status(LIVENESS, ServingStatus::Serving)
        .await;

    // Draining is decided under this lock, so the monitor can never report
    // SERVING again after the drain has reported NOT_SERVING.
    let draining = Arc::new(tokio::sync::Mutex::new(false));
    let monitor = tokio::spawn(monitor_health(
        rt.clone(),
        reporter.clone(),
        service_names.to_vec(),
        draining.clone(),
        shutdown.clone(),
    ));

    let metrics = tokio::spawn(metrics.serve(shutdown.clone()));

    let grace = Duration::from_secs(rt.config.shutdown_grace_seconds);
    let drained = shutdown.clone();
    let names = service_names.to_vec();
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let server = tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .http2_keepalive_interval(Some(Duration::from_secs(20)))
        .layer(crate::grpc_telemetry::GrpcTelemetryLayer::new(known))
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming, async move {
            drained.cancelled().await;
            // Every name a client may ask for goes NOT_SERVING at once, so
            // load balancers stop sending new calls to this instance.
            let mut draining = draining.lock().await;
            *draining = true;
            set_all(&reporter, &names, ServingStatus::NotServing).await;
            reporter
                .set_service_status(LIVENESS, ServingStatus::NotServing)
                .await;
        });
    tokio::pin!(server);
    let result = tokio::select! {
        r = &mut server => r.map_err(anyhow::Error::from),
        _ = async { shutdown.cancelled().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(grace_seconds = grace.as_secs(), "grace period over, dropping in-flight RPCs");
            Ok(())
        }
    };
    monitor.abort();
    let _ = metrics.await;
    result
}

async fn set_all(reporter: &HealthReporter, names: &[&'static str], status: ServingStatus) {
    reporter.set_service_status("", status).await;
    for name in names {
        reporter.set_service_status(*name, status).await;
    }
}

/// SERVING only while PostgreSQL and NATS both answer.
async fn monitor_health(
    rt: Runtime,
    reporter: HealthReporter,
    names: Vec<&'static str>,
    draining: Arc<tokio::sync::Mutex<bool>>,
    shutdown: CancellationToken,
) {
    let mut last = None;
    loop {
        let ok = crate::db::ping(&rt.db).await && crate::nats::is_connected(&rt.nats);
        let status = if ok {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        if last != Some(status) {
            let draining = draining.lock().await;
            if *draining {
                return;
            }
            if !ok {
                tracing::warn!("dependencies unreachable, reporting NOT_SERVING");
            }
            set_all(&reporter, &names, status).await;
            last = Some(status);
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(if ok { 2000 } else { 500 })) => {}
        }
    }
}
