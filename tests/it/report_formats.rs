//! The three report formats over a handful of synthetic findings: SARIF validity and GitHub's
//! expectations, fingerprint stability, determinism, and snapshots of each format.

use crate::common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use charterguard::engine::{Finding, Outcome};
use charterguard::model::{Diagnostic, SourceKind, Span};
use charterguard::report::{fingerprint, render, Format, Report};
use charterguard::rules::{RuleMeta, Severity};
use serde_json::Value;

fn span(file: &str, start_line: u32, start_col: u32, end_line: u32, end_col: u32) -> Span {
    Span::new(file.into(), start_line, start_col, end_line, end_col)
}

fn rules() -> Vec<RuleMeta> {
    let rule = |id: &str, title: &str, severity, charter: &str, sources: Vec<SourceKind>| RuleMeta {
        id: id.into(),
        title: title.into(),
        severity,
        charter: charter.into(),
        help: format!("{title}.\n\nWhy: the charter says so.\n\n```hcl\n# remediation\n```\n"),
        sources,
    };
    // Deliberately not in id order: SARIF sorts them.
    vec![
        rule(
            "NET-002",
            "Databases are not publicly accessible",
            Severity::Error,
            "No datastore holding bureau data may be reachable from the internet.",
            vec![SourceKind::Tf, SourceKind::Aws],
        ),
        rule(
            "ENC-001",
            "S3 buckets use customer-managed KMS keys",
            Severity::Error,
            "Bureau data at rest is encrypted with customer-managed keys.",
            vec![SourceKind::Tf, SourceKind::Aws],
        ),
        rule("K8S-003", "Containers run as non-root", Severity::Warning, "Workloads run without root privileges.", vec![SourceKind::K8s, SourceKind::Eks]),
    ]
}

/// Findings as the engine would sort them; `shift` moves every line down (an unrelated edit
/// above them).
fn findings(shift: u32) -> Vec<Finding> {
    vec![
        Finding {
            rule_id: "ENC-001".into(),
            severity: Severity::Error,
            rule_severity: Severity::Error,
            outcome: Outcome::Violation,
            message: "module.tenant.aws_s3_bucket.bronze[\"dst-001\"] is encrypted with AES256, not a customer-managed KMS key".into(),
            source: SourceKind::Tf,
            address: "module.tenant.aws_s3_bucket.bronze[\"dst-001\"]".into(),
            rtype: "aws_s3_bucket".into(),
            item: None,
            attribute: "server_side_encryption_configuration.rule.apply_server_side_encryption_by_default.sse_algorithm".into(),
            span: span("modules/tenant/main.tf", 4 + shift, 7, 4 + shift, 31),
            template: None,
            render: None,
            call_chain: vec![span("main.tf", 1 + shift, 1, 4 + shift, 2)],
            suppression: None,
            baseline: None,
            live: None,
        },
        Finding {
            rule_id: "K8S-003".into(),
            severity: Severity::Warning,
            rule_severity: Severity::Warning,
            outcome: Outcome::Violation,
            message: "Deployment scoring/scorer container app may run as root".into(),
            source: SourceKind::K8s,
            address: "Deployment scoring/scorer".into(),
            rtype: "Deployment".into(),
            item: Some("container app".into()),
            attribute: "spec.template.spec.containers.securityContext.runAsNonRoot".into(),
            span: span("rendered/scoring app.yaml", 3 + shift, 9, 3 + shift, 28),
            template: Some("charts/scorer/templates/deployment.yaml".into()),
            render: None,
            call_chain: vec![],
            suppression: None,
            baseline: None,
            live: None,
        },
        Finding {
            rule_id: "NET-002".into(),
            severity: Severity::Note,
            rule_severity: Severity::Error,
            outcome: Outcome::Undecided,
            message: "aws_db_instance.bureau: `var.public` has no value: pass --var-file (Databases are not publicly accessible)".into(),
            source: SourceKind::Tf,
            address: "aws_db_instance.bureau".into(),
            rtype: "aws_db_instance".into(),
            item: None,
            attribute: "publicly_accessible".into(),
            span: span("main.tf", 7 + shift, 3, 7 + shift, 36),
            template: None,
            render: None,
            call_chain: vec![],
            suppression: None,
            baseline: None,
            live: None,
        },
    ]
}

fn diagnostics() -> Vec<Diagnostic> {
    vec![
        Diagnostic::error("broken.tf", Some(span("broken.tf", 2, 14, 2, 15)), "expected `}`, found end of file"),
        Diagnostic::note("data/huge.json", None, "skipped: larger than 10 MiB"),
    ]
}

