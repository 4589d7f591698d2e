//! GitHub code scanning rejects a SARIF run with more than 25,000 results: charterguard keeps
//! the most severe ones and says how many it left out.

use crate::common;

use std::time::{Duration, Instant};

use charterguard::engine::{Finding, Outcome};
use charterguard::model::{SourceKind, Span};
use charterguard::report::sarif::{render_limited, MAX_RESULTS};
use charterguard::report::{render, Format, Report};
use charterguard::rules::{RuleMeta, Severity};
use serde_json::Value;

fn rules() -> Vec<RuleMeta> {
    [("ENC-001", Severity::Error), ("BAK-002", Severity::Warning), ("K8S-006", Severity::Note)]
        .into_iter()
        .map(|(id, severity)| RuleMeta {
            id: id.into(),
            title: format!("{id} title"),
            severity,
            charter: "The charter says so.".into(),
            help: "Fix it.".into(),
            sources: vec![SourceKind::Tf],
        })
        .collect()
}

/// `n` findings cycling note, warning, error (every 7th warning undecided, so reported as a
/// note), in the engine's order: the errors are spread over the whole list, not at its start.
fn findings(n: usize) -> Vec<Finding> {
    (0..n)
        .map(|i| {
            let (rule_id, severity) = match i % 3 {
                0 => ("K8S-006", Severity::Note),
                1 => ("BAK-002", Severity::Warning),
                _ => ("ENC-001", Severity::Error),
            };
            let outcome = if i % 3 == 1 && i % 7 == 0 { Outcome::Undecided } else { Outcome::Violation };
            let line = (i % 500) as u32 + 1;
            Finding {
                rule_id: rule_id.into(),
                severity,
                rule_severity: severity,
                outcome,
                message: format!("aws_s3_bucket.b{i} is wrong"),
                source: SourceKind::Tf,
                address: format!("module.m.aws_s3_bucket.b{i}"),
                rtype: "aws_s3_bucket".into(),
                item: None,
                attribute: "versioning".into(),
                span: Span::new(format!("modules/m{}/main.tf", i % 40).into(), line, 3, line, 20),
                template: None,
                render: None,
                call_chain: vec![Span::new("./main.tf".into(), 7, 1, 9, 2)],
                suppression: None,
                baseline: None,
                live: None,
            }
        })
        .collect()
}

fn report<'a>(findings: &'a [Finding], rules: &'a [RuleMeta]) -> Report<'a> {
    static NO_SOURCE: fn(&str) -> Option<std::sync::Arc<str>> = |_| None;
    Report {
        findings,
        rules,
        diagnostics: &[],
        files_scanned: 40,
        resources: findings.len(),
        elapsed: Duration::ZERO,
        source_text: &NO_SOURCE,
        secrets: charterguard::redact::vocabulary::Vocabulary::charter(),
    }
}

fn level_counts(sarif: &Value) -> [usize; 3] {
    let mut counts = [0; 3];
    for r in sarif["runs"][0]["results"].as_array().unwrap() {
        match r["level"].as_str().unwrap() {
            "error" => counts[0] += 1,
            "warning" => counts[1] += 1,
            "note" => counts[2] += 1,
            other => panic!("unexpected level {other}"),
        }
    }
    counts
}

fn omission_notice(sarif: &Value) -> Option<&Value> {
    sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()?
        .iter()
        .find(|n| n["message"]["text"].as_str().is_some_and(|t| t.contains("lower-severity results were left out")))
}

#[test]
fn thirty_thousand_findings_keep_the_25000_most_severe() {
    let rules = rules();
    let all = findings(30_000);
    let started = Instant::now();
    let text = render(&report(&all, &rules), Format::Sarif);
    let rendered = started.elapsed();
    let sarif: Value = serde_json::from_str(&text).unwrap();

    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), MAX_RESULTS);
    // 10,000 errors, 10,000 warnings of which 1,429 undecided (notes), 10,000 notes.
    let undecided = (0..30_000).filter(|i| i % 3 == 1 && i % 7 == 0).count();
    assert_eq!(level_counts(&sarif), [10_000, 10_000 - undecided, 5_000 + undecided]);

    let notice = omission_notice(&sarif).expect("a notice says results were left out");
    assert_eq!(notice["level"], "warning");
    assert_eq!(notice["message"]["text"], "5,000 lower-severity results were left out: GitHub accepts at most 25,000 results per run");
    let omitted = &sarif["runs"][0]["properties"]["omittedResults"];
    assert_eq!(omitted["total"], 5_000);
    assert_eq!((omitted["error"].as_u64(), omitted["warning"].as_u64(), omitted["note"].as_u64()), (Some(0), Some(0), Some(5_000)));
    assert_eq!(omitted["suppressed"], 0);
    assert_eq!(omitted["findings"], 30_000);
    assert_eq!(omitted["limit"], 25_000);

    // Kept results stay in the engine's order, and the notes kept are the first ones.
    let messages: Vec<&str> = results.iter().map(|r| r["message"]["text"].as_str().unwrap()).collect();
    let index =
        |m: &str| -> usize { m.trim_start_matches("could not decide: ").trim_start_matches("aws_s3_bucket.b").split(' ').next().unwrap().parse().unwrap() };
    let indexes: Vec<usize> = messages.iter().map(|m| index(m)).collect();
    assert!(indexes.windows(2).all(|w| w[0] < w[1]), "kept results keep the engine's order");
    assert!(indexes.contains(&29_999), "the last error is kept");
    assert!(!indexes.contains(&29_997), "late notes are dropped");

    // Module findings keep their call chain, with repository-relative URIs.
    let related = &results[0]["relatedLocations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(related["uri"], "main.tf");
    assert_eq!(related["uriBaseId"], "%SRCROOT%");

    let started = Instant::now();
    common::validate_sarif(&sarif).unwrap_or_else(|e| panic!("{}", e.lines().take(20).collect::<Vec<_>>().join("\n")));
    eprintln!("render: {rendered:?}, validate 25,000 results: {:?}", started.elapsed());
}

#[test]
fn a_smaller_limit_gives_the_same_shape_and_validates() {
    let rules = rules();
    let all = findings(300);
    let sarif: Value = serde_json::from_str(&render_limited(&report(&all, &rules), None, 250)).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 250);
    assert_eq!(level_counts(&sarif)[0], 100, "every error is kept");
    let notice = omission_notice(&sarif).unwrap();
    assert_eq!(notice["message"]["text"], "50 lower-severity results were left out: GitHub accepts at most 250 results per run");
    common::validate_sarif(&sarif).unwrap();

    // Errors alone over the limit: the first ones are kept.
    let sarif: Value = serde_json::from_str(&render_limited(&report(&all, &rules), None, 60)).unwrap();
    assert_eq!(level_counts(&sarif), [60, 0, 0]);
    assert_eq!(sarif["runs"][0]["properties"]["omittedResults"]["error"], 40);
    common::validate_sarif(&sarif).unwrap();
}

#[test]
fn at_the_limit_nothing_is_left_out() {
    let rules = rules();
    let all = findings(250);
    let sarif: Value = serde_json::from_str(&render_limited(&report(&all, &rules), None, 250)).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 250);
    assert!(omission_notice(&sarif).is_none());
    assert!(sarif["runs"][0].get("properties").is_none());
    assert!(sarif["runs"][0]["invocations"][0].get("toolExecutionNotifications").is_none());
}
