//! The harness end to end on a spawned suite with a tiny load: every
//! scenario completes, every operation is accounted for and every
//! baseline and ratio is present. Figures are never asserted (no timing
//! assertions): only that they were measured.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use clap::Parser as _;
use livedesk_bench::cli::Cli;
use livedesk_bench::report::{table, write_json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_is_measured_against_its_baseline() {
    let dir = std::env::temp_dir().join(format!("livedesk-bench-{}", uuid::Uuid::now_v7()));
    let json = dir.join("result.json");
    let cli = Cli::parse_from([
        "livedesk-bench",
        "--spawn",
        "--conversations",
        "3",
        "--messages",
        "2",
        "--agents",
        "1",
        "--starts",
        "5",
        "--start-concurrency",
        "5",
        "--export-rows",
        "50",
        "--export-repeats",
        "1",
        "--checks",
        "40",
        "--check-concurrency",
        "4",
        "--ip-blocks",
        "3",
        "--baseline-ops",
        "50",
        "--json",
        json.to_str().unwrap(),
    ]);
    let result = livedesk_bench::run(&cli).await.unwrap();
    let names: Vec<_> = result.scenarios.iter().map(|s| s.name).collect();
    assert_eq!(names, ["messages", "routing", "export", "blocks"]);
    let expected_ops = [6, 5, 50, 40];
    for (s, ops) in result.scenarios.iter().zip(expected_ops) {
        assert_eq!(s.errors, 0, "{}: {:?}", s.name, s.first_error);
        assert_eq!(s.ops, ops, "{}", s.name);
        let baseline = s.baseline.as_ref().expect("a baseline");
        assert_eq!(baseline.errors, 0, "{} baseline", s.name);
        assert!(s.ratio.is_some(), "{}: a ratio", s.name);
        // Latency at half the measured rate, paced open loop, for the
        // paths with a latency bar; the export's bar is throughput.
        match (s.name, &s.half_load) {
            ("export", None) => {}
            ("export", Some(_)) => panic!("export has no half-load run"),
            (_, Some(h)) => {
                assert!(h.rate_per_s > 0.0, "{}: half-load rate", s.name);
                assert_eq!(h.errors, 0, "{}: half-load errors", s.name);
                assert_eq!(h.ops, ops.div_ceil(2), "{}: half-load ops", s.name);
                assert!(h.latency.is_some(), "{}: half-load latency", s.name);
            }
            (_, None) => panic!("{}: no half-load run", s.name),
        }
    }
    let blocks = result
        .scenarios
        .iter()
        .find(|s| s.name == "blocks")
        .unwrap();
    assert_eq!(
        blocks.extra["blocked_answers"],
        blocks.extra["expected_blocked_answers"]
    );

    write_json(&json, &result).unwrap();
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(written["machine"]["cores"], result.machine.cores);
    // The machine it ran on, read from /proc: CPU, memory, kernel, load.
    for key in ["cpu_model", "memory_mib", "kernel", "load_average", "busy"] {
        assert!(
            !written["machine"][key].is_null(),
            "machine.{key} in {}",
            written["machine"]
        );
    }
    assert_eq!(written["scenarios"].as_array().unwrap().len(), 4);
    let printed = table(&result);
    // Title, machine, column header, one line per scenario.
    assert_eq!(printed.lines().count(), 3 + 4);
    assert!(
        printed.lines().nth(1).unwrap().starts_with("machine: "),
        "{printed}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// With the services as processes (`--spawn --processes`, the binaries
/// `cargo build --bins` puts beside this test's), each service's idle
/// memory is measured, routing runs the replicas asked for, and the
/// export scenario measures reporting's peak memory during its exports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_processes_each_services_memory_is_measured() {
    let dir = std::env::temp_dir().join(format!("livedesk-bench-{}", uuid::Uuid::now_v7()));
    let json = dir.join("result.json");
    let cli = Cli::parse_from([
        "livedesk-bench",
        "--spawn",
        "--processes",
        "--routing-replicas",
        "2",
        "--scenarios",
        "routing,export",
        "--agents",
        "1",
        "--starts",
        "4",
        "--start-concurrency",
        "2",
        "--export-rows",
        "30",
        "--export-repeats",
        "1",
        "--baseline-ops",
        "20",
        "--json",
        json.to_str().unwrap(),
    ]);
    let result = livedesk_bench::run(&cli).await.unwrap();
    assert_eq!(result.mode, "spawn-processes");
    let idle = result.idle_memory.as_ref().expect("idle memory measured");
    for service in livedesk_testkit::processes::SERVICES {
        let replicas = idle.get(service).map_or(0, Vec::len);
        let want = if service == "routing" { 2 } else { 1 };
        assert_eq!(replicas, want, "{service}: {idle:?}");
        for rss in &idle[service] {
            assert!(
                rss.rss_mib > 0.0 && rss.peak_mib >= rss.rss_mib,
                "{service}: {rss:?}"
            );
        }
    }
    for s in &result.scenarios {
        assert_eq!(s.errors, 0, "{}: {:?}", s.name, s.first_error);
    }
    let export = result
        .scenarios
        .iter()
        .find(|s| s.name == "export")
        .unwrap();
    let peak = export.extra["reporting_peak_rss_mib"].as_f64();
    assert!(peak.is_some_and(|p| p > 0.0), "{:?}", export.extra);
}

/// The direct seed of the export (`--export-seed direct`) fills the read
/// model with every label and with cells that need quoting or the
/// formula guard, and the export of those rows is counted whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_direct_export_seed_is_varied_and_exported_whole() {
    let dir = std::env::temp_dir().join(format!("livedesk-bench-{}", uuid::Uuid::now_v7()));
    let json = dir.join("result.json");
    let cli = Cli::parse_from([
        "livedesk-bench",
        "--spawn",
        "--scenarios",
        "export",
        "--export-seed",
        "direct",
        "--export-rows",
        "90",
        "--export-repeats",
        "1",
        "--baseline-ops",
        "20",
        "--json",
        json.to_str().unwrap(),
    ]);
    let result = livedesk_bench::run(&cli).await.unwrap();
    let export = &result.scenarios[0];
    assert_eq!(export.name, "export");
    assert_eq!(export.errors, 0, "{:?}", export.first_error);
    // Reasons with a line break inside quotes are still one row each.
    assert_eq!(export.ops, 90);
    assert_eq!(export.baseline.as_ref().unwrap().ops, 90);
    assert!(export.ratio.is_some());
    assert_eq!(export.extra["seed"], "direct");
    let shape = &export.extra["seed_shape"];
    assert_eq!(shape["rows"], 90, "{shape}");
    // Every label of each column (6 channels, 6 statuses, 7 ended-by).
    assert_eq!(shape["channels"], 6, "{shape}");
    assert_eq!(shape["statuses"], 6, "{shape}");
    assert_eq!(shape["ended_by"], 7, "{shape}");
    for key in ["tagged", "quoted", "guarded"] {
        assert!(shape[key].as_i64().unwrap() > 0, "{key}: {shape}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
