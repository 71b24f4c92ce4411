//! The Helm chart (OPS-1) and the plain manifests (OPS-2), checked offline
//! with the real Helm, kubectl and Kubernetes 1.35 schemas installed by
//! `scripts/deploy-tools.sh`: lint, render, strict schema validation, a
//! policy over every workload, refusal without a key, and `k8s/` freshness.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use livedesk_deploy_tests::{SERVICES, repo_root};
use serde_json::Value;

/// The development secret compiled into the services; it must never reach a
/// cluster.
const DEV_SECRET: &str = "livedesk-development-secret-change-me";

/// The smallest set of values a release needs besides the defaults: every
/// reference the chart refuses to guess.
const REQUIRED: [&str; 10] = [
    "--set",
    "auth.existingSecret=livedesk-auth",
    "--set",
    "auth.keys.hs256Secret=hs256-secret",
    "--set",
    "database.existingSecret=livedesk-database",
    "--set",
    "nats.url=nats://nats:4222",
    "--set",
    "services.conversations.attachments.existingClaim=livedesk-attachments",
];

fn tool(name: &str) -> PathBuf {
    let path = repo_root().join(".livedesk/tools/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/deploy-tools.sh (or make chart) first",
        path.display()
    );
    path
}

fn run(cmd: &mut Command) -> Output {
    let program = format!("{cmd:?}");
    cmd.current_dir(repo_root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

fn render_chart(args: &[&str]) -> Output {
    tool("helm");
    run(Command::new(repo_root().join("scripts/render-chart.py"))
        .arg("render")
        .args(args))
}

/// The rendered objects of one value set, with the template each came from.
fn render_ok(args: &[&str]) -> Vec<(String, Value)> {
    let out = render_chart(args);
    assert!(
        out.status.success(),
        "the chart does not render with {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs: Vec<Value> = serde_json::from_slice(&out.stdout).expect("render output is JSON");
    docs.into_iter()
        .map(|d| {
            (
                d["source"].as_str().unwrap_or("").to_string(),
                d["object"].clone(),
            )
        })
        .collect()
}

fn production() -> Vec<&'static str> {
    vec!["-f", "helm/livedesk/ci/production-values.yaml"]
}

fn trial() -> Vec<&'static str> {
    vec!["-f", "helm/livedesk/ci/trial-values.yaml"]
}

/// Every value set the chart is checked with: defaults plus the required
/// references, production-like, trial.
fn value_sets() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("defaults", REQUIRED.to_vec()),
        ("production", production()),
        ("trial", trial()),
    ]
}

fn kind<'a>(objs: &'a [(String, Value)], k: &str) -> Vec<&'a Value> {
    objs.iter()
        .map(|(_, o)| o)
        .filter(|o| o["kind"] == k)
        .collect()
}

fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap_or("")
}

fn find<'a>(objs: &'a [(String, Value)], k: &str, n: &str) -> Option<&'a Value> {
    kind(objs, k).into_iter().find(|o| name(o) == n)
}

// spec: OPS-1
#[test]
fn helm_lint_passes_with_production_and_trial_values() {
    for values in [production(), trial()] {
        let out = run(Command::new(tool("helm"))
            .args(["lint", "helm/livedesk", "--strict"])
            .args(&values));
        assert!(
            out.status.success(),
            "helm lint {values:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

// spec: OPS-1
#[test]
fn every_rendered_object_validates_against_kubernetes_1_35_strict() {
    for (label, values) in value_sets() {
        let out = run(Command::new(repo_root().join("scripts/render-chart.py"))
            .arg("validate")
            .args(&values));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{label}: objects do not validate: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("0 invalid"), "{label}: {stdout}");
    }
}

// spec: OPS-1
#[test]
fn every_service_has_its_objects_in_every_value_set() {
    for (label, values) in value_sets() {
        let objs = render_ok(&values);
        for svc in SERVICES {
            let full = format!("livedesk-{svc}");
            for k in [
                "Deployment",
                "ConfigMap",
                "HorizontalPodAutoscaler",
                "PodDisruptionBudget",
            ] {
                assert!(find(&objs, k, &full).is_some(), "{label}: no {k} {full}");
            }
            let svc_obj = find(&objs, "Service", &full).expect("ClusterIP Service");
            assert_eq!(svc_obj["spec"]["type"], "ClusterIP", "{label}: {full}");
            let ports: Vec<(&str, i64)> = svc_obj["spec"]["ports"]
                .as_array()
                .expect("ports")
                .iter()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap_or(""),
                        p["port"].as_i64().unwrap_or(0),
                    )
                })
                .collect();
            assert_eq!(
                ports,
                [("grpc", 50051), ("metrics", 9090)],
                "{label}: {full}"
            );
            let headless = find(&objs, "Service", &format!("{full}-headless"))
                .unwrap_or_else(|| panic!("{label}: no headless Service for {svc}"));
            assert_eq!(headless["spec"]["clusterIP"], "None", "{label}: {svc}");
            assert_eq!(
                headless["spec"]["publishNotReadyAddresses"], false,
                "{label}: {svc}"
            );
        }
    }
}

