//! `--baseline FILE`: a previous JSON or SARIF report; findings it has are unchanged and do not
//! fail the scan, the others are new, and the ones gone are counted as resolved.

use crate::common::{self, charterguard};

use serde_json::Value;
use std::process::Output;

/// DATA-003 and ENC-001 (errors) on the bucket, NET-001 (error) on the security group.
const BEFORE: &str = r#"resource "aws_s3_bucket" "b" {
  bucket = "altscore-app-assets"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "b" {
  bucket = aws_s3_bucket.b.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_security_group" "web" {
  name = "web"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#;

fn error_rules(report: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error" && f["outcome"] == "violation")
        .map(|f| (f["rule_id"].as_str().unwrap().to_string(), f["baseline"].as_str().unwrap_or("-").to_string()))
        .collect();
    v.sort();
    v
}

/// Writes the baseline report of BEFORE in `format`, then changes the code: the security group
/// is fixed (NET-001 resolved), the bucket moves down a few lines (its findings unchanged) and a
/// second open security group appears (a new NET-001).
fn scan_against_baseline(format: &str) -> (Output, Value) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), BEFORE).unwrap();
    let baseline = dir.path().join(format!("baseline.{format}"));
    let output = charterguard(dir.path(), &["scan", ".", "--format", format, "-o", baseline.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    std::fs::remove_file(dir.path().join("main.tf")).unwrap();
    let after = format!(
        "# moved\n\n{}",
        BEFORE.replace("cidr_blocks = [\"0.0.0.0/0\"]", "cidr_blocks = [\"10.0.0.0/8\"]")
            + "\nresource \"aws_security_group\" \"admin\" {\n  name = \"admin\"\n  ingress {\n    from_port   = 3389\n    to_port     = 3389\n    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\n"
    );
    std::fs::write(dir.path().join("main.tf"), after).unwrap();
    let output = charterguard(dir.path(), &["scan", "main.tf", "--format", "json", "--baseline", baseline.to_str().unwrap()]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    // SARIF with a baseline validates too.
    let sarif = charterguard(dir.path(), &["scan", "main.tf", "--format", "sarif", "--baseline", baseline.to_str().unwrap()]);
    let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    common::validate_sarif(&sarif).unwrap_or_else(|e| panic!("SARIF does not validate:\n{e}"));
    let states: Vec<&str> = sarif["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["baselineState"].as_str().unwrap()).collect();
    assert!(states.contains(&"new") && states.contains(&"unchanged"), "{states:?}");
    assert_eq!(sarif["runs"][0]["properties"]["baseline"]["resolved"], 1);
    (output, report)
}

fn check(format: &str) {
    let (output, report) = scan_against_baseline(format);
    assert_eq!(
        error_rules(&report),
        [("DATA-003".to_string(), "unchanged".to_string()), ("ENC-001".into(), "unchanged".into()), ("NET-001".into(), "new".into())]
    );
    let summary = &report["summary"]["baseline"];
    assert_eq!(summary["new"], 1, "{summary}");
    assert_eq!(summary["resolved"], 1, "the fixed security group: {summary}");
    assert_eq!(summary["unchanged"].as_u64().unwrap() + 1, report["findings"].as_array().unwrap().len() as u64);
    assert_eq!(output.status.code(), Some(1), "the new NET-001 fails the scan");
}

#[test]
fn json_baseline() {
    check("json");
}

#[test]
fn sarif_baseline() {
    check("sarif");
}

#[test]
fn only_unchanged_findings_pass() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), BEFORE).unwrap();
    let output = charterguard(dir.path(), &["scan", ".", "--format", "json", "-o", "base.json"]);
    assert_eq!(output.status.code(), Some(1));
    let output = charterguard(dir.path(), &["scan", "main.tf", "--format", "human", "--no-color", "--baseline", "base.json"]);
    let human = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{human}");
    assert!(human.contains("unchanged since the baseline"), "{human}");
    assert!(human.trim_end().ends_with(" unchanged, 0 resolved") && human.contains("; baseline: 0 new, "), "{human}");
    let output = charterguard(dir.path(), &["scan", "main.tf", "--format", "markdown", "--baseline", "base.json"]);
    let markdown = String::from_utf8_lossy(&output.stdout);
    assert!(markdown.contains("Against the baseline: **0 new**") && !markdown.contains("### Findings"), "{markdown}");
}

#[test]
fn a_broken_baseline_stops_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), BEFORE).unwrap();
    std::fs::write(dir.path().join("base.json"), "{\"something\": 1}").unwrap();
    let output = charterguard(dir.path(), &["scan", "main.tf", "--baseline", "base.json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a charterguard JSON or SARIF report"));
    let output = charterguard(dir.path(), &["scan", "main.tf", "--baseline", "missing.json"]);
    assert_eq!(output.status.code(), Some(2));
}
