//! `charterguard audit k8s` against a loopback API server (`tests/it/k8s_api`) that serves the
//! objects of the static fixtures: the real kube client (through the library and through the
//! CLI with a generated kubeconfig), paging, controller dedup and drift, 403/404/429/500,
//! missing custom resources, certificate keys, durations and expiry, secret values that never
//! reach a report, SARIF, and the fixture server checked with real kubectl.

use crate::common;
use crate::k8s_api;
use crate::peers;

use charterguard::config::Config;
use charterguard::engine::Outcome;
use charterguard::k8s_live::{self, ChartSource};
use charterguard::model::{DiagnosticLevel, SourceKind, Span};
use charterguard::scan::{self, Judging, ScanOptions, ScanOutcome};
use k8s_api::{Cluster, Server};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CLUSTER: &str = "prod";

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn options(server: &Server, dir: &Path) -> k8s_live::Options {
    k8s_live::Options {
        kubeconfig: Some(server.kubeconfig(dir)),
        context: None,
        cluster_name: Some(CLUSTER.into()),
        charts: Vec::new(),
        base: root(),
        page_size: 2,
        concurrency: 4,
        max_attempts: 4,
        first_backoff: Duration::from_millis(10),
        call_timeout: Duration::from_secs(10),
        anchor: Span::new("charterguard.yaml".into(), 1, 1, 1, 1),
        progress: false,
    }
}

/// Audits the server through the library and judges the model as `audit k8s` does.
fn audit(options: &k8s_live::Options) -> ScanOutcome {
    let audit = k8s_live::audit(options).expect("the audit runs");
    let read = |_: &str| None;
    let judging = Judging { config: Config::default(), rules_dirs: &[], inline_ignores: true, today: None, baseline: None, read: &read };
    scan::judge(audit.model, judging, Instant::now()).expect("the rules run")
}

pub(crate) fn static_scan(path: &Path) -> ScanOutcome {
    scan::scan(&ScanOptions::new(vec![path.to_path_buf()], path.to_path_buf())).expect("the scan runs")
}

/// A finding as static and live scans must agree on it.
type Key = (String, String, Option<String>, String, Outcome);

/// The findings of the rules that judge both manifests and clusters, counted (a finding
/// reported twice must be reported twice on both sides).
fn keys(outcome: &ScanOutcome) -> BTreeMap<Key, usize> {
    let shared: Vec<&str> =
        outcome.rules.iter().filter(|r| r.sources.contains(&SourceKind::K8s) && r.sources.contains(&SourceKind::Eks)).map(|r| r.id.as_str()).collect();
    let mut keys = BTreeMap::new();
    for f in outcome.findings.iter().filter(|f| shared.contains(&f.rule_id.as_str())) {
        *keys.entry((f.rule_id.clone(), f.address.clone(), f.item.clone(), f.attribute.clone(), f.outcome)).or_insert(0) += 1;
    }
    keys
}

fn differences(what: &str, expected: &BTreeMap<Key, usize>, actual: &BTreeMap<Key, usize>) -> Vec<String> {
    let mut out = Vec::new();
    for (key, n) in expected {
        if actual.get(key) != Some(n) {
            out.push(format!("{what}: static {key:?} x{n}, live x{}", actual.get(key).copied().unwrap_or(0)));
        }
    }
    for (key, n) in actual.iter().filter(|(k, _)| !expected.contains_key(*k)) {
        out.push(format!("{what}: live only {key:?} x{n}"));
    }
    out
}

