//! Suppressions: inline `charterguard:ignore` comments (Terraform and YAML), the
//! `charterguard.io/ignore` annotation and the config's `ignores:`, with their rules (reason
//! mandatory, expiry, stale ones reported), `--no-inline-ignores`, the reports and the exit
//! code.

use crate::common::{self, charterguard};

use charterguard::engine::{Finding, SuppressionKind};
use charterguard::model::{Diagnostic, DiagnosticLevel};
use charterguard::report::{render, Format};
use charterguard::scan::{scan, ScanOptions, ScanOutcome};
use charterguard::suppress::Date;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// A bucket (DATA-003 at its block, line 1), its encryption with AES256 (ENC-001 at line 9)
/// and an SSH-open security group (NET-001 at line 20). `{A}`..`{E}` are places for comments.
const TF: &str = r#"{A}resource "aws_s3_bucket" "b" {
  bucket = "altscore-app-assets"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "b" {
  bucket = aws_s3_bucket.b.id
  rule {
    apply_server_side_encryption_by_default {
{B}      sse_algorithm = "AES256"{C}
    }
  }
}

resource "aws_security_group" "web" {
  name = "web"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
{D}    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#;

/// A Deployment with a writable root filesystem (POD-003 at line 15) and no resources
/// (POD-006 at line 10); `{A}` is above the document, `{B}` above the field, `{M}` in the
/// metadata.
const DEPLOYMENT: &str = r#"{A}apiVersion: apps/v1
kind: Deployment
metadata:
  name: scorer
  namespace: altscore-api{M}
spec:
  template:
    spec:
      containers:
        - name: app
          image: 123456789012.dkr.ecr.ap-south-1.amazonaws.com/scorer@sha256:0000000000000000000000000000000000000000000000000000000000000000
          securityContext:
            runAsNonRoot: true
            allowPrivilegeEscalation: false
{B}            readOnlyRootFilesystem: false
"#;

const TODAY: &str = "2026-11-27";

fn fill(template: &str, places: &[(&str, &str)]) -> String {
    let mut text = template.to_string();
    for (place, with) in places {
        text = text.replace(&format!("{{{place}}}"), with);
    }
    for place in ["A", "B", "C", "D", "E", "M"] {
        text = text.replace(&format!("{{{place}}}"), "");
    }
    text
}

struct Scanned {
    _dir: tempfile::TempDir,
    outcome: ScanOutcome,
}

fn write(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn scan_with(files: &[(&str, String)], inline: bool, today: &str) -> Scanned {
    let dir = write(files);
    let mut options = ScanOptions::new(vec![dir.path().to_path_buf()], dir.path().to_path_buf());
    options.inline_ignores = inline;
    options.today = Date::parse(today);
    let outcome = scan(&options).unwrap();
    Scanned { _dir: dir, outcome }
}

fn scan_files(files: &[(&str, String)]) -> Scanned {
    scan_with(files, true, TODAY)
}

fn tf(places: &[(&str, &str)]) -> (&'static str, String) {
    ("main.tf", fill(TF, places))
}

fn deployment(places: &[(&str, &str)]) -> (&'static str, String) {
    ("deploy.yaml", fill(DEPLOYMENT, places))
}

impl Scanned {
    fn finding(&self, rule: &str) -> &Finding {
        self.outcome.findings.iter().find(|f| f.rule_id == rule).unwrap_or_else(|| panic!("no {rule} finding: {:#?}", self.outcome.findings))
    }
    fn suppressed(&self) -> Vec<&str> {
        self.outcome.findings.iter().filter(|f| f.is_suppressed()).map(|f| f.rule_id.as_str()).collect()
    }
    /// What the scan reported, but the scan-wide note that the rules comparing environments
    /// did not run (these scans have no environments).
    fn reported(&self) -> Vec<&Diagnostic> {
        self.outcome.model.diagnostics.iter().filter(|d| !d.message.contains("need `environments:`")).collect()
    }
    fn diagnostics(&self, level: DiagnosticLevel) -> Vec<&Diagnostic> {
        self.reported().into_iter().filter(|d| d.level == level).collect()
    }
    fn render(&self, format: Format) -> String {
        let source_text = |_: &str| -> Option<Arc<str>> { None };
        let mut report = self.outcome.report(&source_text);
        report.elapsed = Duration::ZERO;
        render(&report, format)
    }
}

#[test]
fn without_suppressions_nothing_is_suppressed() {
    let s = scan_files(&[tf(&[]), deployment(&[])]);
    assert!(s.suppressed().is_empty());
    for rule in ["DATA-003", "ENC-001", "NET-001", "POD-003", "POD-006"] {
        s.finding(rule);
    }
    assert!(s.reported().is_empty(), "{:?}", s.reported());
}

#[test]
fn terraform_comment_above_the_block_covers_the_resource() {
    let s = scan_files(&[tf(&[("A", "# Legacy.\n# charterguard:ignore ENC-001 reason=\"legacy bucket, ticket PLAT-9\" until=2027-03-31\n")])]);
    assert_eq!(s.suppressed(), ["ENC-001"], "the finding in the encryption block belongs to the bucket");
    let suppression = s.finding("ENC-001").suppression.clone().unwrap();
    assert_eq!(suppression.kind, SuppressionKind::Inline);
    assert_eq!(suppression.reason, "legacy bucket, ticket PLAT-9");
    assert_eq!(suppression.until, Date::parse("2027-03-31"));
    assert_eq!((&*suppression.location.file, suppression.location.start_line), ("main.tf", 2));
    assert!(s.finding("DATA-003").suppression.is_none(), "other rules are not covered");
    assert!(s.reported().is_empty(), "{:?}", s.reported());
}

#[test]
fn several_rules_and_slash_comments() {
    let s = scan_files(&[tf(&[("A", "// charterguard:ignore ENC-001,DATA-003 reason=frozen until the migration\n")])]);
    assert_eq!(s.suppressed(), ["DATA-003", "ENC-001"]);
    assert_eq!(s.finding("DATA-003").suppression.as_ref().unwrap().reason, "frozen until the migration");
}

#[test]
fn terraform_comment_above_an_attribute_covers_findings_at_it() {
    let s = scan_files(&[tf(&[("B", "      # charterguard:ignore ENC-001 reason=\"AES256 accepted for public assets\"\n")])]);
    assert_eq!(s.suppressed(), ["ENC-001"]);
    // Above another attribute: only findings there.
    let s = scan_files(&[tf(&[("D", "    # charterguard:ignore ENC-001,NET-001 reason=\"bastion, PLAT-12\"\n")])]);
    assert_eq!(s.suppressed(), ["NET-001"]);
    let stale = s.diagnostics(DiagnosticLevel::Note);
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert!(stale[0].message.contains("suppression of ENC-001 matches no finding"), "{}", stale[0].message);
    assert_eq!(stale[0].span.as_ref().unwrap().start_line, 20);
}

#[test]
fn terraform_comment_on_the_same_line() {
    let s = scan_files(&[tf(&[("C", " # charterguard:ignore ENC-001 reason=\"public assets\"")])]);
    assert_eq!(s.suppressed(), ["ENC-001"]);
}

#[test]
fn a_comment_separated_by_a_blank_line_or_code_does_not_count() {
    let s = scan_files(&[tf(&[("A", "# charterguard:ignore DATA-003 reason=x\n\n")])]);
    assert!(s.suppressed().is_empty());
    assert!(s.diagnostics(DiagnosticLevel::Note)[0].message.contains("stale"));
}

#[test]
fn yaml_comment_above_the_object_and_above_the_field() {
    let s = scan_files(&[deployment(&[("A", "# charterguard:ignore POD-006 reason=\"sized by the VPA, PLAT-3\"\n")])]);
    assert_eq!(s.suppressed(), ["POD-006"]);
    let s = scan_files(&[deployment(&[("B", "            # charterguard:ignore POD-003 reason=\"writes its model cache\" until=2027-01-31\n")])]);
    assert_eq!(s.suppressed(), ["POD-003"]);
    let s = scan_files(&[deployment(&[("B", "            # charterguard:ignore POD-006 reason=\"wrong field\"\n")])]);
    assert!(s.suppressed().is_empty(), "a field comment covers only findings at that field");
}

#[test]
fn kubernetes_annotation_covers_the_object() {
    let annotation = "\n  annotations:\n    charterguard.io/ignore: \"POD-003,POD-006 until=2027-03-31 reason=legacy image, PLAT-7\"";
    let s = scan_files(&[deployment(&[("M", annotation)])]);
    assert_eq!(s.suppressed(), ["POD-006", "POD-003"]);
    let suppression = s.finding("POD-003").suppression.clone().unwrap();
    assert_eq!(suppression.reason, "legacy image, PLAT-7");
    assert_eq!(suppression.location.start_line, 7);
    assert!(s.reported().is_empty(), "{:?}", s.reported());
}

fn config(text: &str) -> (&'static str, String) {
    ("charterguard.yaml", text.to_string())
}

#[test]
fn central_ignores_by_rule_path_and_resource() {
    let by_rule = config("ignores:\n  - rule: POD-006\n    reason: sized by the VPA\n");
    let s = scan_files(&[tf(&[]), deployment(&[]), by_rule]);
    assert_eq!(s.suppressed(), ["POD-006"]);
    let suppression = s.finding("POD-006").suppression.clone().unwrap();
    assert_eq!(suppression.kind, SuppressionKind::Central);
    assert_eq!((&*suppression.location.file, suppression.location.start_line), ("charterguard.yaml", 2));

    let by_path = config("ignores:\n  - rule: '*'\n    path: '*.yaml'\n    reason: the chart is being replaced\n    until: 2027-06-30\n");
    let s = scan_files(&[tf(&[]), deployment(&[]), by_path]);
    assert!(s.outcome.findings.iter().all(|f| f.is_suppressed() == (&*f.span.file == "deploy.yaml")));

    let by_resource = config("ignores:\n  - rule: NET-001\n    resource: aws_security_group.*\n    reason: bastion\n  - rule: ENC-001\n    resource: aws_s3_bucket.b\n    reason: public assets\n");
    let s = scan_files(&[tf(&[]), by_resource]);
    assert_eq!(s.suppressed(), ["ENC-001", "NET-001"]);

    let elsewhere = config("ignores:\n  - rule: ENC-001\n    path: modules/**\n    reason: not here\n");
    let s = scan_files(&[tf(&[]), elsewhere]);
    assert!(s.suppressed().is_empty());
    let stale = s.diagnostics(DiagnosticLevel::Note);
    assert!(stale.len() == 1 && stale[0].message.contains("ignores entry for rule ENC-001 matches no finding"), "{stale:?}");
    assert_eq!(stale[0].span.as_ref().unwrap().start_line, 2);
}

#[test]
fn central_ignores_reject_unknown_keys() {
    let dir = write(&[tf(&[]), config("ignores:\n  - rule: ENC-001\n    reasons: typo\n")]);
    let options = ScanOptions::new(vec![dir.path().to_path_buf()], dir.path().to_path_buf());
    let error = scan(&options).err().expect("an unknown key stops the scan").to_string();
    assert!(error.contains("unknown field `reasons`"), "{error}");
}

#[test]
fn expiry_in_the_past_and_in_the_future() {
    let comment = "# charterguard:ignore ENC-001 reason=\"legacy\" until=2026-11-26\n";
    let central = config("ignores:\n  - rule: NET-001\n    reason: bastion\n    until: 2026-11-26\n");
    // The last day still suppresses.
    let s = scan_with(&[tf(&[("A", comment)]), central.clone()], true, "2026-11-26");
    assert_eq!(s.suppressed(), ["ENC-001", "NET-001"]);
    assert!(s.reported().is_empty());
    // The day after, the findings come back and the suppressions are reported.
    let s = scan_with(&[tf(&[("A", comment)]), central], true, "2026-11-27");
    assert!(s.suppressed().is_empty());
    let notes = s.diagnostics(DiagnosticLevel::Note);
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes.iter().all(|d| d.message.contains("expired on 2026-11-26")), "{notes:?}");
    assert!(notes.iter().any(|d| d.file == "main.tf" && d.span.as_ref().unwrap().start_line == 1));
    assert!(notes.iter().any(|d| d.file == "charterguard.yaml" && d.span.as_ref().unwrap().start_line == 2));
    assert!(s.diagnostics(DiagnosticLevel::Error).is_empty());
}

#[test]
fn the_system_clock_is_the_default_today() {
    let dir = write(&[tf(&[("A", "# charterguard:ignore ENC-001 reason=old until=2000-01-01\n# charterguard:ignore DATA-003 reason=new until=9999-12-31\n")])]);
    let outcome = scan(&ScanOptions::new(vec![dir.path().to_path_buf()], dir.path().to_path_buf())).unwrap();
    let suppressed: Vec<&str> = outcome.findings.iter().filter(|f| f.is_suppressed()).map(|f| f.rule_id.as_str()).collect();
    assert_eq!(suppressed, ["DATA-003"]);
}

#[test]
fn a_suppression_without_a_reason_is_an_error_and_suppresses_nothing() {
    let annotation = "\n  annotations:\n    charterguard.io/ignore: \"POD-003\"";
    let s = scan_files(&[
        tf(&[("A", "# charterguard:ignore ENC-001 until=2027-03-31\n"), ("D", "    # charterguard:ignore NET-001 reason=\"\"\n")]),
        deployment(&[("M", annotation)]),
        config("ignores:\n  - rule: DATA-003\n"),
    ]);
    assert!(s.suppressed().is_empty());
    let errors = s.diagnostics(DiagnosticLevel::Error);
    let places: Vec<String> = errors.iter().map(|d| d.to_string()).collect();
    assert_eq!(errors.len(), 4, "{places:#?}");
    assert!(errors.iter().all(|d| d.message.contains("has no reason")), "{places:#?}");
    for place in ["charterguard.yaml:2:", "deploy.yaml:7:", "main.tf:1:3", "main.tf:21:"] {
        assert!(places.iter().any(|p| p.starts_with(place)), "{place} in {places:#?}");
    }
    assert!(s.outcome.has_errors());
}

#[test]
fn malformed_suppressions_are_errors() {
    let s = scan_files(&[tf(&[("A", "# charterguard:ignore reason=\"no rule\"\n# charterguard:ignore ENC-001 reason=x until=31.03.2027\n")])]);
    let errors: Vec<String> = s.diagnostics(DiagnosticLevel::Error).iter().map(|d| d.message.clone()).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("names no rule id") && errors[1].contains("not a date"), "{errors:?}");
    // Mentions that are not comments are no suppressions at all.
    let s = scan_files(&[tf(&[("A", "locals {\n  note = \"charterguard:ignore ENC-001\"\n}\n")])]);
    assert!(s.reported().is_empty() && s.suppressed().is_empty());
}

