//! Alerts survive unrelated edits: inserting lines above a finding moves its line but not
//! its fingerprint (rule id + resource address + item + attribute path).

use charterguard::report::fingerprint;
use charterguard::scan::{scan, ScanOptions};
use std::collections::BTreeMap;
use std::path::Path;

/// Fingerprint → (file, line) of every finding.
fn fingerprints(dir: &Path) -> BTreeMap<String, (String, u32)> {
    let outcome = scan(&ScanOptions::new(vec![dir.to_path_buf()], dir.to_path_buf())).unwrap();
    assert!(!outcome.findings.is_empty());
    outcome.findings.iter().map(|f| (fingerprint(f), (f.span.file.to_string(), f.span.start_line))).collect()
}

#[test]
fn inserting_lines_above_a_finding_keeps_its_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main.tf");
    let manifest = dir.path().join("app.yaml");
    let tf = "provider \"aws\" {\n  region = \"us-east-1\"\n}\n\nresource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"logs\"\n}\n";
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: altscore-api\nspec:\n  containers:\n    - name: app\n      image: nginx:latest\n";
    std::fs::write(&main, tf).unwrap();
    std::fs::write(&manifest, yaml).unwrap();
    let before = fingerprints(dir.path());
    std::fs::write(&main, format!("# a new header\n# explaining the file\n\nlocals {{\n  owner = \"platform\"\n}}\n\n{tf}")).unwrap();
    std::fs::write(&manifest, format!("# rendered by helm\n{yaml}")).unwrap();
    let after = fingerprints(dir.path());
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>(), "the same findings, by fingerprint");
    for (print, (file, line)) in &before {
        let (_, moved) = &after[print];
        let inserted = if file == "main.tf" { 7 } else { 1 };
        assert_eq!(*moved, line + inserted, "a finding in {file} moved with its file");
    }
}