fn manifests_under(dir: &Path) -> Vec<PathBuf> {
    common::files_under(dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json")).collect()
}

/// Every fixture case of a Kubernetes rule (`fixtures/<RULE-ID>/<case>/`) and the example
/// platform's manifests, with their manifest files.
pub(crate) fn kubernetes_cases() -> Vec<(PathBuf, Vec<PathBuf>)> {
    let fixtures = root().join("fixtures");
    let mut dirs: Vec<PathBuf> = vec![fixtures.join("platform/k8s")];
    let is_rule_id = |name: &str| {
        name.split_once('-').is_some_and(|(a, n)| {
            a.starts_with(|c: char| c.is_ascii_uppercase())
                && a.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && n.chars().all(|c| c.is_ascii_digit())
        })
    };
    let mut rule_dirs: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && is_rule_id(&p.file_name().unwrap().to_string_lossy()))
        .collect();
    rule_dirs.sort();
    for rule_dir in &rule_dirs {
        let mut cases: Vec<PathBuf> = std::fs::read_dir(rule_dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
        cases.sort();
        dirs.extend(cases);
    }
    dirs.into_iter()
        .filter_map(|dir| {
            let files = manifests_under(&dir);
            let objects = Cluster::from_manifests(&files).objects;
            (!objects.is_empty()).then_some((dir, files))
        })
        .collect()
}

/// The core claim: one rule, two sources. Every fixture's objects, served by the API server
/// and audited live one object per page, give exactly the findings a static scan gives on the
/// objects as the API serves them; and, where the API stored every manifest as written (no
/// defaulted namespace, no merged `stringData`, no converted version), exactly the findings
/// of `scan` on the fixture folder itself.
#[test]
fn live_audits_of_every_fixture_agree_with_static_scans() {
    let started = Instant::now();
    let cases = kubernetes_cases();
    assert!(cases.len() >= 55, "only {} Kubernetes fixture cases found", cases.len());
    let (mut problems, mut as_written, mut findings, mut paged) = (Vec::new(), 0, 0, 0);
    for (dir, files) in &cases {
        let name = dir.strip_prefix(root()).unwrap().display().to_string();
        let server = Server::start(Cluster::from_manifests(files));
        let temp = tempfile::tempdir().unwrap();
        let live = audit(&k8s_live::Options { page_size: 1, ..options(&server, temp.path()) });
        if let Some(d) = live.model.diagnostics.iter().find(|d| d.is_error()) {
            problems.push(format!("{name}: the audit reported {d}"));
        }
        let live_keys = keys(&live);
        findings += live_keys.len();
        paged += usize::from(server.requests().iter().any(|r| r.contains("continue=")));

        let served = temp.path().join("served");
        std::fs::create_dir(&served).unwrap();
        let list = json!({"apiVersion": "v1", "kind": "List", "items": server.store().served_objects()});
        std::fs::write(served.join("objects.json"), serde_json::to_string_pretty(&list).unwrap()).unwrap();
        problems.extend(differences(&format!("{name} (as served)"), &keys(&static_scan(&served)), &live_keys));

        if server.store().normalised.is_empty() {
            as_written += 1;
            problems.extend(differences(&format!("{name} (fixture folder)"), &keys(&static_scan(dir)), &live_keys));
        }
    }
    assert!(problems.is_empty(), "{} disagreement(s):\n{}", problems.len(), problems.join("\n"));
    assert!(as_written * 4 >= cases.len() * 3, "only {as_written} of {} cases were compared with their fixture folder", cases.len());
    assert!(findings >= 400 && paged >= 10, "{findings} findings, {paged} cases paged: the comparison is too thin");
    eprintln!("{} cases ({as_written} compared with their folder), {findings} live findings, in {:.1?}", cases.len(), started.elapsed());
}

/// The objects of a fixture file or folder.
pub(crate) fn fixture_objects(relative: &str) -> Vec<Value> {
    let path = root().join(relative);
    let files = if path.is_dir() { manifests_under(&path) } else { vec![path] };
    Cluster::from_manifests(&files).objects
}

fn named(objects: &[Value], kind: &str, name: &str) -> Value {
    objects.iter().find(|o| o["kind"] == kind && o["metadata"]["name"] == name).unwrap_or_else(|| panic!("no {kind} {name}")).clone()
}

/// What a Deployment's controller makes: a ReplicaSet with its template and `replicas` Pods,
/// each owned (`controller: true`) by the one above.
fn controlled_objects(deployment: &Value, replicas: usize) -> Vec<Value> {
    let namespace = deployment["metadata"]["namespace"].clone();
    let name = deployment["metadata"]["name"].as_str().unwrap();
    let owner =
        |kind: &str, api_version: &str, name: &str, uid: &str| json!([{"apiVersion": api_version, "kind": kind, "name": name, "uid": uid, "controller": true}]);
    let replica_set = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": format!("{name}-7d4b9c"), "namespace": namespace, "uid": "rs-uid", "ownerReferences": owner("Deployment", "apps/v1", name, "deployment-uid")},
        "spec": {"replicas": replicas, "selector": deployment["spec"]["selector"], "template": deployment["spec"]["template"]}
    });
    let mut objects = vec![replica_set];
    for i in 0..replicas {
        let mut spec = deployment["spec"]["template"]["spec"].clone();
        // What admission adds to every Pod, and which is not drift.
        spec["containers"].as_array_mut().unwrap().push(json!({"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.24.0"}));
        spec["nodeName"] = json!("ip-10-0-1-17.ap-south-1.compute.internal");
        objects.push(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("{name}-7d4b9c-{i}"), "namespace": namespace, "uid": format!("pod-uid-{i}"), "ownerReferences": owner("ReplicaSet", "apps/v1", &format!("{name}-7d4b9c"), "rs-uid")},
            "spec": spec,
            "status": {"phase": "Running"}
        }));
    }
    objects
}

