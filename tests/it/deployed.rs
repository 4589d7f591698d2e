//! Kubernetes as it is deployed, against the real engines: Helm (the Helm v4 SDK from PyPI
//! behind the `helm` shim in tests/it/peers, see tests/it/peers/mod.rs) and kustomize (Debian's
//! kubectl). `scan --helm CHART`, the charts, kustomizations and Argo CD Applications a scan
//! finds (the fixture repositories under fixtures/deployed), and real charts of the corpus.

use crate::common;
use crate::peers;

use serde_json::Value;
use std::path::Path;
use std::process::Output;

const CORPUS: &str = "../shared/corpus";

/// `charterguard ARGS` in the checkout, with `path` as its PATH.
fn charterguard(args: &[&str], path: &std::ffi::OsStr) -> Output {
    common::cli(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).env("PATH", path).args(args).output()
}

/// Scans with the shim helm and kubectl on PATH; returns the exit code and the JSON report.
fn scan(args: &[&str]) -> (i32, Value) {
    scan_with(args, &peers::render_path())
}

fn scan_with(args: &[&str], path: &std::ffi::OsStr) -> (i32, Value) {
    let mut all = vec!["scan", "--format", "json"];
    all.extend_from_slice(args);
    let output = charterguard(&all, path);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("no JSON report ({e}); stderr:\n{stderr}"));
    (output.status.code().expect("exit code"), report)
}

fn findings<'r>(report: &'r Value, rule: &str) -> Vec<&'r Value> {
    report["findings"].as_array().unwrap().iter().filter(|f| f["rule_id"] == rule).collect()
}

fn error_diagnostics(report: &Value) -> Vec<&Value> {
    report["diagnostics"].as_array().unwrap().iter().filter(|d| d["level"] == "error").collect()
}

#[test]
fn secure_defaults_render_clean() {
    let (code, report) = scan(&["--helm", "fixtures/helm/web", "--namespace", "altscore-api"]);
    assert_eq!(report["summary"]["resources"], 2, "{report:#}");
    assert_eq!(report["findings"].as_array().unwrap().len(), 0, "{report:#}");
    assert!(error_diagnostics(&report).is_empty(), "{report:#}");
    assert_eq!(code, 0);
}

#[test]
fn root_container_is_found_in_its_template() {
    let (code, report) = scan(&["--helm", "fixtures/helm/web", "-f", "fixtures/helm/values-root.yaml", "--release", "shop", "--namespace", "prod"]);
    assert_eq!(code, 1, "{report:#}");
    let pod = findings(&report, "POD-001");
    assert_eq!(pod.len(), 2, "runAsNonRoot false and runAsUser 0: {report:#}");
    for (finding, line) in pod.into_iter().zip([3, 4]) {
        assert_eq!(finding["address"], "Deployment prod/shop-web");
        // The values file that set the value is the file that must change, at its line.
        assert_eq!(finding["file"], "fixtures/helm/values-root.yaml");
        assert_eq!(finding["start_line"], line, "{finding:#}");
        let template = finding["template"].as_str().expect("template");
        assert!(template.starts_with("web/templates/deployment.yaml (helm template output lines "), "{template}");
    }
}

#[test]
fn later_values_files_win_as_in_helm() {
    let root_last = scan(&["--helm", "fixtures/helm/web", "-f", "fixtures/helm/values-nonroot.yaml", "-f", "fixtures/helm/values-root.yaml"]).1;
    assert_eq!(findings(&root_last, "POD-001").len(), 2, "{root_last:#}");
    let root_first = scan(&["--helm", "fixtures/helm/web", "-f", "fixtures/helm/values-root.yaml", "-f", "fixtures/helm/values-nonroot.yaml"]).1;
    assert_eq!(findings(&root_first, "POD-001").len(), 0, "{root_first:#}");
    // --set comes after every values file.
    let set = scan(&["--helm", "fixtures/helm/web", "-f", "fixtures/helm/values-nonroot.yaml", "--set", "securityContext.runAsUser=0"]).1;
    let pod = findings(&set, "POD-001");
    assert_eq!(pod.len(), 1, "{set:#}");
    assert_eq!(pod[0]["attribute"], "containers.securityContext.runAsUser");
}

