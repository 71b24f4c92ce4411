//! Prometheus metrics over HTTP (TEN-7).
//!
//! Code records through OpenTelemetry instruments made from [`meter`]; one
//! process-wide meter provider aggregates them. Two readers share it: a
//! pull reader rendered as Prometheus text at `GET /metrics` (always on),
//! and the OTLP push exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` is set
//! (added by [`crate::telemetry::init`]).
//!
//! The provider is per process, the HTTP endpoint per service instance:
//! in production one process runs one service, so its endpoint shows that
//! service's series; tests run several services in one process, and each
//! endpoint then serves the same process-wide series.
//!
//! Names: an instrument named `livedesk.rpc.server.duration` with unit `s`
//! is exported as `livedesk_rpc_server_duration_seconds` (dots become
//! underscores, the unit becomes a suffix, monotonic counters get
//! `_total`), and attribute `rpc.method` becomes label `rpc_method`.
//! Prometheus adds `job`, `pod` and `service` labels when it scrapes.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use opentelemetry::metrics::MeterProvider as _;
/// The instrument types, so services record without naming OpenTelemetry.
pub use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{
    InstrumentKind, ManualReader, Pipeline, SdkMeterProvider, Temporality,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Name of the meter (instrumentation scope) every Livedesk instrument uses.
pub const SCOPE: &str = "livedesk";

/// Bucket bounds (seconds) of latency histograms: 1 ms to 5 minutes, so
/// both unary RPCs and long streams land in a bucket that means something.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// The pull side of the provider: a manual reader shared between the
/// provider (which registers its pipeline) and the HTTP endpoint.
#[derive(Clone, Debug)]
struct PullReader(Arc<ManualReader>);

impl MetricReader for PullReader {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.0.register_pipeline(pipeline);
    }
    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

struct Installed {
    provider: SdkMeterProvider,
    pull: PullReader,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

fn build(resource: Resource, otlp: Option<opentelemetry_otlp::MetricExporter>) -> Installed {
    let pull = PullReader(Arc::new(
        ManualReader::builder()
            .with_temporality(Temporality::Cumulative)
            .build(),
    ));
    let mut builder = SdkMeterProvider::builder()
        .with_resource(resource)
        .with_reader(pull.clone());
    if let Some(exporter) = otlp {
        builder = builder.with_periodic_exporter(exporter);
    }
    let provider = builder.build();
    opentelemetry::global::set_meter_provider(provider.clone());
    Installed { provider, pull }
}

fn pipeline() -> &'static Installed {
    INSTALLED.get_or_init(|| build(Resource::builder().build(), None))
}

/// The process-wide meter every instrument is made from. It installs the
/// provider (Prometheus only) on first use when `telemetry::init` has not
/// run, so instruments made in tests, or before init, are never no-ops.
pub fn meter() -> Meter {
    pipeline().provider.meter(SCOPE)
}

/// Installs the provider with `resource` and, when given, the OTLP push
/// exporter. Refuses when instruments were already made without it: they
/// would silently never reach the collector.
pub(crate) fn install(
    resource: Resource,
    otlp: Option<opentelemetry_otlp::MetricExporter>,
) -> anyhow::Result<SdkMeterProvider> {
    let mut otlp = Some(otlp);
    let mut installed_now = false;
    let p = INSTALLED.get_or_init(|| {
        installed_now = true;
        build(resource, otlp.take().flatten())
    });
    if !installed_now && otlp.flatten().is_some() {
        anyhow::bail!(
            "metrics were recorded before telemetry::init, so they cannot be exported over OTLP"
        );
    }
    Ok(p.provider.clone())
}

/// Renders every series of the process in the Prometheus text exposition
/// format (version 0.0.4).
pub fn render() -> anyhow::Result<String> {
    let mut rm = ResourceMetrics::default();
    pipeline()
        .pull
        .collect(&mut rm)
        .map_err(|e| anyhow::anyhow!("collecting metrics: {e}"))?;
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    for scope in rm.scope_metrics() {
        for metric in scope.metrics() {
            add_family(&mut families, metric);
        }
    }
    let mut out = String::new();
    for (name, family) in &families {
        let _ = writeln!(out, "# HELP {name} {}", escape_help(&family.help));
        let _ = writeln!(out, "# TYPE {name} {}", family.kind);
        out.push_str(&family.lines);
    }
    Ok(out)
}

struct Family {
    kind: &'static str,
    help: String,
    lines: String,
}

fn add_family(families: &mut BTreeMap<String, Family>, metric: &Metric) {
    let kind = match metric.data() {
        AggregatedMetrics::F64(d) => kind_of(d),
        AggregatedMetrics::U64(d) => kind_of(d),
        AggregatedMetrics::I64(d) => kind_of(d),
    };
    let Some(kind) = kind else { return };
    let name = prometheus_name(metric.name(), metric.unit(), kind == "counter");
    let lines = match metric.data() {
        AggregatedMetrics::F64(d) => render_points(&name, d, fmt_f64),
        AggregatedMetrics::U64(d) => render_points(&name, d, |v: u64| v.to_string()),
        AggregatedMetrics::I64(d) => render_points(&name, d, |v: i64| v.to_string()),
    };
    match families.get_mut(&name) {
        Some(f) if f.kind == kind => f.lines.push_str(&lines),
        Some(_) => {
            tracing::warn!(metric = %name, "two instruments of different kinds share a name; one is not exported");
        }
        None => {
            families.insert(
                name,
                Family {
                    kind,
                    help: metric.description().to_owned(),
                    lines,
                },
            );
        }
    }
}

/// The Prometheus type of `data`; `None` for exponential histograms,
/// which Livedesk does not configure.
fn kind_of<T>(data: &MetricData<T>) -> Option<&'static str> {
    match data {
        MetricData::Gauge(_) => Some("gauge"),
        MetricData::Sum(s) if s.is_monotonic() => Some("counter"),
        MetricData::Sum(_) => Some("gauge"),
        MetricData::Histogram(_) => Some("histogram"),
        MetricData::ExponentialHistogram(_) => None,
    }
}