fn sources() -> HashMap<&'static str, Arc<str>> {
    HashMap::from([
        (
            "modules/tenant/main.tf",
            Arc::from("resource \"aws_s3_bucket\" \"bronze\" {\n  rule {\n    apply {\n      sse_algorithm = \"AES256\"\n    }\n  }\n}\n"),
        ),
        (
            "main.tf",
            Arc::from("module \"tenant\" {\n  source = \"./modules/tenant\"\n  ids = [\"dst-001\"]\n}\n\nresource \"aws_db_instance\" \"bureau\" {\n  publicly_accessible = var.public\n}\n"),
        ),
        // No trailing context line after the last line, and CRLF line ends.
        (
            "rendered/scoring app.yaml",
            Arc::from("containers:\r\n  - name: app\r\n        runAsNonRoot: false\r\n"),
        ),
    ])
}

/// Renders the fixture in `format`; `shift` as in [`findings`].
fn render_fixture(format: Format, shift: u32) -> String {
    let rules = rules();
    let findings = findings(shift);
    let diagnostics = diagnostics();
    let sources = sources();
    let source_text = move |path: &str| sources.get(path).cloned();
    let report = Report {
        findings: &findings,
        rules: &rules,
        diagnostics: &diagnostics,
        files_scanned: 4,
        resources: 9,
        elapsed: Duration::from_millis(123),
        source_text: &source_text,
        secrets: charterguard::redact::vocabulary::Vocabulary::charter(),
    };
    render(&report, format)
}

fn sarif(shift: u32) -> Value {
    serde_json::from_str(&render_fixture(Format::Sarif, shift)).expect("SARIF output is JSON")
}

#[test]
fn sarif_validates_against_the_2_1_0_schema() {
    let document = sarif(0);
    if let Err(errors) = common::validate_sarif(&document) {
        panic!("SARIF does not validate:\n{errors}");
    }
    // The validator really validates.
    let mut broken = document.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(common::validate_sarif(&broken).is_err());
    let mut not_a_uri = document.clone();
    not_a_uri["runs"][0]["tool"]["driver"]["informationUri"] = "not a uri".into();
    assert!(common::validate_sarif(&not_a_uri).is_err(), "formats are checked too");
}

#[test]
fn sarif_meets_github_code_scanning_expectations() {
    let document = sarif(0);
    assert_eq!(document["$schema"], "https://json.schemastore.org/sarif-2.1.0.json");
    assert_eq!(document["version"], "2.1.0");
    let runs = document["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "charterguard");
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));

    let rule_ids: Vec<&str> = driver["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(rule_ids, ["ENC-001", "K8S-003", "NET-002"]);
    for rule in driver["rules"].as_array().unwrap() {
        let severity: f64 = rule["properties"]["security-severity"].as_str().unwrap().parse().unwrap();
        assert!((0.0..=10.0).contains(&severity));
        assert!(rule["help"]["text"].is_string() && rule["help"]["markdown"].is_string());
        assert!(rule["shortDescription"]["text"].is_string());
        assert_eq!(rule["properties"]["tags"][0], "security");
    }
    assert_eq!(driver["rules"][0]["name"], "S3BucketsUseCustomerManagedKMSKeys");
    assert_eq!(driver["rules"][0]["defaultConfiguration"]["level"], "error");

    let results = run["results"].as_array().unwrap();
    let expected_ids = ["ENC-001", "K8S-003", "NET-002"];
    assert_eq!(results.len(), expected_ids.len());
    for (result, id) in results.iter().zip(expected_ids) {
        assert_eq!(result["ruleId"], id, "ruleId is the catalogue id");
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(driver["rules"][index]["id"], id);
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.starts_with('/') && !uri.contains("://") && !uri.contains(' ') && !uri.contains('\\'), "{uri}");
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let start = location["region"]["startLine"].as_u64().unwrap();
        assert!(start >= 1);
        assert!(location["region"]["endLine"].as_u64().unwrap() >= start);
        let fp = result["partialFingerprints"]["charterguard/v1"].as_str().unwrap();
        assert_eq!(fp.len(), 64);
        assert!(matches!(result["level"].as_str(), Some("error" | "warning" | "note")));
    }
    assert_eq!(results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "rendered/scoring%20app.yaml");
    assert_eq!(results[1]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"], "Deployment scoring/scorer/container app");
    assert_eq!(results[1]["properties"]["template"], "charts/scorer/templates/deployment.yaml");
    assert_eq!(results[0]["relatedLocations"][0]["message"]["text"], "module call");
    assert_eq!(results[0]["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"], "main.tf");
    assert_eq!(results[2]["level"], "note");
    assert!(results[2]["message"]["text"].as_str().unwrap().starts_with("could not decide: "));
    assert_eq!(results[2]["properties"]["ruleSeverity"], "error", "the undecided finding's rule is an error rule");

    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false, "an error diagnostic means the input was not fully read");
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0]["level"], "error");
    assert_eq!(notes[0]["locations"][0]["physicalLocation"]["region"]["startLine"], 2);
    assert!(run["originalUriBaseIds"]["%SRCROOT%"].get("uri").is_none());
}

