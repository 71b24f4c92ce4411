//! W3C trace context in NATS message headers (TEN-7).
use opentelemetry::propagation::{Extractor, Injector};
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct HeaderInjector<'a>(&'a mut async_nats::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key, value.as_str());
    }
}

struct HeaderExtractor<'a>(&'a async_nats::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.as_str())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_ref()).collect()
    }
}

/// The current span's `traceparent`, to store beside an outbox row so the
/// relay can propagate the original trace even after a restart.
pub fn current_traceparent() -> Option<String> {
    let cx = tracing::Span::current().context();
    let mut map = std::collections::HashMap::new();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut map));
    map.remove("traceparent")
}

/// Writes a stored `traceparent` into NATS headers.
pub fn inject(headers: &mut async_nats::HeaderMap, traceparent: Option<&str>) {
    if let Some(tp) = traceparent {
        let mut map = std::collections::HashMap::new();
        map.insert("traceparent".to_string(), tp.to_string());
        let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&map));
        opentelemetry::global::get_text_map_propagator(|p| {
            p.inject_context(&cx, &mut HeaderInjector(headers))
        });
    }
}

/// Makes `span` a child of the trace carried in `headers`.
pub fn set_parent(span: &tracing::Span, headers: Option<&async_nats::HeaderMap>) {
    if let Some(h) = headers {
        let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(h)));
        let _ = span.set_parent(cx);
    }
}