fn render_points<T: Copy>(name: &str, data: &MetricData<T>, fmt: impl Fn(T) -> String) -> String {
    let mut out = String::new();
    match data {
        MetricData::Gauge(g) => {
            for p in g.data_points() {
                let l = labels(p.attributes(), None);
                let _ = writeln!(out, "{name}{l} {}", fmt(p.value()));
            }
        }
        MetricData::Sum(s) => {
            for p in s.data_points() {
                let l = labels(p.attributes(), None);
                let _ = writeln!(out, "{name}{l} {}", fmt(p.value()));
            }
        }
        MetricData::Histogram(h) => {
            for p in h.data_points() {
                // OTel counts per bucket; Prometheus buckets are cumulative.
                let mut cumulative = 0u64;
                let bounds: Vec<f64> = p.bounds().collect();
                for (i, count) in p.bucket_counts().enumerate() {
                    cumulative += count;
                    let le = bounds
                        .get(i)
                        .map_or_else(|| "+Inf".to_owned(), |b| fmt_f64(*b));
                    let l = labels(p.attributes(), Some(&le));
                    let _ = writeln!(out, "{name}_bucket{l} {cumulative}");
                }
                let l = labels(p.attributes(), None);
                let _ = writeln!(out, "{name}_sum{l} {}", fmt(p.sum()));
                let _ = writeln!(out, "{name}_count{l} {}", p.count());
            }
        }
        MetricData::ExponentialHistogram(_) => {}
    }
    out
}

/// `livedesk.rpc.server.duration` + `s` → `livedesk_rpc_server_duration_seconds`.
fn prometheus_name(name: &str, unit: &str, counter: bool) -> String {
    let mut out = sanitize(name, true);
    let suffix = match unit {
        "" | "1" => None,
        u if u.starts_with('{') => None,
        "s" => Some("seconds".to_owned()),
        "ms" => Some("milliseconds".to_owned()),
        "By" => Some("bytes".to_owned()),
        other => Some(sanitize(other, false)),
    };
    if let Some(s) = suffix
        && !out.ends_with(&format!("_{s}"))
    {
        out.push('_');
        out.push_str(&s);
    }
    if counter && !out.ends_with("_total") {
        out.push_str("_total");
    }
    out
}