fn addresses_with_findings(outcome: &ScanOutcome) -> Vec<String> {
    let mut addresses: Vec<String> = outcome.findings.iter().map(|f| f.address.clone()).collect();
    addresses.dedup();
    addresses.sort();
    addresses.dedup();
    addresses
}

/// A Deployment, its ReplicaSet and three Pods are judged once, at the Deployment, with the
/// findings a manifest of the Deployment gives, pointing at its chart template; a fourth Pod
/// whose image someone changed in place is judged on its own and named in a note.
#[test]
fn controllers_are_judged_once_and_drifted_pods_on_their_own() {
    let mut deployment = named(&fixture_objects("fixtures/POD-001/fail-helm-rendered"), "Deployment", "audit");
    deployment["metadata"]["uid"] = json!("deployment-uid");
    deployment["metadata"]["annotations"] = json!({"meta.helm.sh/release-name": "audit", "meta.helm.sh/release-namespace": "altscore-api"});
    let mut objects = vec![deployment.clone()];
    objects.extend(controlled_objects(&deployment, 3));
    let mut drifted = objects.last().unwrap().clone();
    drifted["metadata"]["name"] = json!("audit-7d4b9c-debug");
    drifted["metadata"]["uid"] = json!("pod-uid-debug");
    drifted["spec"]["containers"][0]["image"] = json!("busybox:latest");
    objects.push(drifted);
    let server = Server::start(Cluster { objects, ..Cluster::default() });
    let temp = tempfile::tempdir().unwrap();
    let mut options = options(&server, temp.path());
    options.charts = vec![ChartSource { release: Some("audit".into()), dir: "fixtures/helm/web".into() }];
    let live = audit(&options);

    assert_eq!(addresses_with_findings(&live), ["Deployment altscore-api/audit", "Pod altscore-api/audit-7d4b9c-debug"]);
    let manifest = temp.path().join("deployment");
    std::fs::create_dir(&manifest).unwrap();
    std::fs::write(manifest.join("deployment.json"), deployment.to_string()).unwrap();
    let at_deployment: BTreeMap<Key, usize> = keys(&live).into_iter().filter(|(k, _)| k.1.starts_with("Deployment")).collect();
    assert_eq!(differences("deployment", &keys(&static_scan(&manifest)), &at_deployment), Vec::<String>::new());
    let drift_only: Vec<&str> = live.findings.iter().filter(|f| f.address.starts_with("Pod") && f.rule_id == "IMG-002").map(|f| f.message.as_str()).collect();
    assert_eq!(drift_only.len(), 1, "the drifted Pod runs a latest tag its Deployment does not have");

    let deployment_finding = live.findings.iter().find(|f| f.address.starts_with("Deployment")).unwrap();
    assert_eq!((&*deployment_finding.span.file, deployment_finding.span.start_line), ("fixtures/helm/web/templates/deployment.yaml", 2));
    let origin = deployment_finding.live.as_ref().unwrap();
    assert_eq!((origin.id.as_str(), origin.managed_by.as_deref()), ("prod/altscore-api/Deployment/audit", Some("fixtures/helm/web/templates/deployment.yaml")));
    let notes: Vec<&str> = live.model.diagnostics.iter().filter(|d| d.level == DiagnosticLevel::Note).map(|d| d.message.as_str()).collect();
    assert!(notes.iter().any(|n| n.starts_with("Pod altscore-api/audit-7d4b9c-debug runs a spec that differs from the template of its controller Deployment altscore-api/audit in container audit: image")), "{notes:#?}");
    assert!(notes.iter().any(|n| n.contains("4 object(s) judged at their controller, 1 drifted Pod group(s)")), "{notes:#?}");
}

/// The `charterguard.io/ignore` annotation suppresses findings on a live object as on its
/// manifest; the finding stays in the report, suppressed.
#[test]
fn the_ignore_annotation_applies_to_live_objects() {
    let mut deployment = named(&fixture_objects("fixtures/POD-001/fail-helm-rendered"), "Deployment", "audit");
    deployment["metadata"]["annotations"] = json!({"charterguard.io/ignore": "IMG-001 reason=\"pinned by the release pipeline, PLAT-12\""});
    let server = Server::start(Cluster { objects: vec![deployment], ..Cluster::default() });
    let temp = tempfile::tempdir().unwrap();
    let live = audit(&options(&server, temp.path()));
    let img001: Vec<bool> = live.findings.iter().filter(|f| f.rule_id == "IMG-001").map(|f| f.is_suppressed()).collect();
    assert_eq!(img001, [true]);
    assert!(live.findings.iter().any(|f| f.rule_id != "IMG-001" && !f.is_suppressed()));
}