#[test]
fn sarif_points_at_template_files() {
    // A `--set` on the command line is written in no file: the finding stays on the template.
    let output = charterguard(&["scan", "--format", "sarif", "--helm", "fixtures/helm/web", "--set", "securityContext.runAsUser=0"], &peers::helm_path());
    let sarif: Value = serde_json::from_slice(&output.stdout).expect("SARIF JSON");
    common::validate_sarif(&sarif).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for result in results {
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "fixtures/helm/web/templates/deployment.yaml");
        assert_eq!(location["region"]["startLine"], 2);
        assert!(result["properties"]["template"].as_str().unwrap().starts_with("web/templates/deployment.yaml"));
    }
}

/// Real charts of the corpus render through the real engine and scan without errors; every
/// finding names its template, and mapped findings point at files that exist.
#[test]
fn corpus_charts_render_and_scan() {
    for (chart, min_resources) in [
        ("GoogleCloudPlatform__microservices-demo/helm-chart", 30),
        ("kubernetes__ingress-nginx/charts/ingress-nginx", 10),
        ("istio__istio/manifests/charts/base", 2),
    ] {
        let dir = format!("{CORPUS}/{chart}");
        assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(&dir).is_dir(), "{dir} is missing: the shared corpus must be beside the repository");
        let (code, report) = scan(&["--helm", &dir]);
        assert_ne!(code, 2, "{chart}: {:#}", report["diagnostics"]);
        assert!(error_diagnostics(&report).is_empty(), "{chart}: {:#}", report["diagnostics"]);
        let resources = report["summary"]["resources"].as_u64().unwrap();
        assert!(resources >= min_resources, "{chart}: only {resources} resources");
        for finding in report["findings"].as_array().unwrap() {
            assert!(finding["template"].as_str().is_some_and(|t| t.contains("/templates/")), "{chart}: {finding:#}");
            let file = finding["file"].as_str().unwrap();
            assert!(file.starts_with(&format!("{dir}/templates/")), "{chart}: {finding:#}");
            assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(file).is_file(), "{file}");
        }
    }
}

#[test]
fn the_demo_chart_has_its_known_findings() {
    let (code, report) = scan(&["--helm", &format!("{CORPUS}/GoogleCloudPlatform__microservices-demo/helm-chart")]);
    assert_eq!(code, 1);
    // Its images are tagged, not pinned by digest.
    assert!(!findings(&report, "IMG-001").is_empty(), "{report:#}");
}

/// What a run told its user: the human report on standard output, and standard error.
fn said(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[test]
fn missing_helm_is_a_clear_error() {
    let output = charterguard(&["scan", "--helm", "fixtures/helm/web"], std::ffi::OsStr::new(""));
    assert_eq!(output.status.code(), Some(2));
    let stderr = said(&output);
    let message = "fixtures/helm/web/Chart.yaml:1:1: Helm chart fixtures/helm/web not rendered: the helm binary is not on PATH: install helm, or pipe `helm template` output into `charterguard scan -`";
    assert!(stderr.contains(message), "{stderr}");
}

#[test]
fn helm_failures_carry_helms_message() {
    let output = charterguard(&["scan", "--helm", "fixtures/helm/broken"], &peers::helm_path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = said(&output);
    assert!(stderr.contains("`helm template` failed for chart fixtures/helm/broken"), "{stderr}");
    assert!(stderr.contains("nosuchfunction"), "helm's own error: {stderr}");

    let output = charterguard(&["scan", "--helm", "fixtures/helm/web", "-f", "fixtures/helm/values-invalid.yaml"], &peers::helm_path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = said(&output);
    assert!(stderr.contains("`helm template` failed"), "{stderr}");

    let output = charterguard(&["scan", "--helm", "fixtures/helm/no-such-chart"], &peers::helm_path());
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn helm_and_stdin_are_exclusive_and_values_need_helm() {
    let output = charterguard(&["scan", "-", "--helm", "fixtures/helm/web"], std::ffi::OsStr::new(""));
    assert_eq!(output.status.code(), Some(2));
    let output = charterguard(&["scan", "-f", "fixtures/helm/values-root.yaml", "fixtures/POD-001"], std::ffi::OsStr::new(""));
    assert_eq!(output.status.code(), Some(2), "clap refuses -f without --helm");
}

/// Every finding as `rule outcome file:line [render]`, sorted.
fn summary(report: &Value) -> Vec<String> {
    let mut lines: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}:{} [{}]",
                f["rule_id"].as_str().unwrap(),
                f["outcome"].as_str().unwrap(),
                f["file"].as_str().unwrap(),
                f["start_line"],
                f["render"].as_str().unwrap_or("-")
            )
        })
        .collect();
    lines.sort();
    lines
}

