//! Logs, traces and metrics (TEN-7).
//!
//! Logs are JSON lines on stdout (or human-readable with
//! `LIVEDESK_LOG_FORMAT=pretty`), filtered by `RUST_LOG` (default `info`).
//! Metrics are always served as Prometheus text at `GET /metrics` (see
//! [`crate::metrics`]). Traces and metrics also go to an OTLP collector when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the exporter reads the standard
//! `OTEL_*` variables itself); W3C trace context is propagated in gRPC
//! metadata and NATS headers through the global propagator set here.
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Flushes telemetry when dropped: keep it alive until `main` returns.
#[must_use = "telemetry is flushed when the guard drops"]
pub struct TelemetryGuard {
    tracer: Option<SdkTracerProvider>,
    meter: Option<SdkMeterProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(t) = self.tracer.take() {
            let _ = t.shutdown();
        }
        if let Some(m) = self.meter.take() {
            let _ = m.shutdown();
        }
    }
}

/// Installs logging, tracing and metrics for `service`. Call once, in `main`.
pub fn init(service: &'static str) -> anyhow::Result<TelemetryGuard> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let pretty = std::env::var("LIVEDESK_LOG_FORMAT").is_ok_and(|v| v == "pretty");
    let fmt_layer = if pretty {
        tracing_subscriber::fmt::layer().with_target(false).boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed()
    };

    let otlp = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").is_ok_and(|v| !v.is_empty());
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service)
        .build();
    let (tracer, metric_exporter) = if otlp {
        let span_exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()?;
        let tracer = SdkTracerProvider::builder()
            .with_batch_exporter(span_exporter)
            .with_resource(resource.clone())
            .build();
        let metric_exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .build()?;
        opentelemetry::global::set_tracer_provider(tracer.clone());
        (Some(tracer), Some(metric_exporter))
    } else {
        (None, None)
    };
    // The Prometheus reader is always installed; OTLP joins it when set.
    let meter = Some(crate::metrics::install(resource, metric_exporter)?);
    // The log filter applies to logs only: trace context must keep flowing
    // (gRPC → outbox → NATS) even when RUST_LOG silences info spans.
    let otel_layer = tracer.as_ref().map(|t| {
        tracing_opentelemetry::layer()
            .with_tracer(t.tracer(service))
            .with_filter(LevelFilter::INFO)
    });
    tracing_subscriber::registry()
        .with(fmt_layer.with_filter(filter))
        .with(otel_layer)
        .try_init()?;
    Ok(TelemetryGuard { tracer, meter })
}

/// Installs the propagator, a tracer that exports nothing (so spans carry
/// real trace contexts and propagation can be observed) and a test-friendly
/// log layer. Idempotent. Metrics need nothing here: [`crate::metrics::meter`]
/// installs the process-wide Prometheus provider on first use.
pub fn init_for_tests() {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let tracer = SdkTracerProvider::builder()
        .build()
        .tracer("livedesk-tests");
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_test_writer()
                .with_filter(filter),
        )
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(LevelFilter::INFO),
        )
        .try_init();
}