/// 429 and 500 once each are retried; the audit is then complete.
#[test]
fn throttling_and_server_errors_are_retried() {
    let objects = fixture_objects("fixtures/platform/k8s");
    let fail_once = vec![("/api/v1/pods".to_string(), 429), ("/apis/apps/v1/deployments".to_string(), 500), ("/apis".to_string(), 503)];
    let server = Server::start(Cluster { objects, fail_once, ..Cluster::default() });
    let temp = tempfile::tempdir().unwrap();
    let audit = k8s_live::audit(&options(&server, temp.path())).unwrap();
    assert_eq!(audit.retries, 3, "{:#?}", server.requests());
    assert!(audit.model.unseen.is_empty() && !audit.model.diagnostics.iter().any(|d| d.is_error()), "{:?}", audit.model.diagnostics);
    let requests = server.requests();
    assert_eq!(
        requests.iter().filter(|r| *r == "GET /apis/apps/v1/deployments?&limit=2" || *r == "GET /apis/apps/v1/deployments?limit=2").count(),
        2,
        "the first page failed once, then came: {requests:#?}"
    );
    assert!(audit.model.resources.iter().any(|r| r.address == "Deployment altscore-ml/scoring-engine"));
}

/// A call that keeps failing past its attempts leaves its kind undecided and the audit
/// incomplete.
#[test]
fn a_call_failing_past_its_attempts_is_unseen() {
    let fail_once = (0..4).map(|_| ("/apis/networking.k8s.io/v1/networkpolicies".to_string(), 500)).collect();
    let server = Server::start(Cluster { objects: fixture_objects("fixtures/platform/k8s"), fail_once, ..Cluster::default() });
    let temp = tempfile::tempdir().unwrap();
    let live = audit(&options(&server, temp.path()));
    assert!(live.is_partial());
    let undecided: Vec<(&str, &str)> =
        live.findings.iter().filter(|f| f.outcome == Outcome::Undecided).map(|f| (f.rule_id.as_str(), f.address.as_str())).collect();
    assert!(undecided.contains(&("K8S-003", "prod/*/NetworkPolicy/*")), "{undecided:?}");
    // A Namespace's default-deny check looks the policies up: it could not decide either,
    // rather than report a missing policy.
    assert!(undecided.contains(&("K8S-003", "Namespace altscore-api")), "{undecided:?}");
    assert!(!live.findings.iter().any(|f| f.rule_id == "K8S-003" && f.outcome == Outcome::Violation && f.address.starts_with("Namespace")));
}

/// A cluster without Istio, cert-manager, the CSI driver and the Prometheus operator: their
/// rules could not decide, saying so; that is not an incomplete audit.
#[test]
fn missing_custom_resources_make_their_rules_undecided() {
    let missing_groups =
        ["security.istio.io", "networking.istio.io", "cert-manager.io", "acme.cert-manager.io", "secrets-store.csi.x-k8s.io", "monitoring.coreos.com"]
            .map(String::from)
            .to_vec();
    let installed = |o: &Value| !missing_groups.iter().any(|g| o["apiVersion"].as_str().unwrap().starts_with(&format!("{g}/")));
    let objects = fixture_objects("fixtures/platform/k8s").into_iter().filter(installed).collect();
    let server = Server::start(Cluster { objects, missing_groups, ..Cluster::default() });
    let temp = tempfile::tempdir().unwrap();
    let live = audit(&options(&server, temp.path()));
    assert!(!live.is_partial() && !live.has_errors(), "{:?}", live.model.diagnostics);
    let undecided: BTreeMap<&str, Vec<&str>> = live.findings.iter().filter(|f| f.address.starts_with("prod/*/")).fold(BTreeMap::new(), |mut m, f| {
        assert_eq!(f.outcome, Outcome::Undecided);
        m.entry(f.rule_id.as_str()).or_default().push(f.address.as_str());
        m
    });
    let expected: BTreeMap<&str, Vec<&str>> = BTreeMap::from([
        ("OBS-001", vec!["prod/*/PrometheusRule/*"]),
        ("SEC-003", vec!["prod/*/SecretProviderClass/*"]),
        ("TLS-002", vec!["prod/*/Certificate/*"]),
        ("TLS-003", vec!["prod/*/Certificate/*"]),
        ("TLS-004", vec!["prod/*/DestinationRule/*", "prod/*/PeerAuthentication/*"]),
        ("TLS-006", vec!["prod/*/Certificate/*"]),
    ]);
    assert_eq!(undecided, expected);
    let tls004 = live.findings.iter().find(|f| f.rule_id == "TLS-004" && f.address.ends_with("PeerAuthentication/*")).unwrap();
    assert!(tls004.message.contains("the cluster serves no security.istio.io API (Istio is not installed)"), "{}", tls004.message);
    assert!(!live.findings.iter().any(|f| f.rule_id == "TLS-004" && f.outcome == Outcome::Violation), "no verdict without the mesh's objects");
    // Discovery said the groups are absent: nothing of theirs is asked for, so nothing 404s.
    let asked: Vec<String> = server.requests().into_iter().filter(|r| r.contains("cert-manager.io") || r.contains("istio.io")).collect();
    assert!(asked.is_empty(), "{asked:?}");
}