const SERVICES: &str = "fixtures/deployed/services";

/// The services repository: three charts, each rendered per environment as its
/// charterguard.yaml says; each planted finding points at the file that must change.
#[test]
fn services_charts_are_judged_per_environment() {
    let (code, report) = scan(&[SERVICES]);
    assert!(error_diagnostics(&report).is_empty(), "{:#}", report["diagnostics"]);
    assert_eq!(code, 1);
    let charts = "fixtures/deployed/services/charts";
    assert_eq!(
        summary(&report),
        [
            // values-dev.yaml swaps the digest for the moving tag: its `tag: latest` line.
            format!("IMG-001 violation {charts}/api/values-dev.yaml:5 [chart {charts}/api (dev)]"),
            format!("IMG-002 violation {charts}/api/values-dev.yaml:5 [chart {charts}/api (dev)]"),
            // values-prod.yaml makes the ingester root: its two lines.
            format!("POD-001 violation {charts}/ingest/values-prod.yaml:4 [chart {charts}/ingest (prod)]"),
            format!("POD-001 violation {charts}/ingest/values-prod.yaml:5 [chart {charts}/ingest (prod)]"),
            // The template itself shares the host network, in both environments.
            format!("POD-004 violation {charts}/scorer/templates/deployment.yaml:2 [chart {charts}/scorer (dev)]"),
            format!("POD-004 violation {charts}/scorer/templates/deployment.yaml:2 [chart {charts}/scorer (prod)]"),
        ]
    );
    // Three charts, two environments, a Deployment and a Service each.
    assert_eq!(report["summary"]["resources"], 12);
    let messages: Vec<&str> = findings(&report, "POD-004").iter().map(|f| f["message"].as_str().unwrap()).collect();
    assert!(messages.iter().any(|m| m.contains("(chart fixtures/deployed/services/charts/scorer (prod))")), "{messages:?}");
    let fingerprints: std::collections::HashSet<&str> = findings(&report, "POD-004").iter().map(|f| f["fingerprint"].as_str().unwrap()).collect();
    assert_eq!(fingerprints.len(), 2, "the dev and prod renders are two findings");
}

/// Without a config, a chart renders with its default values; its release namespace is then
/// unknown, and what depends on it could not be decided, saying how to make it known.
#[test]
fn a_chart_without_config_renders_with_its_defaults() {
    let (code, report) = scan(&["fixtures/deployed/services/charts/api"]);
    assert_eq!(code, 0, "{report:#}");
    assert!(error_diagnostics(&report).is_empty(), "{:#}", report["diagnostics"]);
    let undecided = findings(&report, "K8S-001");
    assert_eq!(undecided.len(), 1, "{report:#}");
    assert_eq!(undecided[0]["outcome"], "undecided");
    assert_eq!(undecided[0]["render"], "chart fixtures/deployed/services/charts/api (default values)");
    assert!(undecided[0]["reason"].as_str().unwrap().contains("give the chart its namespace in charterguard.yaml"), "{:#}", undecided[0]);
}

/// No helm on PATH: an error per chart found, naming it; `helm: skip` makes it a note.
#[test]
fn charts_without_helm_are_errors_unless_skipped() {
    let (code, report) = scan_with(&[SERVICES], std::ffi::OsStr::new(""));
    assert_eq!(code, 2);
    let errors: Vec<&str> = error_diagnostics(&report).iter().map(|d| d["message"].as_str().unwrap()).collect();
    assert_eq!(errors.len(), 6, "one per render: {errors:#?}");
    assert!(errors.iter().all(|e| e.contains("not rendered: the helm binary is not on PATH")), "{errors:#?}");

    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/helm/web").as_path(), &dir.path().join("web"));
    std::fs::write(dir.path().join("charterguard.yaml"), "helm: skip\n").unwrap();
    let (code, report) = scan_with(&[dir.path().to_str().unwrap()], std::ffi::OsStr::new(""));
    assert_eq!(code, 0, "{report:#}");
    let notes: Vec<&str> = report["diagnostics"].as_array().unwrap().iter().filter_map(|d| d["message"].as_str()).collect();
    assert!(notes.iter().any(|n| n.contains("not rendered: the config says `helm: skip`")), "{notes:?}");
}