/// Keeps `[a-zA-Z0-9_]` (and `:` in metric names), replaces the rest with
/// `_`, and never starts with a digit.
fn sanitize(raw: &str, metric: bool) -> String {
    let mut out: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || (metric && c == ':') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

fn labels<'a>(attrs: impl Iterator<Item = &'a KeyValue>, le: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = attrs
        .map(|kv| (sanitize(kv.key.as_str(), false), value_text(&kv.value)))
        .collect();
    pairs.sort();
    if let Some(le) = le {
        pairs.push(("le".to_owned(), le.to_owned()));
    }
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape_value(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn value_text(v: &Value) -> String {
    v.as_str().into_owned()
}

fn escape_value(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

fn fmt_f64(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        v.to_string()
    }
}

/// A bound, not yet serving, `/metrics` endpoint of one service instance.
#[derive(Debug)]
pub struct MetricsListener {
    listener: TcpListener,
    addr: SocketAddr,
}

impl MetricsListener {
    /// Binds `addr`.
    pub async fn bind(addr: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("binding the metrics address {addr}: {e}"))?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, "metrics endpoint bound (GET /metrics)");
        Ok(Self { listener, addr })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves `GET /metrics` until `shutdown`; open connections are closed
    /// gracefully then.
    pub async fn serve(self, shutdown: CancellationToken) {
        loop {
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => break,
                a = self.listener.accept() => a,
            };
            match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(serve_connection(stream, shutdown.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics endpoint: accept failed");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    }
                }
            }
        }
    }
}

async fn serve_connection(stream: tokio::net::TcpStream, shutdown: CancellationToken) {
    let io = hyper_util::rt::TokioIo::new(stream);
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .serve_connection(io, hyper::service::service_fn(handle));
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

async fn handle(
    req: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<String>, std::convert::Infallible> {
    let (status, content_type, body) = match (req.method(), req.uri().path()) {
        (&http::Method::GET, "/metrics") => match render() {
            Ok(text) => (
                http::StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                text,
            ),
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "metrics endpoint: render failed");
                (
                    http::StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain; charset=utf-8",
                    "metrics unavailable\n".to_owned(),
                )
            }
        },
        (_, "/metrics") => (
            http::StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "only GET\n".to_owned(),
        ),
        _ => (
            http::StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found: metrics are at /metrics\n".to_owned(),
        ),
    };
    let mut resp = http::Response::new(body);
    *resp.status_mut() = status;
    if let Ok(v) = http::HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    Ok(resp)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prometheus_conventions() {
        assert_eq!(
            prometheus_name("livedesk.rpc.server.duration", "s", false),
            "livedesk_rpc_server_duration_seconds"
        );
        assert_eq!(
            prometheus_name("livedesk.consumer.pending_messages", "{message}", false),
            "livedesk_consumer_pending_messages"
        );
        assert_eq!(
            prometheus_name("livedesk.events.handled", "", true),
            "livedesk_events_handled_total"
        );
        assert_eq!(
            sanitize("rpc.grpc.status_code", false),
            "rpc_grpc_status_code"
        );
    }

    #[test]
    fn recorded_series_are_rendered_with_cumulative_buckets() {
        let h = meter()
            .f64_histogram("test.render.duration")
            .with_unit("s")
            .with_boundaries(vec![0.1, 1.0])
            .build();
        h.record(0.05, &[KeyValue::new("rpc.method", "/a\"b")]);
        h.record(0.5, &[KeyValue::new("rpc.method", "/a\"b")]);
        let g = meter().u64_gauge("test.render.depth").build();
        g.record(7, &[]);
        let text = render().unwrap();
        assert!(
            text.contains("# TYPE test_render_duration_seconds histogram"),
            "{text}"
        );
        assert!(
            text.contains(
                "test_render_duration_seconds_bucket{rpc_method=\"/a\\\"b\",le=\"0.1\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("test_render_duration_seconds_bucket{rpc_method=\"/a\\\"b\",le=\"1\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("test_render_duration_seconds_count{rpc_method=\"/a\\\"b\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE test_render_depth gauge\ntest_render_depth 7\n"),
            "{text}"
        );
    }
}