/// `YYYY-MM-DDTHH:MM:SSZ`, `days` from now.
fn rfc3339_in(days: i64) -> String {
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64 + days * 86_400;
    let (day, second) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", second / 3600, second % 3600 / 60, second % 60)
}

/// TLS-006 reads cert-manager's `status.notAfter`: 5 days left fails, 200 days passes, no
/// status (not issued yet) could not decide.
#[test]
fn certificate_expiry_is_read_from_the_status() {
    let mut certificates = fixture_objects("fixtures/platform/k8s/rendered/cert-manager.yaml");
    certificates.retain(|o| o["kind"] == "Certificate");
    assert!(certificates.len() >= 2);
    let mut objects = Vec::new();
    for (certificate, days) in certificates.iter().zip([5, 200]) {
        let mut certificate = certificate.clone();
        certificate["status"] = json!({"notAfter": rfc3339_in(days), "conditions": [{"type": "Ready", "status": "True"}]});
        objects.push(certificate);
    }
    let mut unissued = certificates[0].clone();
    unissued["metadata"]["name"] = json!("not-issued-yet");
    objects.push(unissued);
    let names: Vec<String> =
        objects.iter().map(|o| format!("Certificate {}/{}", o["metadata"]["namespace"].as_str().unwrap(), o["metadata"]["name"].as_str().unwrap())).collect();
    let server = Server::start(Cluster { objects, ..Cluster::default() });
    let temp = tempfile::tempdir().unwrap();
    let live = audit(&options(&server, temp.path()));
    let tls006: BTreeMap<&str, (Outcome, &str)> =
        live.findings.iter().filter(|f| f.rule_id == "TLS-006").map(|f| (f.address.as_str(), (f.outcome, f.message.as_str()))).collect();
    assert_eq!(tls006.keys().copied().collect::<Vec<_>>(), {
        let mut expected = vec![names[0].as_str(), names[2].as_str()];
        expected.sort();
        expected
    });
    let (outcome, message) = tls006[names[0].as_str()];
    assert_eq!(outcome, Outcome::Violation);
    assert!(message.contains("expires in 4 days") || message.contains("expires in 5 days"), "{message}");
    assert_eq!(tls006[names[2].as_str()].0, Outcome::Undecided);
}

