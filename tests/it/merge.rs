//! `charterguard merge`: reports of parts of a tree merge into the report of the whole tree
//! (the nightly audit's shards are parts of one audit in the same way), and `--report` writes
//! several formats from one run.

use crate::common::{self, charterguard};

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// The identity of every finding of a JSON report.
fn fingerprints(report: &Value) -> BTreeSet<String> {
    report["findings"].as_array().unwrap().iter().map(|f| f["fingerprint"].as_str().unwrap().to_string()).collect()
}

/// Scans `paths` (relative to the crate) writing JSON to `json` and SARIF (with `category`)
/// to `sarif` in one run.
fn scan(paths: &[&str], json: &Path, sarif: &Path, category: &str) {
    let mut args = vec!["scan"];
    args.extend_from_slice(paths);
    let (json, sarif) = (json.to_str().unwrap(), format!("sarif={}", sarif.display()));
    args.extend(["--format", "json", "-o", json, "--report", &sarif, "--category", category, "--fail-on", "never"]);
    let out = charterguard(Path::new(ROOT), &args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn reports_of_the_parts_merge_into_the_report_of_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);
    let (tf, k8s) = ("fixtures/platform/terraform", "fixtures/platform/k8s");
    scan(&[tf], &at("tf.json"), &at("tf.sarif"), "charterguard/platform");
    scan(&[k8s], &at("k8s.json"), &at("k8s.sarif"), "charterguard/platform");
    scan(&[tf, k8s], &at("all.json"), &at("all.sarif"), "charterguard/platform");

    let out = charterguard(dir.path(), &["merge", "tf.json", "k8s.json", "-o", "merged.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let (merged, whole) = (read_json(&at("merged.json")), read_json(&at("all.json")));
    assert_eq!(fingerprints(&merged), fingerprints(&whole));
    for key in ["by_severity", "undecided_errors", "undecided", "suppressed", "resources", "files"] {
        assert_eq!(merged["summary"][key], whole["summary"][key], "summary.{key}");
    }
    // A finding two reports share (a shard run twice) is kept once.
    let out = charterguard(dir.path(), &["merge", "tf.json", "k8s.json", "k8s.json"]);
    let twice: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(twice["findings"], merged["findings"]);
    assert_eq!(twice["summary"]["by_severity"], whole["summary"]["by_severity"]);

    let out = charterguard(dir.path(), &["merge", "tf.sarif", "k8s.sarif", "-o", "merged.sarif"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let merged = read_json(&at("merged.sarif"));
    common::validate_sarif(&merged).unwrap_or_else(|e| panic!("merged SARIF is invalid:\n{e}"));
    let runs = merged["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "one run per category");
    assert_eq!(runs[0]["automationDetails"]["id"], "charterguard/platform/");
    let whole = read_json(&at("all.sarif"));
    let results = |run: &Value| {
        run["results"].as_array().unwrap().iter().map(|r| r["partialFingerprints"]["charterguard/v1"].as_str().unwrap().to_string()).collect::<BTreeSet<_>>()
    };
    assert_eq!(results(&runs[0]), results(&whole["runs"][0]));
    let rules = runs[0]["tool"]["driver"]["rules"].as_array().unwrap();
    for result in runs[0]["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"], "ruleIndex points at the result's rule");
    }
}

#[test]
fn runs_of_other_categories_stay_apart_and_formats_do_not_mix() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);
    scan(&["fixtures/ENC-001"], &at("a.json"), &at("a.sarif"), "charterguard/a");
    scan(&["fixtures/POD-001"], &at("b.json"), &at("b.sarif"), "charterguard/b");
    let out = charterguard(dir.path(), &["merge", "a.sarif", "b.sarif"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let merged: Value = serde_json::from_slice(&out.stdout).unwrap();
    let categories: Vec<&str> = merged["runs"].as_array().unwrap().iter().map(|r| r["automationDetails"]["id"].as_str().unwrap()).collect();
    assert_eq!(categories, ["charterguard/a/", "charterguard/b/"]);

    let out = charterguard(dir.path(), &["merge", "a.json", "b.sarif"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mix JSON and SARIF"), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(at("broken.json"), "{\"findings\": [").unwrap();
    let out = charterguard(dir.path(), &["merge", "a.json", "broken.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.json:1:"), "{}", String::from_utf8_lossy(&out.stderr));
}