/// Bad charts and values: each a located error, nothing judged from a half render, and the
/// rest of the scan goes on.
#[test]
fn broken_charts_and_missing_values_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    common::copy_tree(&root.join("fixtures/helm/web"), &dir.path().join("web"));
    common::copy_tree(&root.join("fixtures/helm/broken"), &dir.path().join("broken"));
    std::fs::copy(root.join("fixtures/POD-001/fail-run-as-user-0/statefulset.yaml"), dir.path().join("pod.yaml")).unwrap();
    let config = "helm:\n  charts:\n    - path: web\n      namespace: altscore-api\n      renders:\n        - {name: prod, values: [values-prod.yaml]}\n";
    std::fs::write(dir.path().join("charterguard.yaml"), config).unwrap();
    let (code, report) = scan_with(&[dir.path().to_str().unwrap()], &peers::render_path());
    assert_eq!(code, 2);
    let errors: Vec<String> = error_diagnostics(&report)
        .iter()
        .map(|d| format!("{}:{}: {}", d["file"].as_str().unwrap().rsplit('/').take(2).collect::<Vec<_>>().join("<"), d["line"], d["message"].as_str().unwrap()))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors.iter().any(|e| e.starts_with("Chart.yaml<broken:1: Helm chart") && e.contains("nosuchfunction")), "{errors:#?}");
    assert!(errors.iter().any(|e| e.starts_with("charterguard.yaml") && e.contains(":6: ") && e.contains("values-prod.yaml does not exist")), "{errors:#?}");
    // The plain manifest beside them is still judged.
    assert!(!findings(&report, "POD-001").is_empty(), "{report:#}");
    assert_eq!(report["summary"]["resources"].as_u64(), Some(1), "nothing of the failed renders is judged");
}

const K8S_CONFIG: &str = "fixtures/deployed/k8s-config";

/// The k8s-config repository: a kustomize base with dev and prod overlays, platform manifests
/// and the Argo CD Applications that deploy them. Each Application's render is judged, each
/// planted finding points at the file that must change, and the chart another repository
/// holds could not be decided, with its URL.
#[test]
fn k8s_config_is_judged_as_argo_cd_deploys_it() {
    let (code, report) = scan(&[K8S_CONFIG]);
    assert!(error_diagnostics(&report).is_empty(), "{:#}", report["diagnostics"]);
    assert_eq!(code, 1);
    let decided: Vec<String> = summary(&report).into_iter().filter(|line| line.contains(" violation ")).collect();
    let app = |name: &str, env: &str, path: &str| format!("Argo CD Application argocd/{name}{env}: {path}");
    assert_eq!(
        decided,
        [
            // The dev overlay's `images:` entry moves the gateway to `latest`: its newTag line.
            format!("IMG-001 violation {K8S_CONFIG}/gateway/overlays/dev/kustomization.yaml:10 [{}]", app("gateway-dev", " (dev)", "gateway/overlays/dev")),
            format!("IMG-002 violation {K8S_CONFIG}/gateway/overlays/dev/kustomization.yaml:10 [{}]", app("gateway-dev", " (dev)", "gateway/overlays/dev")),
            // The platform directory's quota, deployed into the destination namespace.
            format!("K8S-002 violation {K8S_CONFIG}/platform/policies/quota.yaml:7 [{}]", app("platform", "", "platform")),
            // The prod overlay's strategic-merge patch makes the gateway root: its line.
            format!("POD-001 violation {K8S_CONFIG}/gateway/overlays/prod/run-as-root.yaml:13 [{}]", app("gateway-prod", " (prod)", "gateway/overlays/prod")),
        ]
    );
    // The dev overlay's name suffix, both environments' namespace from the overlays.
    let addresses: std::collections::BTreeSet<&str> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["outcome"] == "violation").map(|f| f["address"].as_str().unwrap()).collect();
    assert_eq!(
        addresses.into_iter().collect::<Vec<_>>(),
        ["Deployment altscore-gateway/gateway", "Deployment altscore-gateway/gateway-dev", "ResourceQuota altscore-gateway/compute"]
    );
    // api-prod deploys a chart of the services repository: every rule that would judge it
    // could not decide, at its source, naming the URL.
    let undecided: Vec<&Value> = report["findings"].as_array().unwrap().iter().filter(|f| f["outcome"] == "undecided").collect();
    assert!(undecided.len() > 10, "{undecided:#?}");
    for finding in &undecided {
        assert_eq!(finding["address"], "Application argocd/api-prod");
        assert_eq!((finding["file"].as_str().unwrap(), finding["start_line"].as_u64().unwrap()), (&*format!("{K8S_CONFIG}/apps/api-prod.yaml"), 10));
        assert!(
            finding["reason"].as_str().unwrap().contains("https://github.com/altscore/services.git, which is not in the scanned repository"),
            "{finding:#}"
        );
        assert!(finding.get("live").is_none(), "not a live finding: {finding:#}");
    }
    // The kustomization files and the patches are never judged as objects, nor the
    // Applications by workload rules: every violation is a render's.
    for finding in report["findings"].as_array().unwrap().iter().filter(|f| f["outcome"] == "violation") {
        assert!(finding["render"].is_string(), "{finding:#}");
    }
    // A gateway Deployment and Service per environment, the 3 platform objects, and the 4
    // Applications themselves (objects of the argocd namespace, which no workload rule judges).
    assert_eq!(report["summary"]["resources"], 11, "{report:#}");
}