#[test]
fn no_inline_ignores_honours_only_the_config() {
    let files = [
        tf(&[("A", "# charterguard:ignore ENC-001 reason=legacy\n# charterguard:ignore EKS-001 reason=stale\n# charterguard:ignore DATA-003\n")]),
        config("ignores:\n  - rule: NET-001\n    reason: bastion\n"),
    ];
    let s = scan_with(&files, false, TODAY);
    assert_eq!(s.suppressed(), ["NET-001"]);
    assert!(s.reported().is_empty(), "inline ones are neither applied nor reported: {:?}", s.reported());
    let s = scan_with(&files, true, TODAY);
    assert_eq!(s.suppressed(), ["ENC-001", "NET-001"]);
    assert_eq!(s.reported().len(), 2, "stale EKS-001 and DATA-003 without reason");
}

#[test]
fn reports_keep_and_count_suppressed_findings() {
    let s = scan_files(&[
        tf(&[("A", "# charterguard:ignore ENC-001 reason=\"legacy <b>|bucket\" until=2027-03-31\n")]),
        config("ignores:\n  - rule: NET-001\n    reason: bastion\n"),
    ]);
    assert_eq!(s.suppressed().len(), 2);

    let json: Value = serde_json::from_str(&s.render(Format::Json)).unwrap();
    assert_eq!(json["summary"]["suppressed"], 2);
    assert_eq!(json["summary"]["by_severity"]["error"], 1, "only DATA-003 counts");
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3, "suppressed findings are not dropped");
    let enc = findings.iter().find(|f| f["rule_id"] == "ENC-001").unwrap();
    assert_eq!(enc["suppression"], serde_json::json!({"kind": "inline", "reason": "legacy <b>|bucket", "until": "2027-03-31", "file": "main.tf", "line": 1}));
    let net = findings.iter().find(|f| f["rule_id"] == "NET-001").unwrap();
    assert_eq!(net["suppression"]["kind"], "central");
    assert!(findings.iter().find(|f| f["rule_id"] == "DATA-003").unwrap().get("suppression").is_none());

    let sarif: Value = serde_json::from_str(&s.render(Format::Sarif)).unwrap();
    common::validate_sarif(&sarif).unwrap_or_else(|e| panic!("SARIF does not validate:\n{e}"));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let enc = results.iter().find(|r| r["ruleId"] == "ENC-001").unwrap();
    assert_eq!(enc["suppressions"][0]["kind"], "inSource");
    assert_eq!(enc["suppressions"][0]["status"], "accepted");
    assert_eq!(enc["suppressions"][0]["justification"], "legacy <b>|bucket");
    assert_eq!(enc["suppressions"][0]["location"]["physicalLocation"]["region"]["startLine"], 1);
    let net = results.iter().find(|r| r["ruleId"] == "NET-001").unwrap();
    assert_eq!(net["suppressions"][0]["kind"], "external");
    assert!(results.iter().find(|r| r["ruleId"] == "DATA-003").unwrap().get("suppressions").is_none());

    let human = s.render(Format::Human { color: false });
    assert!(human.contains("1 error, 0 warnings, 0 notes, 0 undecided, 2 suppressed"), "{human}");
    assert!(human.contains("suppressed ENC-001") && human.contains("suppressed until 2027-03-31 by inline main.tf:1: legacy"), "{human}");

    let markdown = s.render(Format::Markdown);
    assert!(markdown.contains("**1 errors**, 0 warnings, 0 notes, 0 could not decide, 2 suppressed."), "{markdown}");
    assert!(
        markdown.contains("### Suppressed") && markdown.contains("| ENC-001 | `main.tf:10` | legacy &lt;b&gt;\\|bucket | 2027-03-31 | `main.tf:1` |"),
        "{markdown}"
    );
    assert!(!markdown.split("### Suppressed").next().unwrap().contains("ENC-001"), "not listed as a finding: {markdown}");

    let junit = s.render(Format::Junit);
    assert!(junit.contains("failures=\"1\">") && junit.contains("<skipped message=\"suppressed: bastion\"/>"), "{junit}");
}