// spec: OPS-1
#[test]
fn peers_are_called_through_headless_services_and_migrations_run_as_hooks() {
    let objs = render_ok(&production());
    for cm in kind(&objs, "ConfigMap") {
        for (k, v) in cm["data"].as_object().into_iter().flatten() {
            let v = v.as_str().unwrap_or("");
            if k.ends_with("_URL") && k.contains("__") {
                assert!(
                    v.starts_with("http://livedesk-") && v.ends_with("-headless:50051"),
                    "{k}={v}: peers must be called through the headless Service"
                );
            }
        }
    }
    for svc in SERVICES {
        let cm = find(&objs, "ConfigMap", &format!("livedesk-{svc}")).expect("configmap");
        let key = format!("LIVEDESK_{}__MIGRATE_ON_START", svc.to_uppercase());
        assert_eq!(
            cm["data"][&key], "false",
            "{svc}: the hook Job migrates, not the pods"
        );
        let job = find(&objs, "Job", &format!("livedesk-{svc}-migrate"))
            .unwrap_or_else(|| panic!("no migration Job for {svc}"));
        let ann = &job["metadata"]["annotations"];
        assert_eq!(ann["helm.sh/hook"], "pre-install,pre-upgrade", "{svc}");
        assert_eq!(
            ann["helm.sh/hook-delete-policy"], "before-hook-creation",
            "{svc}"
        );
        assert!(ann["helm.sh/hook-weight"].is_string(), "{svc}: hook weight");
        let c = &job["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["args"], serde_json::json!(["migrate"]), "{svc}");
        assert!(
            c["image"]
                .as_str()
                .unwrap_or("")
                .contains(&format!("/{svc}:")),
            "{svc}: the Job runs the service's own image"
        );
    }
}

/// The pod spec of a workload.
fn pod_spec(w: &Value) -> &Value {
    &w["spec"]["template"]["spec"]
}

fn assert_pod_hardened(label: &str, w: &Value) {
    let id = format!("{label}: {} {}", w["kind"], name(w));
    let pod = pod_spec(w);
    let psc = &pod["securityContext"];
    assert_eq!(psc["runAsNonRoot"], true, "{id}: pod runAsNonRoot");
    assert_eq!(
        psc["seccompProfile"]["type"], "RuntimeDefault",
        "{id}: pod seccomp"
    );
    assert_eq!(
        pod["automountServiceAccountToken"], false,
        "{id}: no API token"
    );
    let containers = pod["containers"].as_array().expect("containers");
    assert!(!containers.is_empty(), "{id}: no container");
    for c in containers
        .iter()
        .chain(pod["initContainers"].as_array().into_iter().flatten())
    {
        let cid = format!("{id} container {}", c["name"]);
        let sc = &c["securityContext"];
        assert_eq!(sc["runAsNonRoot"], true, "{cid}: runAsNonRoot");
        assert!(
            sc["runAsUser"].as_i64().unwrap_or(0) > 0,
            "{cid}: numeric non-root user"
        );
        assert_eq!(
            sc["readOnlyRootFilesystem"], true,
            "{cid}: readOnlyRootFilesystem"
        );
        assert_eq!(
            sc["allowPrivilegeEscalation"], false,
            "{cid}: allowPrivilegeEscalation"
        );
        assert_eq!(
            sc["capabilities"]["drop"],
            serde_json::json!(["ALL"]),
            "{cid}: drop ALL"
        );
        assert_eq!(
            sc["seccompProfile"]["type"], "RuntimeDefault",
            "{cid}: seccomp"
        );
        for section in ["requests", "limits"] {
            for r in ["cpu", "memory"] {
                assert!(
                    c["resources"][section][r].is_string()
                        || c["resources"][section][r].is_number(),
                    "{cid}: resources.{section}.{r}"
                );
            }
        }
        let image = c["image"].as_str().unwrap_or("");
        let tag = image
            .rsplit('/')
            .next()
            .and_then(|last| last.split_once(':'))
            .map(|(_, t)| t);
        assert!(
            matches!(tag, Some(t) if !t.is_empty() && t != "latest"),
            "{cid}: image {image} must carry a pinned tag"
        );
        if image.contains("/livedesk/") {
            assert_eq!(sc["runAsUser"], 10001, "{cid}: the image's user");
        }
        for e in c["env"].as_array().into_iter().flatten() {
            assert_ne!(e["name"], "LIVEDESK_AUTH_ALLOW_DEV_SECRET", "{cid}");
            assert_ne!(
                e["value"], DEV_SECRET,
                "{cid}: {} holds the development secret",
                e["name"]
            );
        }
    }
}

fn assert_deployment_policy(label: &str, objs: &[(String, Value)], d: &Value) {
    let n = name(d);
    let id = format!("{label}: Deployment {n}");
    let pod = pod_spec(d);
    let c = &pod["containers"][0];
    assert_eq!(
        c["readinessProbe"]["grpc"]["port"], 50051,
        "{id}: gRPC readiness probe"
    );
    assert!(
        c["readinessProbe"]["grpc"]["service"]
            .as_str()
            .unwrap_or("")
            .is_empty(),
        "{id}: readiness asks the overall (\"\") health"
    );
    assert_eq!(
        c["livenessProbe"]["grpc"]["port"], 50051,
        "{id}: gRPC liveness probe"
    );
    assert_eq!(
        c["livenessProbe"]["grpc"]["service"], "liveness",
        "{id}: liveness service name"
    );
    assert!(c["startupProbe"].is_object(), "{id}: startup probe");
    let selector = &d["spec"]["selector"]["matchLabels"];
    let hpa = find(objs, "HorizontalPodAutoscaler", n).unwrap_or_else(|| panic!("{id}: no HPA"));
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Deployment", "{id}");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], n, "{id}: HPA target");
    let pdb = find(objs, "PodDisruptionBudget", n).unwrap_or_else(|| panic!("{id}: no PDB"));
    assert_eq!(
        &pdb["spec"]["selector"]["matchLabels"], selector,
        "{id}: PDB selector"
    );
    let spread = pod["topologySpreadConstraints"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for key in ["topology.kubernetes.io/zone", "kubernetes.io/hostname"] {
        let t = spread
            .iter()
            .find(|t| t["topologyKey"] == key)
            .unwrap_or_else(|| panic!("{id}: no topology spread over {key}"));
        assert_eq!(t["whenUnsatisfiable"], "ScheduleAnyway", "{id}: {key}");
        assert_eq!(
            &t["labelSelector"]["matchLabels"], selector,
            "{id}: {key} selector"
        );
    }
    let cm = find(objs, "ConfigMap", n).unwrap_or_else(|| panic!("{id}: no ConfigMap"));
    let grace: i64 = cm["data"]["LIVEDESK_SHUTDOWN_GRACE_SECONDS"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{id}: no shutdown grace in the ConfigMap"));
    let termination = pod["terminationGracePeriodSeconds"].as_i64().unwrap_or(30);
    assert!(
        termination > grace,
        "{id}: termination grace {termination} <= drain {grace}"
    );
    assert!(
        d["spec"]["template"]["metadata"]["annotations"]["checksum/config"].is_string(),
        "{id}: ConfigMap checksum annotation"
    );
    for (k, v) in cm["data"].as_object().into_iter().flatten() {
        assert_ne!(k, "LIVEDESK_AUTH_ALLOW_DEV_SECRET", "{id}");
        assert_ne!(v, DEV_SECRET, "{id}: {k} holds the development secret");
    }
}

// spec: OPS-1
#[test]
fn policy_holds_for_every_workload() {
    for (label, values) in value_sets() {
        let objs = render_ok(&values);
        let mut workloads = 0;
        for k in ["Deployment", "StatefulSet", "Job", "DaemonSet", "CronJob"] {
            for w in kind(&objs, k) {
                assert_ne!(k, "CronJob", "{label}: a CronJob would need its own policy");
                assert_ne!(
                    k, "DaemonSet",
                    "{label}: a DaemonSet would need its own policy"
                );
                assert_pod_hardened(label, w);
                workloads += 1;
            }
        }
        let deployments = kind(&objs, "Deployment");
        assert_eq!(
            deployments.len(),
            SERVICES.len(),
            "{label}: one Deployment per service"
        );
        for d in deployments {
            assert_deployment_policy(label, &objs, d);
        }
        assert!(
            workloads >= SERVICES.len(),
            "{label}: {workloads} workloads"
        );
    }
}

// spec: OPS-1
#[test]
fn production_values_enable_monitoring_and_network_policies() {
    let objs = render_ok(&production());
    for svc in SERVICES {
        let np = find(&objs, "NetworkPolicy", &format!("livedesk-{svc}"))
            .unwrap_or_else(|| panic!("no NetworkPolicy for {svc}"));
        assert_eq!(
            np["spec"]["policyTypes"],
            serde_json::json!(["Ingress", "Egress"]),
            "{svc}"
        );
    }
    // Custom resources have no schema offline: their shape is checked here.
    let sm = kind(&objs, "ServiceMonitor");
    assert_eq!(sm.len(), 1, "one ServiceMonitor");
    let sm = sm[0];
    assert_eq!(sm["apiVersion"], "monitoring.coreos.com/v1");
    let ep = &sm["spec"]["endpoints"][0];
    assert_eq!(ep["port"], "metrics");
    assert_eq!(ep["path"], "/metrics");
    assert!(ep["interval"].is_string(), "scrape interval");
    let selector = sm["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("selector");
    let scraped: Vec<&str> = kind(&objs, "Service")
        .into_iter()
        .filter(|s| {
            selector
                .iter()
                .all(|(k, v)| &s["metadata"]["labels"][k] == v)
        })
        .map(name)
        .collect();
    let expected: Vec<String> = SERVICES.iter().map(|s| format!("livedesk-{s}")).collect();
    assert_eq!(
        scraped, expected,
        "the ServiceMonitor scrapes each ClusterIP Service once"
    );
    let dash = kind(&objs, "ConfigMap")
        .into_iter()
        .find(|c| c["metadata"]["labels"]["grafana_dashboard"] == "1")
        .expect("dashboard ConfigMap labelled grafana_dashboard=1");
    let json = dash["data"]["livedesk.json"]
        .as_str()
        .expect("dashboard JSON");
    let parsed: Value = serde_json::from_str(json).expect("the dashboard is JSON");
    assert!(parsed["panels"].as_array().is_some_and(|p| p.len() >= 6));
    for series in [
        "livedesk_rpc_server_duration_seconds_count",
        "livedesk_rpc_server_duration_seconds_bucket",
        "rpc_grpc_status_code",
        "livedesk_outbox_oldest_age_seconds",
        "livedesk_consumer_pending_messages",
        "livedesk_routing_waiting_conversations",
        "livedesk_routing_pending_offers",
    ] {
        assert!(
            json.contains(series),
            "the dashboard has no panel for {series}"
        );
    }
}

// spec: OPS-1
#[test]
fn trial_values_bundle_postgresql_and_durable_nats() {
    let objs = render_ok(&trial());
    let nats_cm = find(&objs, "ConfigMap", "livedesk-nats").expect("bundled NATS config");
    let conf = nats_cm["data"]["nats.conf"].as_str().unwrap_or("");
    assert!(conf.contains("store_dir: /data"), "{conf}");
    assert!(conf.contains("sync_interval: always"), "{conf}");
    for sts in ["livedesk-postgresql", "livedesk-nats"] {
        let s = find(&objs, "StatefulSet", sts).unwrap_or_else(|| panic!("no {sts}"));
        assert!(
            s["spec"]["volumeClaimTemplates"][0].is_object(),
            "{sts}: a PVC"
        );
    }
    let cm = find(&objs, "ConfigMap", "livedesk-routing").expect("routing config");
    assert_eq!(cm["data"]["LIVEDESK_NATS_URL"], "nats://livedesk-nats:4222");
    assert_eq!(cm["data"]["LIVEDESK_NATS_STREAM_REPLICAS"], "1");
}

/// Stream replicas reach every service; production keeps three, the
/// single-node trial NATS only one, and JetStream's range is enforced.
#[test]
fn stream_replicas_reach_every_service_and_fit_the_nats_they_run_on() {
    let objs = render_ok(&production());
    for cm in kind(&objs, "ConfigMap") {
        if cm["data"]["LIVEDESK_NATS_URL"].is_null()
            && cm["data"]["LIVEDESK_SUBJECT_PREFIX"].is_null()
        {
            continue;
        }
        assert_eq!(
            cm["data"]["LIVEDESK_NATS_STREAM_REPLICAS"],
            "3",
            "{}",
            name(cm)
        );
    }
    let mut trial3 = trial();
    trial3.extend(["--set", "nats.streamReplicas=3"]);
    let err = render_err(&trial3);
    assert!(err.contains("single node"), "{err}");
    for bad in ["0", "6"] {
        let set = format!("nats.streamReplicas={bad}");
        let mut v: Vec<&str> = REQUIRED.to_vec();
        v.extend(["--set", set.as_str()]);
        render_err(&v);
    }
}

fn render_err(extra: &[&str]) -> String {
    let out = render_chart(extra);
    assert!(!out.status.success(), "the chart rendered with {extra:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

// spec: OPS-1
// spec: TEN-2
#[test]
fn chart_refuses_to_render_without_a_real_key() {
    let err = render_err(&[]);
    assert!(err.contains("auth.existingSecret is required"), "{err}");
    let err = render_err(&[
        "--set",
        "auth.existingSecret=livedesk-auth",
        "--set",
        "database.existingSecret=db",
        "--set",
        "nats.url=nats://n:4222",
    ]);
    assert!(err.contains("auth.keys"), "no key named: {err}");
    let mut dev_flag = REQUIRED.to_vec();
    dev_flag.extend([
        "--set",
        "extraEnv[0].name=LIVEDESK_AUTH_ALLOW_DEV_SECRET",
        "--set-string",
        "extraEnv[0].value=true",
    ]);
    let err = render_err(&dev_flag);
    assert!(
        err.contains("LIVEDESK_AUTH_ALLOW_DEV_SECRET is refused"),
        "{err}"
    );
    let mut latest = REQUIRED.to_vec();
    latest.extend(["--set", "image.tag=latest"]);
    render_err(&latest);
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "README.md" && n != "values.yaml")
        .collect();
    names.sort();
    names
}

// spec: OPS-2
#[test]
fn k8s_manifests_are_fresh_and_kustomize_builds() {
    tool("helm");
    let tmp = std::env::temp_dir().join(format!("livedesk-k8s-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let out = run(Command::new(repo_root().join("scripts/render-chart.py"))
        .arg("k8s")
        .arg(&tmp));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = repo_root().join("k8s");
    let generated = files_in(&tmp);
    assert_eq!(
        files_in(&committed),
        generated,
        "k8s/ is stale (files differ): run `make k8s` and commit"
    );
    for f in &generated {
        let want = std::fs::read(tmp.join(f)).expect("generated file");
        let have = std::fs::read(committed.join(f)).expect("committed file");
        assert!(want == have, "k8s/{f} is stale: run `make k8s` and commit");
    }
    let _ = std::fs::remove_dir_all(&tmp);
    let out = run(Command::new(tool("kubectl")).args(["kustomize", "k8s/"]));
    assert!(
        out.status.success(),
        "kubectl kustomize k8s/ failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let built = String::from_utf8_lossy(&out.stdout);
    for svc in SERVICES {
        assert!(
            built.contains(&format!("name: livedesk-{svc}\n")),
            "kustomize lost {svc}"
        );
    }
    assert!(
        !built.contains("helm.sh/hook"),
        "plain manifests carry no Helm hook"
    );
}