/// No kubectl or kustomize on PATH: an error per kustomization, at its file; the rest is judged.
#[test]
fn kustomizations_without_kubectl_are_errors() {
    let (code, report) = scan_with(&[&format!("{K8S_CONFIG}/gateway"), "fixtures/POD-001/fail-run-as-user-0"], std::ffi::OsStr::new(""));
    assert_eq!(code, 2);
    let errors: Vec<String> =
        error_diagnostics(&report).iter().map(|d| format!("{}:{}: {}", d["file"].as_str().unwrap(), d["line"], d["message"].as_str().unwrap())).collect();
    assert_eq!(
        errors,
        ["dev", "prod"].map(|env| format!(
            "{K8S_CONFIG}/gateway/overlays/{env}/kustomization.yaml:1: kustomization found and not rendered: needs `kubectl` or `kustomize` on PATH"
        ))
    );
    assert!(!findings(&report, "POD-001").is_empty(), "the plain manifest is still judged: {report:#}");
}

/// Without Argo CD, each overlay is rendered on its own and the base only through them.
#[test]
fn overlays_without_argo_cd_render_on_their_own() {
    let (code, report) = scan(&[&format!("{K8S_CONFIG}/gateway")]);
    assert!(error_diagnostics(&report).is_empty(), "{:#}", report["diagnostics"]);
    assert_eq!(code, 1);
    let overlay = |env: &str| format!("kustomization {K8S_CONFIG}/gateway/overlays/{env}");
    assert_eq!(
        summary(&report),
        [
            format!("IMG-001 violation {K8S_CONFIG}/gateway/overlays/dev/kustomization.yaml:10 [{}]", overlay("dev")),
            format!("IMG-002 violation {K8S_CONFIG}/gateway/overlays/dev/kustomization.yaml:10 [{}]", overlay("dev")),
            format!("POD-001 violation {K8S_CONFIG}/gateway/overlays/prod/run-as-root.yaml:13 [{}]", overlay("prod")),
        ]
    );
    assert_eq!(report["summary"]["resources"], 4, "a Deployment and a Service per overlay, none from the base or patches");
    // A base no overlay of the scan uses is rendered on its own.
    let (_, base) = scan(&[&format!("{K8S_CONFIG}/gateway/base")]);
    assert_eq!(base["summary"]["resources"], 2);
    assert!(base["findings"].as_array().unwrap().iter().all(|f| f["render"] == format!("kustomization {K8S_CONFIG}/gateway/base")), "{base:#}");
}