#[test]
fn fingerprints_survive_line_shifts() {
    for (a, b) in findings(0).iter().zip(findings(17).iter()) {
        assert_ne!(a.span, b.span);
        assert_eq!(fingerprint(a), fingerprint(b));
    }
    let json_fps = |shift| {
        let doc: Value = serde_json::from_str(&render_fixture(Format::Json, shift)).unwrap();
        doc["findings"].as_array().unwrap().iter().map(|f| f["fingerprint"].clone()).collect::<Vec<_>>()
    };
    assert_eq!(json_fps(0), json_fps(17));
    let sarif_fps = |shift| sarif(shift)["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["partialFingerprints"].clone()).collect::<Vec<_>>();
    assert_eq!(sarif_fps(0), sarif_fps(17));
    // ...and the fingerprints tell the findings apart.
    let mut all: Vec<String> = json_fps(0).iter().map(|v| v.as_str().unwrap().to_string()).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 3);
}

#[test]
fn output_is_byte_identical_across_renders() {
    for format in [Format::Human { color: false }, Format::Human { color: true }, Format::Json, Format::Sarif] {
        assert_eq!(render_fixture(format, 0), render_fixture(format, 0), "{format:?}");
    }
}

#[test]
fn colour_is_explicit() {
    assert!(!render_fixture(Format::Human { color: false }, 0).contains('\x1b'));
    assert!(render_fixture(Format::Human { color: true }, 0).contains("\x1b["));
    assert!(!render_fixture(Format::Json, 0).contains('\x1b'));
}

#[test]
fn json_summary_and_shape() {
    let doc: Value = serde_json::from_str(&render_fixture(Format::Json, 0)).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["summary"]["by_severity"]["error"], 1);
    assert_eq!(doc["summary"]["by_severity"]["warning"], 1);
    assert_eq!(doc["summary"]["by_severity"]["note"], 0);
    assert_eq!(doc["summary"]["undecided"], 1);
    let undecided_errors = serde_json::json!({"count": 1, "reasons": [{"reason": "`var.public` has no value: pass --var-file", "count": 1}]});
    assert_eq!(doc["summary"]["undecided_errors"], undecided_errors);
    let severities = |key: &str| doc["findings"].as_array().unwrap().iter().map(|f| f[key].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(severities("severity"), ["error", "warning", "note"]);
    assert_eq!(severities("rule_severity"), ["error", "warning", "error"]);
    assert!(doc["findings"][0].get("reason").is_none(), "only undecided findings have a reason");
    assert!(doc.get("elapsed").is_none() && doc["summary"].get("elapsed").is_none());
    assert_eq!(doc["findings"][0]["call_chain"][0], serde_json::json!({"file": "main.tf", "line": 1}));
    assert_eq!(doc["diagnostics"][1]["line"], Value::Null);
}

#[test]
fn empty_report() {
    let source_text = |_: &str| None;
    let report = Report {
        findings: &[],
        rules: &[],
        diagnostics: &[],
        files_scanned: 1,
        resources: 0,
        elapsed: Duration::ZERO,
        source_text: &source_text,
        secrets: charterguard::redact::vocabulary::Vocabulary::charter(),
    };
    assert_eq!(render(&report, Format::Human { color: false }), "1 file, 0 resources, 0 errors, 0 warnings, 0 notes, 0 undecided, 0 suppressed in 0.00s\n");
    let sarif: Value = serde_json::from_str(&render(&report, Format::Sarif)).unwrap();
    common::validate_sarif(&sarif).unwrap();
    assert_eq!(sarif["runs"][0]["invocations"][0]["executionSuccessful"], true);
}

#[test]
fn snapshot_human() {
    insta::assert_snapshot!("human", render_fixture(Format::Human { color: false }, 0));
}

#[test]
fn snapshot_json() {
    insta::assert_snapshot!("json", render_fixture(Format::Json, 0));
}

#[test]
fn snapshot_sarif() {
    insta::assert_snapshot!("sarif", render_fixture(Format::Sarif, 0));
}

#[test]
fn snapshot_markdown() {
    insta::assert_snapshot!("markdown", render_fixture(Format::Markdown, 0));
}

#[test]
fn snapshot_junit() {
    insta::assert_snapshot!("junit", render_fixture(Format::Junit, 0));
}

#[test]
fn junit_is_well_formed_xml_with_one_suite_per_rule() {
    let xml = render_fixture(Format::Junit, 0);
    assert!(xml.starts_with("<?xml"));
    let suites = xml.matches("<testsuite ").count();
    assert_eq!(suites, rules().len());
    assert_eq!(xml.matches("<testsuite ").count(), xml.matches("</testsuite>").count());
    // Every rule of the fixture has findings, so every test case has a body.
    assert_eq!(xml.matches("<testcase ").count(), xml.matches("</testcase>").count());
    assert!(!xml.contains("& "), "ampersands are escaped");
}
