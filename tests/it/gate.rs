//! The gate, through the binary: what makes a run fail (`--fail-on`, `--fail-on-undecided`, the
//! config's `undecided: fail`, suppressions and the baseline), how undecided findings of error
//! rules are summed up, and what a run says on standard error when its report goes elsewhere.

use crate::common::{self, charterguard};

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};

/// RES-001 (an error rule) cannot decide: the provider's region is a variable with no value.
const UNKNOWN_REGION: &str = r#"variable "region" {}

provider "aws" {
  region              = var.region
  allowed_account_ids = ["111122223333"]
}
"#;

/// BAK-003 (a warning rule) cannot decide: the retention is a variable with no value.
const UNKNOWN_RETENTION: &str = r#"variable "days" {}

provider "aws" {
  region              = "ap-south-1"
  allowed_account_ids = ["111122223333"]
}

resource "aws_kms_key" "logs" {
  enable_key_rotation = true
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "app"
  retention_in_days = var.days
  kms_key_id        = aws_kms_key.logs.arn
}
"#;

/// A directory holding `main.tf` with `code`.
fn workspace(code: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), code).unwrap();
    dir
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("an exit code")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The exit code of a scan of `dir` with `args` (and the JSON report on standard output).
fn exit(dir: &Path, args: &[&str]) -> i32 {
    let output = charterguard(dir, &[&["scan", ".", "--format", "json"], args].concat());
    code(&output)
}

