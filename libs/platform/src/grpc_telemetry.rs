//! Per-RPC tracing and metrics (TEN-7): a tower layer for servers that
//! continues the caller's W3C trace and records count and latency by method
//! and final status code, and an interceptor for clients that injects the
//! current trace.
//!
//! An RPC is recorded once, when its status is known: at the response for
//! a "trailers-only" answer (every unary error), else when the response
//! body yields its trailers (unary successes and every stream: the stream's
//! final status and its whole duration). A response dropped before its
//! status (the client went away) is recorded as CANCELLED (1).
//!
//! The method label only takes values from the server's own descriptors
//! ([`KnownMethods`]); any other path (callers choose paths freely) is
//! labelled `unknown`, so a scanner cannot grow the series without bound.
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use opentelemetry::KeyValue;
use opentelemetry::metrics::Histogram;
use opentelemetry::propagation::{Extractor, Injector};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(k, v);
        }
    }
}

/// gRPC status codes the layer assigns itself.
const CANCELLED: i32 = 1;
const UNKNOWN: i32 = 2;

fn rpc_duration() -> &'static Histogram<f64> {
    static H: OnceLock<Histogram<f64>> = OnceLock::new();
    H.get_or_init(|| {
        crate::metrics::meter()
            .f64_histogram("livedesk.rpc.server.duration")
            .with_unit("s")
            .with_description(
                "gRPC server latency by method and final status code (streams: until their end)",
            )
            .with_boundaries(crate::metrics::LATENCY_BUCKETS.to_vec())
            .build()
    })
}

fn grpc_status(headers: &http::HeaderMap) -> Option<i32> {
    headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
}

/// One RPC not yet recorded; recorded as CANCELLED if dropped unfinished.
struct Pending {
    method: String,
    started: Instant,
    span: tracing::Span,
    done: bool,
}

impl Pending {
    fn finish(&mut self, code: i32) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        self.span.record("rpc.grpc.status_code", code);
        rpc_duration().record(
            self.started.elapsed().as_secs_f64(),
            &[
                KeyValue::new("rpc.method", std::mem::take(&mut self.method)),
                KeyValue::new("rpc.grpc.status_code", i64::from(code)),
            ],
        );
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.finish(CANCELLED);
    }
}

/// A response body that records its RPC when the final status arrives in
/// the trailers, or as CANCELLED when dropped before.
pub struct MeteredBody<B> {
    inner: B,
    pending: Pending,
}

impl<B> std::fmt::Debug for MeteredBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredBody")
            .field("method", &self.pending.method)
            .finish()
    }
}

impl<B> http_body::Body for MeteredBody<B>
where
    B: http_body::Body + Unpin,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref() {
                    this.pending
                        .finish(grpc_status(trailers).unwrap_or(UNKNOWN));
                }
            }
            // A broken body, or one that ended without a status: clients
            // see an error either way.
            Poll::Ready(Some(Err(_))) | Poll::Ready(None) => this.pending.finish(UNKNOWN),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The method paths (`/package.Service/Method`) a server answers.
#[derive(Clone, Debug, Default)]
pub struct KnownMethods(Arc<BTreeSet<String>>);

impl KnownMethods {
    /// Every method of every service in the encoded `FileDescriptorSet`s.
    pub fn from_descriptor_sets(sets: &[&[u8]]) -> Result<Self, prost::DecodeError> {
        use prost::Message as _;
        let mut paths = BTreeSet::new();
        for raw in sets {
            let set = prost_types::FileDescriptorSet::decode(*raw)?;
            for file in &set.file {
                let package = file.package();
                for service in &file.service {
                    let service_name = if package.is_empty() {
                        service.name().to_owned()
                    } else {
                        format!("{package}.{}", service.name())
                    };
                    for method in &service.method {
                        paths.insert(format!("/{service_name}/{}", method.name()));
                    }
                }
            }
        }
        Ok(Self(Arc::new(paths)))
    }

    /// The metric label of `path`: itself when known, else `unknown`.
    fn label(&self, path: &str) -> String {
        if self.0.contains(path) {
            path.to_owned()
        } else {
            "unknown".to_owned()
        }
    }
}

/// Tower layer adding a span (child of the caller's trace) and metrics to
/// every RPC.
#[derive(Clone, Debug)]
pub struct GrpcTelemetryLayer {
    known: KnownMethods,
}

impl GrpcTelemetryLayer {
    /// Labels metrics with the methods in `known` (others: `unknown`).
    pub fn new(known: KnownMethods) -> Self {
        Self { known }
    }
}

impl<S> tower::Layer<S> for GrpcTelemetryLayer {
    type Service = GrpcTelemetry<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GrpcTelemetry {
            inner,
            known: self.known.clone(),
        }
    }
}

/// The service produced by [`GrpcTelemetryLayer`].
#[derive(Clone, Debug)]
pub struct GrpcTelemetry<S> {
    inner: S,
    known: KnownMethods,
}

impl<S, B, RB> tower::Service<http::Request<B>> for GrpcTelemetry<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    RB: http_body::Body + Unpin + Send + 'static,
{
    type Response = http::Response<MeteredBody<RB>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let method = req.uri().path().to_owned();
        let parent = opentelemetry::global::get_text_map_propagator(|p| {
            p.extract(&HeaderExtractor(req.headers()))
        });
        let span = tracing::info_span!("grpc", rpc.method = %method, rpc.grpc.status_code = tracing::field::Empty);
        let _ = span.set_parent(parent);
        // Take the ready service and leave a fresh clone behind (tower's rule).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let mut pending = Pending {
            method: self.known.label(&method),
            started: Instant::now(),
            span: span.clone(),
            done: false,
        };
        Box::pin(
            async move {
                match inner.call(req).await {
                    Ok(resp) => {
                        // "Trailers-only" answers (unary errors) carry the
                        // status in the headers; the others in trailers.
                        if let Some(code) = grpc_status(resp.headers()) {
                            pending.finish(code);
                        }
                        Ok(resp.map(|inner| MeteredBody { inner, pending }))
                    }
                    Err(e) => {
                        pending.finish(UNKNOWN);
                        Err(e)
                    }
                }
            }
            .instrument(span),
        )
    }
}

/// Client interceptor: injects the current span's trace context, and
/// optionally a bearer token, into outgoing metadata.
#[derive(Clone, Debug, Default)]
pub struct TracePropagation;

impl tonic::service::Interceptor for TracePropagation {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        inject_trace(req.metadata_mut());
        Ok(req)
    }
}

/// Injects the current span's context into gRPC metadata.
pub fn inject_trace(metadata: &mut tonic::metadata::MetadataMap) {
    let cx = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut MetadataInjector(metadata))
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::KnownMethods;

    #[test]
    fn only_described_methods_become_metric_labels() {
        let known = KnownMethods::from_descriptor_sets(&[
            livedesk_proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ])
        .unwrap();
        for path in [
            "/livedesk.routing.v1.RoutingService/SetAgentState",
            "/livedesk.notifications.v1.NotificationsService/Subscribe",
            "/grpc.health.v1.Health/Check",
        ] {
            assert_eq!(known.label(path), path);
        }
        assert_eq!(
            known.label("/livedesk.routing.v1.RoutingService/Scan1234"),
            "unknown"
        );
        assert_eq!(known.label("/wp-admin"), "unknown");
    }
}