/// TLS-002 and TLS-003 judge live cert-manager Certificates, found through cert-manager.io/v1
/// discovery, as they judge their manifests: an RSA-2048 key and a missing `privateKey`
/// (cert-manager's RSA-2048 default) fail TLS-002, a client certificate valid for a year fails
/// TLS-003, and an ECDSA P-256 client certificate of 90 days is not reported.
#[test]
fn certificate_keys_and_client_certificate_durations_are_judged_live() {
    let certificate = |name: &str, mut spec: Value| {
        spec["secretName"] = json!(format!("{name}-tls"));
        spec["issuerRef"] = json!({"name": "altscore-internal-ca", "kind": "ClusterIssuer"});
        // Issued and valid for 200 more days: TLS-006 passes, only keys and durations are judged.
        let status = json!({"notAfter": rfc3339_in(200), "conditions": [{"type": "Ready", "status": "True"}]});
        json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": name, "namespace": "altscore-api"}, "spec": spec, "status": status})
    };
    let client = ["digital signature", "key encipherment", "client auth"];
    let ecdsa = json!({"algorithm": "ECDSA", "size": 256});
    let objects = vec![
        certificate("score-api", json!({"dnsNames": ["api.altscore.in"], "privateKey": {"algorithm": "RSA", "size": 2048}})),
        certificate("consent", json!({"dnsNames": ["consent.altscore-api.svc"]})),
        certificate("erp-dst-001", json!({"commonName": "dst-001", "privateKey": ecdsa, "duration": "8760h", "usages": client})),
        certificate("erp-dst-002", json!({"commonName": "dst-002", "privateKey": ecdsa, "duration": "2160h", "usages": client})),
    ];
    let server = Server::start(Cluster { objects: objects.clone(), ..Cluster::default() });
    let temp = tempfile::tempdir().unwrap();
    let live = audit(&options(&server, temp.path()));
    assert!(!live.is_partial() && !live.has_errors(), "{:?}", live.model.diagnostics);
    let requests = server.requests();
    assert!(requests.iter().any(|r| r == "GET /apis/cert-manager.io/v1"), "{requests:#?}");
    assert!(requests.iter().any(|r| r.starts_with("GET /apis/cert-manager.io/v1/certificates?")), "{requests:#?}");

    let found: BTreeMap<(&str, &str), (Outcome, &str)> =
        live.findings.iter().map(|f| ((f.rule_id.as_str(), f.address.as_str()), (f.outcome, f.message.as_str()))).collect();
    let expected = [
        ("TLS-002", "Certificate altscore-api/consent", "has no privateKey settings (cert-manager's default is RSA 2048)"),
        ("TLS-002", "Certificate altscore-api/score-api", "has a RSA 2048 key"),
        ("TLS-003", "Certificate altscore-api/erp-dst-001", "is a client certificate valid for 8760h"),
    ];
    assert_eq!(found.keys().copied().collect::<Vec<_>>(), expected.map(|(rule, address, _)| (rule, address)), "{found:#?}");
    for (rule, address, message) in expected {
        let (outcome, actual) = found[&(rule, address)];
        assert!(outcome == Outcome::Violation && actual.contains(message), "{rule} {address}: {outcome:?} {actual}");
    }
    let manifests = temp.path().join("manifests");
    std::fs::create_dir(&manifests).unwrap();
    std::fs::write(manifests.join("certificates.json"), json!({"apiVersion": "v1", "kind": "List", "items": objects}).to_string()).unwrap();
    assert_eq!(differences("certificates", &keys(&static_scan(&manifests)), &keys(&live)), Vec::<String>::new());
}

