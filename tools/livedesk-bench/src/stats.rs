//! Latency percentiles and rates: the arithmetic of every figure the
//! harness prints, kept pure so it is tested without I/O.
use std::time::Duration;

use serde::Serialize;

/// Summary of a set of latencies, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Latency {
    /// Summarises `samples` (nearest-rank percentiles); `None` when empty.
    pub fn of(samples: &[Duration]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let total: f64 = ms.iter().sum();
        Some(Self {
            count: ms.len(),
            p50_ms: nearest_rank(&ms, 50.0),
            p90_ms: nearest_rank(&ms, 90.0),
            p99_ms: nearest_rank(&ms, 99.0),
            max_ms: ms.last().copied().unwrap_or_default(),
            mean_ms: total / ms.len() as f64,
        })
    }
}

/// The nearest-rank percentile of sorted, non-empty `sorted`.
fn nearest_rank(sorted: &[f64], pct: f64) -> f64 {
    let rank = ((pct / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted.get(index).copied().unwrap_or_default()
}

/// Operations per second; 0 when nothing was measured.
pub fn per_second(ops: u64, wall: Duration) -> f64 {
    let secs = wall.as_secs_f64();
    if secs > 0.0 { ops as f64 / secs } else { 0.0 }
}

/// `numerator ÷ denominator`, `None` when the denominator is not positive.
pub fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator > 0.0).then(|| numerator / denominator)
}

/// The median of `values` (the lower middle for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len().checked_sub(1)? / 2;
    v.get(mid).copied()
}

/// Operations matched to what they caused: latencies from each start to
/// its effect, and the wall time from the first start to the last effect.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    pub latencies: Vec<Duration>,
    pub wall: Duration,
}

/// Matches `effects` (by key, when each was seen) to `starts` (by key,
/// when each began); effects of unknown keys are ignored.
pub fn matched<K: std::hash::Hash + Eq>(
    starts: &std::collections::HashMap<K, std::time::Instant>,
    effects: &std::collections::HashMap<K, std::time::Instant>,
) -> Matched {
    let mut latencies = Vec::with_capacity(effects.len());
    let mut last = None::<std::time::Instant>;
    for (key, at) in effects {
        if let Some(t0) = starts.get(key) {
            latencies.push(at.saturating_duration_since(*t0));
            last = last.max(Some(*at));
        }
    }
    let wall = match (starts.values().min(), last) {
        (Some(f), Some(l)) => l.saturating_duration_since(*f),
        _ => Duration::ZERO,
    };
    Matched { latencies, wall }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn effects_are_matched_to_their_starts() {
        use std::collections::HashMap;
        use std::time::Instant;
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let starts = HashMap::from([("a", t0), ("b", t0 + ms(10))]);
        let effects = HashMap::from([("a", t0 + ms(5)), ("b", t0 + ms(40)), ("z", t0 + ms(99))]);
        let mut m = super::matched(&starts, &effects);
        m.latencies.sort();
        assert_eq!(m.latencies, vec![ms(5), ms(30)]);
        assert_eq!(m.wall, ms(40));
    }
    use proptest::prelude::*;

    #[test]
    fn percentiles_of_one_to_hundred() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let l = Latency::of(&samples).unwrap();
        assert_eq!(l.count, 100);
        assert!((l.p50_ms - 50.0).abs() < 1e-9);
        assert!((l.p90_ms - 90.0).abs() < 1e-9);
        assert!((l.p99_ms - 99.0).abs() < 1e-9);
        assert!((l.max_ms - 100.0).abs() < 1e-9);
        assert!((l.mean_ms - 50.5).abs() < 1e-9);
    }

    #[test]
    fn empty_and_degenerate_inputs() {
        assert!(Latency::of(&[]).is_none());
        assert_eq!(per_second(10, Duration::ZERO), 0.0);
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(3.0, 2.0), Some(1.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    }

    proptest! {
        #[test]
        fn percentiles_are_ordered(ms in proptest::collection::vec(0u64..10_000, 1..300)) {
            let samples: Vec<Duration> = ms.iter().copied().map(Duration::from_micros).collect();
            let l = Latency::of(&samples).unwrap();
            prop_assert!(l.p50_ms <= l.p90_ms);
            prop_assert!(l.p90_ms <= l.p99_ms);
            prop_assert!(l.p99_ms <= l.max_ms);
            prop_assert!(l.mean_ms <= l.max_ms + 1e-9);
            prop_assert_eq!(l.count, samples.len());
        }
    }
}