#[test]
fn undecided_error_rules_pass_by_default_and_fail_when_asked() {
    let dir = workspace(UNKNOWN_REGION);
    let output = charterguard(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(code(&output), 0, "undecided findings do not fail by default: {}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    let finding = &findings[0];
    assert_eq!((finding["rule_id"].as_str(), finding["outcome"].as_str()), (Some("RES-001"), Some("undecided")));
    assert_eq!((finding["severity"].as_str(), finding["rule_severity"].as_str()), (Some("note"), Some("error")));
    let reason = finding["reason"].as_str().unwrap();
    assert!(reason.contains("var.region") && !reason.contains("AWS resources stay in India regions"), "without the rule's title: {reason}");
    assert_eq!(report["summary"]["undecided_errors"], json!({"count": 1, "reasons": [{"reason": reason, "count": 1}]}));
    assert_eq!(report["summary"]["by_severity"]["error"], 0);

    assert_eq!(exit(dir.path(), &["--fail-on-undecided"]), 1);
    assert_eq!(exit(dir.path(), &["--fail-on-undecided", "--fail-on", "never"]), 0);
    std::fs::write(dir.path().join("fail.yaml"), "undecided: fail\n").unwrap();
    std::fs::write(dir.path().join("report.yaml"), "undecided: report\n").unwrap();
    assert_eq!(exit(dir.path(), &["--config", "fail.yaml"]), 1, "the config's `undecided: fail`");
    assert_eq!(exit(dir.path(), &["--config", "report.yaml"]), 0);
    assert_eq!(exit(dir.path(), &["--config", "report.yaml", "--fail-on-undecided"]), 1, "the flag wins");
    std::fs::write(dir.path().join("typo.yaml"), "undecided: error\n").unwrap();
    assert_eq!(exit(dir.path(), &["--config", "typo.yaml"]), 2, "an unknown policy is an error");
}

#[test]
fn only_rules_at_or_above_fail_on_count() {
    let dir = workspace(UNKNOWN_RETENTION);
    let report: Value = serde_json::from_slice(&charterguard(dir.path(), &["scan", ".", "--format", "json"]).stdout).unwrap();
    let rules: Vec<(&str, &str)> =
        report["findings"].as_array().unwrap().iter().map(|f| (f["rule_id"].as_str().unwrap(), f["outcome"].as_str().unwrap())).collect();
    assert_eq!(rules, [("BAK-003", "undecided")]);
    assert_eq!(report["summary"]["undecided_errors"]["count"], 0, "BAK-003 is a warning rule");
    assert_eq!(exit(dir.path(), &["--fail-on-undecided"]), 0, "a warning rule is below --fail-on error");
    assert_eq!(exit(dir.path(), &["--fail-on", "warning"]), 0);
    assert_eq!(exit(dir.path(), &["--fail-on", "warning", "--fail-on-undecided"]), 1);
}

#[test]
fn suppressed_and_baseline_unchanged_undecided_findings_do_not_fail() {
    let suppressed =
        workspace(&UNKNOWN_REGION.replace("provider \"aws\"", "# charterguard:ignore RES-001 reason=\"region set per workspace\"\nprovider \"aws\""));
    let output = charterguard(suppressed.path(), &["scan", ".", "--format", "json", "--fail-on-undecided"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["summary"]["suppressed"], 1);
    assert_eq!(report["summary"]["undecided_errors"]["count"], 0, "suppressed findings are not counted");

    let dir = workspace(UNKNOWN_REGION);
    let baseline = dir.path().join("baseline.json");
    let output = charterguard(dir.path(), &["scan", ".", "--format", "json", "-o", baseline.to_str().unwrap()]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(exit(dir.path(), &["--fail-on-undecided", "--baseline", "baseline.json"]), 0, "unchanged since the baseline");
    std::fs::write(&baseline, r#"{"version": 1, "summary": {}, "findings": [], "diagnostics": []}"#).unwrap();
    assert_eq!(exit(dir.path(), &["--fail-on-undecided", "--baseline", "baseline.json"]), 1, "new since the baseline");
}

#[test]
fn sarif_results_of_undecided_findings_carry_their_rule_severity() {
    let dir = workspace(UNKNOWN_REGION);
    let output = charterguard(dir.path(), &["scan", ".", "--format", "sarif"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let sarif: Value = serde_json::from_slice(&output.stdout).unwrap();
    common::validate_sarif(&sarif).unwrap_or_else(|e| panic!("{e}"));
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["level"], "note", "the level is unchanged");
    assert_eq!(result["properties"], json!({"outcome": "undecided", "ruleSeverity": "error"}));
}

#[test]
fn summaries_put_undecided_error_rules_beside_the_errors() {
    let dir = workspace(UNKNOWN_REGION);
    let human = String::from_utf8(charterguard(dir.path(), &["scan", ".", "--format", "human"]).stdout).unwrap();
    assert!(human.contains("\nundecided on error rules, most frequent reasons:\n  1× `region` is unknown: var.region"), "{human}");
    assert!(human.contains(", 0 errors (+1 undecided), 0 warnings, 0 notes, 1 undecided, 0 suppressed in "), "{human}");
    let markdown = String::from_utf8(charterguard(dir.path(), &["scan", ".", "--format", "markdown"]).stdout).unwrap();
    assert!(markdown.contains("**0 errors** (+1 could not decide), 0 warnings"), "{markdown}");
    assert!(markdown.contains("Could not decide on error rules, most frequent reasons:\n\n- 1× `region` is unknown: var.region"), "{markdown}");
    assert!(markdown.contains("| error | RES-001 |"), "the rule table goes by the rule's severity: {markdown}");
    let html = String::from_utf8(charterguard(dir.path(), &["scan", ".", "--format", "html"]).stdout).unwrap();
    assert!(html.contains("<span class=\"n\">1</span><span class=\"l\">error rules could not decide</span>"), "{html}");
    assert!(html.contains("<li>1× `region` is unknown: var.region"), "{html}");
}

#[test]
fn errors_and_the_summary_reach_standard_error_when_the_report_does_not() {
    let dir = workspace(UNKNOWN_REGION);
    std::fs::write(dir.path().join("broken.tf"), "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \n").unwrap();
    let output = charterguard(dir.path(), &["scan", ".", "--format", "sarif", "-o", "x.sarif"]);
    assert_eq!(code(&output), 2);
    let text = stderr(&output);
    assert!(text.contains("charterguard: error: broken.tf:"), "the unparsable file is named: {text}");
    assert!(text.contains("\ncharterguard: 2 files, 2 resources, 0 errors (+1 undecided), 0 warnings, 0 notes, 1 undecided, 0 suppressed in "), "{text}");
    assert_eq!(text.lines().count(), 2, "diagnostics and one summary line: {text}");

    let output = charterguard(dir.path(), &["scan", ".", "--format", "sarif", "-o", "x.sarif", "--quiet"]);
    assert_eq!((code(&output), stderr(&output).as_str()), (2, ""), "--quiet");
    for format in ["json", "sarif", "markdown", "junit", "html"] {
        let output = charterguard(dir.path(), &["scan", ".", "--format", format]);
        assert!(stderr(&output).contains("charterguard: error: broken.tf:"), "{format} on standard output: {}", stderr(&output));
    }
    let output = charterguard(dir.path(), &["scan", ".", "--format", "human"]);
    assert_eq!(stderr(&output), "", "a human report on standard output says it all");
    let output = charterguard(dir.path(), &["scan", ".", "--format", "human", "-o", "report.txt"]);
    assert!(stderr(&output).contains("charterguard: error: broken.tf:"), "{}", stderr(&output));
}

/// `--timings` prints each phase with what it counted on standard error, and changes neither
/// the report nor the exit code. The rules compile while the inputs load, so only the phases
/// after loading have a fixed order.
#[test]
fn timings_name_every_phase_on_standard_error() {
    let dir = workspace(UNKNOWN_REGION);
    let plain = charterguard(dir.path(), &["scan", ".", "--format", "json"]);
    let timed = charterguard(dir.path(), &["scan", ".", "--format", "json", "--timings"]);
    assert_eq!(code(&timed), code(&plain));
    let findings = |output: &Output| serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()["findings"].clone();
    assert_eq!(findings(&timed), findings(&plain), "the report is the same");
    let text = stderr(&timed);
    let table = text.split("charterguard: timings\n").nth(1).unwrap_or_else(|| panic!("no timings:\n{text}"));
    let phases: Vec<&str> = table.lines().map_while(|l| l.strip_prefix("  ")).filter_map(|l| l.split_whitespace().next()).collect();
    let mut loading = phases[..3].to_vec();
    loading.sort();
    assert_eq!((loading, &phases[3..]), (vec!["discover", "parse", "rules"], &["evaluate", "judge", "report", "total"][..]), "{table}");
    assert!(table.contains("1 files, ") && table.contains(" ms  "), "{table}");
    assert!(!stderr(&plain).contains("timings"), "only when asked");
}

/// Without `--format`, the report is the human one whether or not standard output is a
/// terminal (here a pipe, as in a CI log), never coloured there; JSON only when asked for.
#[test]
fn the_human_report_is_the_default_also_when_piped() {
    let dir = workspace(UNKNOWN_REGION);
    for args in [&["scan", "."][..], &["scan", ".", "-o", "report.txt"]] {
        let output = charterguard(dir.path(), args);
        let printed = String::from_utf8_lossy(&output.stdout).into_owned();
        let report = if args.contains(&"-o") { std::fs::read_to_string(dir.path().join("report.txt")).unwrap() } else { printed };
        assert!(report.contains("RES-001") && report.contains("main.tf"), "{report}");
        assert!(serde_json::from_str::<Value>(&report).is_err() && !report.contains('\x1b'), "human and plain: {report}");
    }
    let json = charterguard(dir.path(), &["scan", ".", "--format", "json"]);
    assert!(serde_json::from_slice::<Value>(&json.stdout).is_ok());
}

/// `--version` names the commit the binary was built from (release builds pass it as
/// CHARTERGUARD_COMMIT, a checkout's build reads it from git).
#[test]
fn the_version_names_the_commit() {
    let output = charterguard(Path::new(env!("CARGO_MANIFEST_DIR")), &["--version"]);
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let head =
        std::process::Command::new("git").args(["rev-parse", "HEAD"]).current_dir(env!("CARGO_MANIFEST_DIR")).output().ok().filter(|o| o.status.success());
    let expected = head.map_or("unknown".to_string(), |o| String::from_utf8_lossy(&o.stdout).chars().take(12).collect());
    assert_eq!(version, format!("charterguard {} (commit {expected})", env!("CARGO_PKG_VERSION")));
}

/// Shell completions and the manual page come from the same definitions as `--help`.
#[test]
fn completions_and_the_manual_page_name_every_command() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    for shell in ["bash", "zsh", "fish"] {
        let output = charterguard(dir, &["completions", shell]);
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success() && ["scan", "merge", "rules", "--fail-on"].iter().all(|word| script.contains(word)), "{shell}:\n{script}");
    }
    let man = charterguard(dir, &["man"]);
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(man.status.success() && page.contains(".TH charterguard"), "{page}");
    assert!(page.contains("scan") && page.contains("merge"), "{page}");
    let mut bash = std::process::Command::new("bash").args(["-n", "/dev/stdin"]).stdin(std::process::Stdio::piped()).spawn().expect("running bash");
    std::io::Write::write_all(&mut bash.stdin.take().unwrap(), &charterguard(dir, &["completions", "bash"]).stdout).unwrap();
    assert!(bash.wait().unwrap().success(), "the bash completion script parses");
}