fn run_cli(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = common::charterguard(dir, args);
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Through the CLI: a namespace the credentials may not list makes the audit incomplete
/// (exit 2, in the report and the SARIF notifications) unless `--allow-partial`; everything
/// else is still listed and judged.
#[test]
fn a_forbidden_namespace_is_exit_2_unless_allow_partial() {
    let objects = fixture_objects("fixtures/platform/k8s");
    let server = Server::start(Cluster { objects, forbidden_namespaces: vec!["altscore-data".into()], ..Cluster::default() });
    let temp = tempfile::tempdir().unwrap();
    let kubeconfig = server.kubeconfig(temp.path());
    let kubeconfig = kubeconfig.to_str().unwrap();
    let base = ["audit", "k8s", "--kubeconfig", kubeconfig, "--page-size", "3", "--retry-backoff-ms", "10", "--quiet"];
    let (code, stdout, stderr) = run_cli(temp.path(), &[&base[..], &["--format", "sarif"]].concat());
    assert_eq!(code, 2, "{stderr}");
    let sarif: Value = serde_json::from_str(&stdout).unwrap();
    common::validate_sarif(&sarif).unwrap();
    let notifications = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"].to_string();
    assert!(
        notifications.contains("fixture-cluster/altscore-data/Pod/*: listing Pod objects in namespace altscore-data failed: HTTP 403: Forbidden"),
        "{notifications}"
    );
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results
        .iter()
        .any(|r| r["ruleId"] == "POD-001" && r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "fixture-cluster/altscore-data/Pod/*"));
    // Every other namespace was listed namespace by namespace.
    assert!(server.requests().iter().any(|r| r.starts_with("GET /api/v1/namespaces/altscore-api/pods?")));
    let live_ids: Vec<&str> = results.iter().filter_map(|r| r["locations"][0]["logicalLocations"][1]["fullyQualifiedName"].as_str()).collect();
    assert!(live_ids.iter().any(|id| id.starts_with("fixture-cluster/altscore-api/")), "{live_ids:?}");

    let (code, _, stderr) = run_cli(temp.path(), &[&base[..], &["--allow-partial", "--format", "json", "--fail-on", "never"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run_cli(temp.path(), &[&base[..], &["--allow-partial", "--format", "json"]].concat());
    assert_eq!(code, 1, "the platform's planted violations fail: {stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert!(json["findings"].as_array().unwrap().iter().any(|f| f["outcome"] == "violation" && f["source"] == "eks"));
}

/// Through the CLI: kinds the audit may not list leave their rules undecided. They pass the
/// gate unless `--fail-on-undecided`, and the summary on standard error counts them.
#[test]
fn fail_on_undecided_fails_an_audit_on_what_it_could_not_list() {
    let server = Server::start(Cluster { forbidden_kinds: vec!["Namespace".into()], ..Cluster::default() });
    let temp = tempfile::tempdir().unwrap();
    let kubeconfig = server.kubeconfig(temp.path());
    let base = ["audit", "k8s", "--kubeconfig", kubeconfig.to_str().unwrap(), "--retry-backoff-ms", "10", "--allow-partial", "--format", "json"];
    let (code, stdout, stderr) = run_cli(temp.path(), &base);
    assert_eq!(code, 0, "{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    let undecided = json["summary"]["undecided_errors"]["count"].as_u64().unwrap();
    assert!(undecided > 0 && json["summary"]["by_severity"]["error"] == 0, "{}", json["summary"]);
    assert!(stderr.contains(&format!("charterguard: 0 resources, 0 errors (+{undecided} undecided), ")), "{stderr}");
    let (code, _, stderr) = run_cli(temp.path(), &[&base[..], &["--fail-on-undecided"]].concat());
    assert_eq!(code, 1, "{stderr}");
}

/// Every literal value of the ConfigMaps and env of SEC-002's failing fixture and of a
/// Secret's data: none may appear in any report format of the audit.
#[test]
fn configmap_and_secret_values_never_reach_a_report() {
    let mut objects = fixture_objects("fixtures/SEC-002/fail-configmap-and-env-literals");
    objects.extend(fixture_objects("fixtures/SEC-003/fail-secret-data-and-sync"));
    let mut values: Vec<String> = Vec::new();
    for object in &objects {
        for field in ["data", "binaryData", "stringData"] {
            values.extend(object[field].as_object().into_iter().flatten().filter_map(|(_, v)| v.as_str().map(str::to_string)));
        }
        let containers = object["spec"]["template"]["spec"]["containers"].as_array().cloned().unwrap_or_default();
        values.extend(containers.iter().flat_map(|c| c["env"].as_array().cloned().unwrap_or_default()).filter_map(|e| e["value"].as_str().map(str::to_string)));
    }
    values.retain(|v| v.len() >= 8);
    let secret_data: Vec<String> = values.iter().filter(|v| v.ends_with('=')).cloned().collect();
    values.extend(secret_data.iter().map(|v| k8s_api::base64(v.as_bytes())));
    values.extend(["supersecret".to_string(), "changeme".to_string(), k8s_api::base64(b"changeme")]);
    assert!(values.len() >= 6, "{values:?}");
    let server = Server::start(Cluster { objects, ..Cluster::default() });
    let temp = tempfile::tempdir().unwrap();
    let kubeconfig = server.kubeconfig(temp.path());
    let mut args: Vec<String> =
        ["audit", "k8s", "--kubeconfig", kubeconfig.to_str().unwrap(), "--format", "human", "-o", "report.txt"].map(String::from).to_vec();
    for format in ["json", "sarif", "markdown", "junit", "html"] {
        args.extend(["--report".to_string(), format!("{format}=report.{format}")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = run_cli(temp.path(), &args);
    assert_eq!(code, 1, "{stderr}");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(temp.path().join("report.json")).unwrap()).unwrap();
    let rules: Vec<&str> = json["findings"].as_array().unwrap().iter().map(|f| f["rule_id"].as_str().unwrap()).collect();
    assert!(rules.contains(&"SEC-002") && rules.contains(&"SEC-003"), "{rules:?}");
    let mut outputs = vec![("stdout".to_string(), stdout), ("stderr".to_string(), stderr)];
    for file in ["report.txt", "report.json", "report.sarif", "report.markdown", "report.junit", "report.html"] {
        outputs.push((file.to_string(), std::fs::read_to_string(temp.path().join(file)).unwrap()));
    }
    for (name, text) in &outputs {
        for value in &values {
            assert!(!text.contains(value.as_str()), "{name} contains the secret value {value}");
        }
    }
}

/// SARIF of an audit validates against the 2.1.0 schema; each result names the live object
/// `cluster/namespace/kind/name` beside its address, under the default audit category. The
/// cluster is the `--context` given, not the kubeconfig's current one, which does not answer.
#[test]
fn audit_sarif_is_valid_and_names_cluster_objects() {
    let server = Server::start(Cluster { objects: fixture_objects("fixtures/platform/k8s"), ..Cluster::default() });
    let temp = tempfile::tempdir().unwrap();
    let kubeconfig = server.kubeconfig(temp.path());
    let text = std::fs::read_to_string(&kubeconfig).unwrap().replace("current-context: fixture", "current-context: gone");
    let text = text.replace("contexts:\n", "contexts:\n- name: gone\n  context:\n    cluster: gone\n    user: auditor\n");
    std::fs::write(&kubeconfig, text.replace("clusters:\n", "clusters:\n- name: gone\n  cluster:\n    server: http://127.0.0.1:9\n")).unwrap();
    let kubeconfig = kubeconfig.to_str().unwrap();
    let (code, _, stderr) = run_cli(temp.path(), &["audit", "k8s", "--kubeconfig", kubeconfig, "--max-attempts", "2", "--retry-backoff-ms", "10"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("charterguard: cluster gone does not answer"), "{stderr}");
    let cluster = "arn:aws:eks:ap-south-1:123456789012:cluster/prod";
    let (code, stdout, stderr) =
        run_cli(temp.path(), &["audit", "k8s", "--kubeconfig", kubeconfig, "--context", "fixture", "--cluster-name", cluster, "--format", "sarif"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("charterguard: k8s: 2 Certificate object(s) in 1 page(s)"), "progress on standard error: {stderr}");
    let sarif: Value = serde_json::from_str(&stdout).unwrap();
    common::validate_sarif(&sarif).unwrap();
    assert_eq!(sarif["runs"][0]["automationDetails"]["id"], "charterguard-audit/k8s/");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() >= 5);
    for result in results {
        let logical = &result["locations"][0]["logicalLocations"];
        let (address, live) = (logical[0]["fullyQualifiedName"].as_str().unwrap(), logical[1]["fullyQualifiedName"].as_str().unwrap());
        let (kind, rest) = address.split_once(' ').unwrap();
        let rest = rest.split('/').take(2).collect::<Vec<_>>();
        let expected = match rest.as_slice() {
            [namespace, name] => format!("arn:aws:eks:ap-south-1:123456789012:cluster/prod/{namespace}/{kind}/{}", name.split(' ').next().unwrap()),
            _ => format!("arn:aws:eks:ap-south-1:123456789012:cluster/prod//{kind}/{}", rest[0].split(' ').next().unwrap()),
        };
        assert_eq!(live, expected, "{result}");
        assert_eq!(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "charterguard.yaml");
    }
}

/// The ClusterRole of `deploy/k8s/charterguard-audit.yaml` grants every list the audit makes:
/// with the server enforcing it, the audit of the example platform is complete.
#[test]
fn the_deployed_cluster_role_lets_the_audit_read_everything() {
    let manifest = fixture_objects("deploy/k8s/charterguard-audit.yaml");
    let granted = k8s_api::list_grants(&named(&manifest, "ClusterRole", "charterguard-audit"));
    let server = Server::start(Cluster { objects: fixture_objects("fixtures/platform/k8s"), granted: Some(granted.clone()), ..Cluster::default() });
    let temp = tempfile::tempdir().unwrap();
    let live = audit(&options(&server, temp.path()));
    assert!(!live.is_partial() && live.model.unseen.is_empty(), "{:#?}", live.model.diagnostics);
    // And it grants nothing more: every grant is listed by the audit.
    let listed: Vec<String> = server.requests().iter().filter_map(|r| r.split('?').next()).map(str::to_string).collect();
    for (group, plural) in &granted {
        let path = if group.is_empty() { format!("GET /api/v1/{plural}") } else { format!("GET /apis/{group}/") };
        assert!(listed.iter().any(|r| r.starts_with(&path) && r.ends_with(&format!("/{plural}"))), "{group}/{plural} is granted but never listed");
    }
}

/// The fixture server is a faithful enough API server for real kubectl.
#[test]
fn kubectl_reads_the_fixture_server() {
    let kubectl = peers::kubectl();
    let server = Server::start(Cluster { objects: fixture_objects("fixtures/platform/k8s"), ..Cluster::default() });
    let temp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = Command::new(&kubectl)
            .env("HOME", temp.path())
            .env_remove("KUBECONFIG")
            .args(["--server", &server.url(), "--request-timeout", "20s"])
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    let deployments = run(&["get", "deployments", "-A"]);
    assert!(deployments.contains("altscore-ml") && deployments.contains("scoring-engine"), "{deployments}");
    let certificates = run(&["get", "certificates.cert-manager.io", "-A", "--chunk-size", "1", "-o", "name"]);
    assert_eq!(certificates.lines().count(), 2, "{certificates}");
    let namespaces = run(&["get", "namespaces", "-o", "jsonpath={.items[*].metadata.name}"]);
    assert!(namespaces.split(' ').any(|n| n == "altscore-monitoring"), "{namespaces}");
    let pods = run(&["get", "pods", "-A"]);
    assert!(pods.trim().is_empty() || pods.contains("No resources"), "{pods}");
}
