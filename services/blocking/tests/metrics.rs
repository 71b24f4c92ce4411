//! Metrics every service emits (TEN-7): RPC latency by method and status
//! code, outbox lag and consumer lag, read back through an in-memory
//! OpenTelemetry exporter.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use livedesk_auth::Role;
use livedesk_blocking::App;
use livedesk_proto::blocking::v1::ListBlocksRequest;
use livedesk_proto::blocking::v1::blocking_service_client::BlockingServiceClient;
use livedesk_testkit::{TestEnv, authed, eventually, new_org, spawn};
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

/// (metric name, attributes of each data point) of everything exported.
fn exported(exporter: &InMemoryMetricExporter) -> Vec<(String, Vec<Vec<KeyValue>>)> {
    let mut out = Vec::new();
    for rm in exporter.get_finished_metrics().unwrap() {
        for sm in rm.scope_metrics() {
            for m in sm.metrics() {
                let points: Vec<Vec<KeyValue>> = match m.data() {
                    AggregatedMetrics::F64(MetricData::Histogram(h)) => h
                        .data_points()
                        .map(|p| p.attributes().cloned().collect())
                        .collect(),
                    AggregatedMetrics::F64(MetricData::Gauge(g)) => g
                        .data_points()
                        .map(|p| p.attributes().cloned().collect())
                        .collect(),
                    AggregatedMetrics::U64(MetricData::Gauge(g)) => g
                        .data_points()
                        .map(|p| p.attributes().cloned().collect())
                        .collect(),
                    _ => vec![],
                };
                out.push((m.name().to_owned(), points));
            }
        }
    }
    out
}

// spec: TEN-7
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_latency_by_method_and_code_outbox_lag_and_consumer_lag_are_recorded() {
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    opentelemetry::global::set_meter_provider(provider.clone());

    let env = TestEnv::new().await.unwrap();
    let svc = spawn::<App>(&env.service_env("blocking", &[]))
        .await
        .unwrap();
    let mut client = BlockingServiceClient::new(svc.channel().await.unwrap());
    let org = new_org();
    client
        .list_blocks(authed(
            &env.token(org, "a", Role::Agent),
            ListBlocksRequest::default(),
        ))
        .await
        .unwrap();
    let denied = client
        .list_blocks(authed(
            &env.token(org, "v", Role::Visitor),
            ListBlocksRequest::default(),
        ))
        .await;
    assert_eq!(denied.unwrap_err().code(), tonic::Code::PermissionDenied);

    let all = eventually(20, "the three metrics", || {
        provider.force_flush().unwrap();
        let all = exported(&exporter);
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        let ok = [
            "rpc.server.duration",
            "outbox.oldest_age",
            "consumer.pending",
        ]
        .iter()
        .all(|n| names.contains(n));
        async move { ok.then_some(all) }
    })
    .await
    .unwrap();
    let rpc_points: Vec<&Vec<KeyValue>> = all
        .iter()
        .filter(|(n, _)| n == "rpc.server.duration")
        .flat_map(|(_, p)| p)
        .collect();
    let has = |code: i64| {
        rpc_points.iter().any(|attrs| {
            attrs.iter().any(|kv| {
                kv.key.as_str() == "rpc.method"
                    && kv.value.as_str() == "/livedesk.blocking.v1.BlockingService/ListBlocks"
            }) && attrs.iter().any(|kv| {
                kv.key.as_str() == "rpc.grpc.status_code"
                    && kv.value == opentelemetry::Value::I64(code)
            })
        })
    };
    assert!(has(0), "OK calls are counted: {rpc_points:?}");
    assert!(
        has(7),
        "PERMISSION_DENIED calls are counted apart: {rpc_points:?}"
    );
    let consumer_points: Vec<&Vec<KeyValue>> = all
        .iter()
        .filter(|(n, _)| n == "consumer.pending")
        .flat_map(|(_, p)| p)
        .collect();
    assert!(consumer_points.iter().any(|a| {
        a.iter()
            .any(|kv| kv.value.as_str() == "blocking-from-conversations")
    }));
    svc.stop().await.unwrap();
}
