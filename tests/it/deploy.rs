//! The repository's own deployment manifests follow the charter they enforce.

use charterguard::scan::{scan, ScanOptions};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const AUDIT_MANIFEST: &str = "deploy/k8s/charterguard-audit.yaml";

/// `deploy/k8s/charterguard-audit.yaml` (the in-cluster nightly audit) passes every rule: no
/// violation, nothing undecided.
#[test]
fn the_in_cluster_audit_manifest_passes_charterguard() {
    let outcome = scan(&ScanOptions::new(vec![root().join("deploy/k8s")], root())).unwrap();
    assert!(!outcome.has_errors(), "{:?}", outcome.model.diagnostics);
    let addresses: Vec<&str> = outcome.model.resources.iter().map(|r| r.address()).collect();
    assert!(addresses.contains(&"CronJob altscore-monitoring/charterguard-audit"), "{addresses:?}");
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
