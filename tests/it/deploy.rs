//! The repository's own deployment manifests follow the charter they enforce.

use charterguard::scan::{scan, ScanOptions};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const AUDIT_MANIFEST: &str = "deploy/k8s/charterguard-audit.yaml";

/// `deploy/k8s` (the in-cluster nightly audit and the admission webhook) passes every rule: no
/// violation, nothing undecided.
#[test]
fn the_in_cluster_audit_manifest_passes_charterguard() {
    let outcome = scan(&ScanOptions::new(vec![root().join("deploy/k8s")], root())).unwrap();
    assert!(!outcome.has_errors(), "{:?}", outcome.model.diagnostics);
    let addresses: Vec<&str> = outcome.model.resources.iter().map(|r| r.address()).collect();
    assert!(addresses.contains(&"CronJob altscore-monitoring/charterguard-audit"), "{addresses:?}");
    assert!(addresses.contains(&"Deployment altscore-monitoring/charterguard-admission"), "{addresses:?}");
    let findings: Vec<String> = outcome.findings.iter().map(|f| format!("{} {}: {}", f.rule_id, f.span, f.message)).collect();
    assert!(findings.is_empty(), "{findings:#?}");
}

/// The same manifest with one hardening setting removed fails: the rules above did judge the
/// CronJob's container.
#[test]
fn the_audit_manifest_without_its_hardening_fails() {
    let text = std::fs::read_to_string(root().join(AUDIT_MANIFEST)).unwrap();
    for (setting, rule) in [("readOnlyRootFilesystem: true", "POD-003"), ("allowPrivilegeEscalation: false", "POD-002"), ("runAsNonRoot: true", "POD-001")] {
        assert_eq!(text.matches(setting).count(), 1, "{setting}");
        let mut options = ScanOptions::new(Vec::new(), root());
        options.stdin = Some(text.replace(setting, ""));
        let outcome = scan(&options).unwrap();
        let rules: Vec<&str> = outcome.findings.iter().map(|f| f.rule_id.as_str()).collect();
        assert_eq!(rules, [rule], "without `{setting}`");
    }
}

/// The documents of one of the repository's manifests, as JSON.
#[cfg(feature = "admission")]
fn documents(relative: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(root().join(relative)).unwrap();
    let documents = charterguard::yaml::load(&relative.into(), &text, &charterguard::yaml::Limits::default()).unwrap();
    documents.into_iter().map(|d| d.root.to_json()).collect()
}

/// (API group, resource) of a kind the rules name.
#[cfg(feature = "admission")]
fn resource(kind: &str) -> (String, String) {
    let served = crate::k8s_api::resource_of(kind);
    (served.group.to_string(), served.plural.to_string())
}

/// `deploy/k8s/charterguard-admission.yaml`: the webhook is sent every kind a rule judges at
/// admission (main resources, never the webhook's own namespace or kube-system), and the
/// audit's ClusterRole, which it shares, lets its cache list and watch every kind those rules
/// look up.
#[cfg(feature = "admission")]
#[test]
fn the_webhook_is_sent_every_judged_kind_and_may_watch_every_looked_up_one() {
    use std::collections::BTreeSet;
    let (rules, _) = charterguard::engine::load_rules(&[]);
    let judged: BTreeSet<(String, String)> = rules
        .iter()
        .filter(|r| r.meta.sources.contains(&charterguard::model::SourceKind::K8s) && r.meta.sources.contains(&charterguard::model::SourceKind::Eks))
        .flat_map(|r| r.spec.resource_types.iter().filter(|t| t.starts_with(|c: char| c.is_ascii_uppercase())).map(|kind| resource(kind)))
        .collect();
    let admission = documents("deploy/k8s/charterguard-admission.yaml");
    let webhook = &admission.iter().find(|d| d["kind"] == "ValidatingWebhookConfiguration").unwrap()["webhooks"][0];
    let mut sent = BTreeSet::new();
    for rule in webhook["rules"].as_array().unwrap() {
        assert_eq!(rule["operations"], serde_json::json!(["CREATE", "UPDATE"]));
        for group in rule["apiGroups"].as_array().unwrap() {
            for plural in rule["resources"].as_array().unwrap() {
                assert!(!plural.as_str().unwrap().contains('/'), "a subresource is sent: {plural}");
                sent.insert((group.as_str().unwrap().to_string(), plural.as_str().unwrap().to_string()));
            }
        }
    }
    assert_eq!(sent, judged, "the webhook's rules and the kinds judged at admission differ");
    assert_eq!((webhook["sideEffects"].as_str(), webhook["admissionReviewVersions"][0].as_str()), (Some("None"), Some("v1")));
    let excluded = webhook["namespaceSelector"]["matchExpressions"].as_array().unwrap().iter().find(|e| e["operator"] == "NotIn").unwrap();
    assert_eq!(excluded["values"], serde_json::json!(["altscore-monitoring", "kube-system"]));

    let audit = documents(AUDIT_MANIFEST);
    let role = audit.iter().find(|d| d["kind"] == "ClusterRole").unwrap();
    let watchable: BTreeSet<(String, String)> = role["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verbs"].as_array().unwrap().iter().any(|v| v == "watch") && r["verbs"].as_array().unwrap().iter().any(|v| v == "list"))
        .flat_map(|r| {
            let groups: Vec<String> = r["apiGroups"].as_array().unwrap().iter().map(|g| g.as_str().unwrap().to_string()).collect();
            let plurals: Vec<String> = r["resources"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect();
            groups.into_iter().flat_map(move |g| plurals.clone().into_iter().map(move |p| (g.clone(), p)))
        })
        .collect();
    let looked_up: BTreeSet<(String, String)> = charterguard::admission::Judge::looked_up(&rules).iter().map(|kind| resource(kind)).collect();
    assert_eq!(watchable, looked_up, "the ClusterRole's list+watch grants and the kinds the cache watches differ");
}
