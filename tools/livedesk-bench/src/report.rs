//! The result: one record per scenario (the hot path, its baseline and
//! their ratio), the parameters and the machine, written as JSON and
//! printed as a short aligned table.
use std::path::Path;

use serde::Serialize;

use crate::baseline::Baseline;
use crate::cli::Cli;
use crate::stats::{Latency, ratio};

/// The whole run.
#[derive(Debug, Serialize)]
pub struct BenchResult {
    pub started_at: String,
    pub mode: String,
    pub machine: Machine,
    /// Where the suite under test actually was (with --spawn, not the
    /// remote-mode flags in `params`).
    pub suite: SuiteInfo,
    pub params: Cli,
    /// Each service's memory (one entry per replica) once started, before
    /// any load; `None` unless the services run as processes
    /// (`--spawn --processes`).
    pub idle_memory: Option<std::collections::BTreeMap<String, Vec<crate::memory::Rss>>>,
    pub scenarios: Vec<ScenarioResult>,
}

pub use crate::machine::Machine;

/// The infrastructure of the suite under test.
#[derive(Debug, Serialize)]
pub struct SuiteInfo {
    /// PostgreSQL server, password hidden.
    pub database_server: String,
    pub nats_url: String,
    pub prefix: String,
    /// Whether the reporting database was known (the COPY baseline).
    pub reporting_database_known: bool,
}

/// `url` with any password replaced by `***`.
pub fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// One hot path against its physical limit.
#[derive(Debug, Serialize)]
pub struct ScenarioResult {
    pub name: &'static str,
    /// What `rate_per_s` counts (e.g. "messages/s").
    pub unit: &'static str,
    pub ops: u64,
    pub concurrency: usize,
    pub wall_seconds: f64,
    pub rate_per_s: f64,
    /// End-to-end latency of one operation.
    pub latency: Option<Latency>,
    pub errors: u64,
    pub first_error: Option<String>,
    pub baseline: Option<Baseline>,
    /// `rate_per_s ÷ baseline.rate_per_s`.
    pub ratio: Option<f64>,
    /// The latency at half the measured rate, paced open loop; `None`
    /// for a scenario whose bar is throughput and memory (export).
    pub half_load: Option<HalfLoad>,
    /// Scenario-specific figures (bytes/s, RPC latency, seeding rate …).
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A paced run at half the scenario's measured rate (`load::pace`).
#[derive(Debug, Clone, Serialize)]
pub struct HalfLoad {
    /// The rate the operations were started at.
    pub rate_per_s: f64,
    pub ops: u64,
    pub errors: u64,
    pub latency: Option<Latency>,
}

impl HalfLoad {
    /// The figures of a paced run of `expected` operations whose effects
    /// were seen elsewhere (a delivery, an offer): what `measured` matched;
    /// an operation never seen is an error like a failed call.
    pub fn of_matched(
        rate_per_s: f64,
        expected: usize,
        paced: &crate::load::Run,
        measured: &crate::stats::Matched,
    ) -> Self {
        let seen = measured.latencies.len();
        Self {
            rate_per_s,
            ops: seen as u64,
            errors: paced.errors + expected.saturating_sub(seen) as u64,
            latency: Latency::of(&measured.latencies),
        }
    }

    /// The figures of a paced `run` at `rate_per_s`.
    pub fn of(rate_per_s: f64, run: &crate::load::Run) -> Self {
        Self {
            rate_per_s,
            ops: run.ok(),
            errors: run.errors,
            latency: Latency::of(&run.latencies),
        }
    }
}

impl ScenarioResult {
    /// Sets the baseline and the ratio to it.
    pub fn against(mut self, baseline: Option<Baseline>) -> Self {
        self.ratio = baseline
            .as_ref()
            .and_then(|b| ratio(self.rate_per_s, b.rate_per_s));
        self.baseline = baseline;
        self
    }

    /// Adds a scenario-specific figure.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.extra.insert(
            key.to_owned(),
            serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
        );
        self
    }
}

/// Writes `result` as pretty JSON, creating the directory.
pub fn write_json(path: &Path, result: &BenchResult) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_vec_pretty(result)?)?;
    Ok(())
}

fn fixed(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"))
}

/// The short table: one line per scenario.
pub fn table(result: &BenchResult) -> String {
    let header = [
        "scenario",
        "ops",
        "conc",
        "rate/s",
        "unit",
        "p50 ms",
        "p99 ms",
        "errors",
        "baseline",
        "base/s",
        "ratio",
        "½ rate/s",
        "½ p50 ms",
        "½ p99 ms",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    for s in &result.scenarios {
        rows.push(vec![
            s.name.to_owned(),
            s.ops.to_string(),
            s.concurrency.to_string(),
            format!("{:.1}", s.rate_per_s),
            s.unit.to_owned(),
            fixed(s.latency.map(|l| l.p50_ms), 2),
            fixed(s.latency.map(|l| l.p99_ms), 2),
            s.errors.to_string(),
            s.baseline
                .as_ref()
                .map_or_else(|| "-".to_owned(), |b| b.what.clone()),
            fixed(s.baseline.as_ref().map(|b| b.rate_per_s), 1),
            fixed(s.ratio, 3),
            fixed(s.half_load.as_ref().map(|h| h.rate_per_s), 1),
            fixed(
                s.half_load
                    .as_ref()
                    .and_then(|h| h.latency.map(|l| l.p50_ms)),
                2,
            ),
            fixed(
                s.half_load
                    .as_ref()
                    .and_then(|h| h.latency.map(|l| l.p99_ms)),
                2,
            ),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |v| v.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!(
        "livedesk-bench ({} mode, PostgreSQL {})\nmachine: {}\n",
        result.mode,
        result.machine.postgres_version.as_deref().unwrap_or("?"),
        result.machine.summary()
    );
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (v, w))| {
                // Text left, figures right.
                if matches!(i, 0 | 4 | 8) {
                    format!("{v:<w$}")
                } else {
                    format!("{v:>w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::hide_password;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            hide_password("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(hide_password("postgres://u@h:5432"), "postgres://u@h:5432");
        assert_eq!(hide_password("nats://h:4222"), "nats://h:4222");
    }
}