/// An Application whose path is not a directory of the repository, whose values file is
/// missing or names a source it does not have: each an error at that line; the rest renders.
#[test]
fn broken_applications_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    common::copy_tree(&root.join(SERVICES).join("charts/api"), &dir.path().join("charts/api"));
    std::fs::write(dir.path().join("charterguard.yaml"), "argocd: {repo_urls: ['https://github.com/altscore/services']}\n").unwrap();
    let application = |name: &str, source: &str| {
        format!("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: {name}, namespace: argocd}}\nspec:\n  destination: {{namespace: altscore-api}}\n  source:\n    repoURL: https://github.com/altscore/services.git\n{source}")
    };
    let apps = [
        application("gone", "    path: charts/gone\n"),
        application("escapes", "    path: ../outside\n"),
        application("no-values", "    path: charts/api\n    helm:\n      valueFiles: [values-staging.yaml]\n"),
        application("no-ref", "    path: charts/api\n    helm:\n      valueFiles: [$config/api.yaml]\n"),
        application("prod", "    path: charts/api\n    helm:\n      valueFiles: [values-prod.yaml]\n      parameters:\n        - {name: image.digest, value: ''}\n        - {name: image.tag, value: latest}\n"),
    ];
    std::fs::write(dir.path().join("apps.yaml"), apps.join("---\n")).unwrap();
    let (code, report) = scan(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    let errors: Vec<String> = error_diagnostics(&report)
        .iter()
        .map(|d| format!("{}:{}: {}", d["file"].as_str().unwrap().rsplit('/').next().unwrap(), d["line"], d["message"].as_str().unwrap()))
        .collect();
    let expected = [
        ("apps.yaml:8: Application argocd/gone: path charts/gone is not a directory of the repository"),
        ("apps.yaml:17: Application argocd/escapes: path ../outside is not a directory of the repository"),
        ("apps.yaml:28: Application argocd/no-values: values file values-staging.yaml does not exist"),
        ("apps.yaml:39: Application argocd/no-ref: values file $config/api.yaml names a source `ref: config` that the Application does not have"),
    ];
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    for (error, expected) in errors.iter().zip(expected) {
        assert!(error.starts_with(expected), "{error}\n  expected: {expected}");
    }
    // The good Application renders; its parameters are what set the moving tag.
    let img = findings(&report, "IMG-002");
    assert_eq!(img.len(), 1, "{report:#}");
    assert_eq!(img[0]["render"], "Argo CD Application argocd/prod (prod): charts/api");
    assert_eq!(
        (img[0]["file"].as_str().unwrap().rsplit('/').next().unwrap(), img[0]["start_line"].as_u64().unwrap()),
        ("apps.yaml", 53),
        "the parameter that sets the tag"
    );
}

/// An Application's kustomize edits are applied as Argo CD applies them, and a value an edit
/// sets points at the Application.
#[test]
fn argo_cd_kustomize_edits_are_judged_at_the_application() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join(K8S_CONFIG).join("gateway"), &dir.path().join("gateway"));
    std::fs::write(dir.path().join("charterguard.yaml"), "argocd: {repo_urls: ['https://github.com/altscore/k8s-config']}\n").unwrap();
    let application = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: gateway-canary, namespace: argocd}\nspec:\n  destination: {namespace: altscore-gateway}\n  source:\n    repoURL: https://github.com/altscore/k8s-config\n    path: gateway/overlays/prod\n    kustomize:\n      namePrefix: canary-\n      images:\n        - 123456789012.dkr.ecr.ap-south-1.amazonaws.com/altscore/gateway:latest\n";
    std::fs::write(dir.path().join("app.yaml"), application).unwrap();
    let (code, report) = scan(&[dir.path().to_str().unwrap()]);
    assert!(error_diagnostics(&report).is_empty(), "{:#}", report["diagnostics"]);
    assert_eq!(code, 1);
    // The dev overlay, which no Application deploys, is rendered on its own; prod only through
    // the Application.
    let render = "Argo CD Application argocd/gateway-canary (prod): gateway/overlays/prod";
    let renders: std::collections::BTreeSet<&str> = report["findings"].as_array().unwrap().iter().map(|f| f["render"].as_str().unwrap()).collect();
    assert_eq!(renders.len(), 2, "{renders:?}");
    assert!(renders.contains(render) && renders.iter().any(|r| r.starts_with("kustomization ") && r.ends_with("gateway/overlays/dev")), "{renders:?}");
    let latest: Vec<&Value> = findings(&report, "IMG-002").into_iter().filter(|f| f["render"] == render).collect();
    assert_eq!(latest.len(), 1, "{report:#}");
    assert_eq!(latest[0]["address"], "Deployment altscore-gateway/canary-gateway");
    assert!(latest[0]["file"].as_str().unwrap().ends_with("app.yaml"), "{:#}", latest[0]);
    // The prod patch still makes it root, at the patch.
    let root = findings(&report, "POD-001");
    assert_eq!(root.len(), 1, "{report:#}");
    assert_eq!(root[0]["render"], render);
    assert!(root[0]["file"].as_str().unwrap().ends_with("gateway/overlays/prod/run-as-root.yaml"), "{:#}", root[0]);
}