#[test]
fn cli_exit_code_ignores_suppressed_findings() {
    // Only the bucket: DATA-003 and ENC-001 (errors), plus warnings and an undecided note.
    let bucket = "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"altscore-app-assets\"\n}\n";
    let dir = write(&[("main.tf", bucket.to_string())]);
    assert_eq!(charterguard(dir.path(), &["scan", "--format", "json"]).status.code(), Some(1));
    let suppressed = format!("# charterguard:ignore ENC-001,DATA-003 reason=\"public assets, PLAT-1\" until=9999-12-31\n{bucket}");
    let dir = write(&[("main.tf", suppressed)]);
    let output = charterguard(dir.path(), &["scan", "--format", "json"]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["summary"]["suppressed"], 2);
    assert_eq!(report["summary"]["by_severity"]["error"], 0);
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    // --no-inline-ignores: the errors count again.
    assert_eq!(charterguard(dir.path(), &["scan", "--format", "json", "--no-inline-ignores"]).status.code(), Some(1));
    // SARIF from the CLI validates.
    let output = charterguard(dir.path(), &["scan", "--format", "sarif"]);
    let sarif: Value = serde_json::from_slice(&output.stdout).unwrap();
    common::validate_sarif(&sarif).unwrap_or_else(|e| panic!("SARIF does not validate:\n{e}"));
}

#[test]
fn a_helm_stream_on_stdin_honours_comments() {
    let text = fill(DEPLOYMENT, &[("B", "            # charterguard:ignore POD-003 reason=\"cache\"\n")]);
    let dir = write(&[]);
    let output = common::cli(dir.path()).args(["scan", "--format", "json", "-"]).stdin(format!("---\n{text}")).output();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let pod003 = report["findings"].as_array().unwrap().iter().find(|f| f["rule_id"] == "POD-003").unwrap();
    assert_eq!(pod003["suppression"]["file"], "stdin", "{report:#}");
}
