//! `charterguard merge`: one report from the reports of several shards or runs (the nightly
//! audit runs one invocation per account or per `--shard`). All inputs are charterguard JSON
//! reports, or all SARIF; the output has the same format.
//!
//! - JSON: findings are joined (one per fingerprint), the summary is counted again from them,
//!   diagnostics are joined without repeats.
//! - SARIF: one run per category (`automationDetails.id`; GitHub rejects two runs of one tool
//!   and category in a file), results joined one per fingerprint with `ruleIndex` renumbered
//!   against the joined rules, notifications joined; at most [`super::sarif::MAX_RESULTS`]
//!   results per run (the least severe are left out, with a notification) and 20 runs.

use super::sarif::MAX_RESULTS;
use super::undecided::UndecidedErrors;
use anyhow::{bail, Context as _, Result};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// GitHub code scanning accepts at most this many runs in one SARIF file.
pub const MAX_RUNS: usize = 20;
const FINGERPRINT_KEY: &str = "charterguard/v1";

/// Merges the reports (each `(name, text)`), all JSON or all SARIF.
pub fn merge(reports: &[(String, String)]) -> Result<String> {
    if reports.is_empty() {
        bail!("no reports to merge");
    }
    let mut documents = Vec::new();
    for (name, text) in reports {
        let value: Value = serde_json::from_str(text).map_err(|e| anyhow::anyhow!("{name}:{}:{}: not JSON: {e}", e.line(), e.column()))?;
        documents.push((name.as_str(), value));
    }
    let sarif = |v: &Value| v.get("runs").is_some();
    let json = |v: &Value| v.get("findings").is_some() && v.get("summary").is_some();
    let merged = if documents.iter().all(|(_, d)| sarif(d)) {
        merge_sarif(&documents)?
    } else if documents.iter().all(|(_, d)| json(d)) {
        merge_json(&documents)
    } else {
        let odd: Vec<&str> = documents.iter().filter(|(_, d)| !sarif(d) && !json(d)).map(|(n, _)| *n).collect();
        match odd.is_empty() {
            true => bail!("the reports mix JSON and SARIF; merge reports of one format"),
            false => bail!("not a charterguard JSON or SARIF report: {}", odd.join(", ")),
        }
    };
    let mut out = serde_json::to_string_pretty(&merged).expect("a JSON value serializes");
    out.push('\n');
    Ok(out)
}

fn merge_json(documents: &[(&str, Value)]) -> Value {
    let mut seen = HashSet::new();
    let mut findings: Vec<Value> = Vec::new();
    for finding in documents.iter().flat_map(|(_, d)| array(d, "findings")) {
        let key = finding.get("fingerprint").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| finding.to_string());
        if seen.insert(key) {
            findings.push(finding.clone());
        }
    }
    findings.sort_by_key(|f| {
        let text = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let number = |k: &str| f.get(k).and_then(Value::as_u64).unwrap_or_default();
        (text("file"), number("start_line"), number("start_column"), text("rule_id"), text("address"), text("item"))
    });
    let mut diagnostics: Vec<Value> = documents.iter().flat_map(|(_, d)| array(d, "diagnostics")).cloned().collect();
    diagnostics.sort_by_key(Value::to_string);
    diagnostics.dedup();
    let sum = |key: &str| documents.iter().filter_map(|(_, d)| d.pointer(&format!("/summary/{key}")).and_then(Value::as_u64)).sum::<u64>();
    let mut summary = json!({
        "files": sum("files"),
        "resources": sum("resources"),
        "by_severity": {"error": 0, "warning": 0, "note": 0},
        "undecided_errors": undecided_errors(&findings),
        "undecided": 0,
        "suppressed": 0,
    });
    for f in &findings {
        let counter = match (f.get("suppression").is_some(), f.get("outcome").and_then(Value::as_str), f.get("severity").and_then(Value::as_str)) {
            (true, _, _) => "/suppressed".to_string(),
            (false, Some("undecided"), _) => "/undecided".to_string(),
            (false, _, Some(severity)) => format!("/by_severity/{severity}"),
            _ => continue,
        };
        if let Some(count) = summary.pointer_mut(&counter) {
            *count = json!(count.as_u64().unwrap_or(0) + 1);
        }
    }
    let mut document = Map::new();
    document.insert("version".into(), json!(1));
    let with_baseline = documents.iter().any(|(_, d)| d.pointer("/summary/baseline").is_some());
    let mut resolved_list = Vec::new();
    if with_baseline {
        let state = |s: &str| findings.iter().filter(|f| f.get("baseline").and_then(Value::as_str) == Some(s)).count();
        let mut resolved_seen = HashSet::new();
        for previous in documents.iter().flat_map(|(_, d)| array(d, "resolved")) {
            let fingerprint = previous.get("fingerprint").and_then(Value::as_str).unwrap_or_default().to_string();
            if !seen.contains(&fingerprint) && resolved_seen.insert(fingerprint) {
                resolved_list.push(previous.clone());
            }
        }
        resolved_list.sort_by_key(|p| p.get("fingerprint").and_then(Value::as_str).unwrap_or_default().to_string());
        summary["baseline"] = json!({"new": state("new"), "unchanged": state("unchanged"), "resolved": resolved_list.len()});
    }
    document.insert("summary".into(), summary);
    document.insert("findings".into(), Value::Array(findings));
    if with_baseline {
        document.insert("resolved".into(), Value::Array(resolved_list));
    }
    document.insert("diagnostics".into(), Value::Array(diagnostics));
    Value::Object(document)
}

/// The summary's undecided findings of error rules, counted again from the findings (each
/// report's list of reasons holds only its most frequent).
fn undecided_errors(findings: &[Value]) -> UndecidedErrors {
    let is = |f: &Value, key: &str, value: &str| f.get(key).and_then(Value::as_str) == Some(value);
    let counted = findings.iter().filter(|f| f.get("suppression").is_none() && is(f, "outcome", "undecided") && is(f, "rule_severity", "error"));
    UndecidedErrors::count(counted.map(|f| f.get("reason").and_then(Value::as_str).unwrap_or_default()))
}

fn array<'v>(value: &'v Value, key: &str) -> impl Iterator<Item = &'v Value> {
    value.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// GitHub's category of a run: its `automationDetails.id` up to the last `/`.
fn category(run: &Value) -> String {
    let id = run.pointer("/automationDetails/id").and_then(Value::as_str).unwrap_or_default();
    match id.rfind('/') {
        Some(i) => id[..i].to_string(),
        None => id.to_string(),
    }
}

fn merge_sarif(documents: &[(&str, Value)]) -> Result<Value> {
    let mut groups: BTreeMap<(String, String), Vec<&Value>> = BTreeMap::new();
    let mut schema = None;
    for (name, document) in documents {
        schema = schema.or_else(|| document.get("$schema").cloned());
        let runs = document.get("runs").and_then(Value::as_array).with_context(|| format!("{name}: `runs` is not a list"))?;
        for run in runs {
            let tool = run.pointer("/tool/driver/name").and_then(Value::as_str).unwrap_or_default().to_string();
            groups.entry((tool, category(run))).or_default().push(run);
        }
    }
    if groups.len() > MAX_RUNS {
        bail!("the reports hold {} categories; GitHub accepts at most {MAX_RUNS} runs in one SARIF file: merge fewer categories", groups.len());
    }
    let runs: Vec<Value> = groups.into_values().map(|runs| merge_runs(&runs)).collect();
    let mut document = Map::new();
    document.insert("$schema".into(), schema.unwrap_or_else(|| json!("https://json.schemastore.org/sarif-2.1.0.json")));
    document.insert("version".into(), json!("2.1.0"));
    document.insert("runs".into(), Value::Array(runs));
    Ok(Value::Object(document))
}

/// One run from runs of the same tool and category.
fn merge_runs(runs: &[&Value]) -> Value {
    let mut merged = runs[0].clone();
    // Rules: the union by id, in id order.
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    for run in runs {
        for rule in run.pointer("/tool/driver/rules").and_then(Value::as_array).into_iter().flatten() {
            if let Some(id) = rule.get("id").and_then(Value::as_str) {
                rules.entry(id.to_string()).or_insert_with(|| rule.clone());
            }
        }
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
    // Results: one per fingerprint, `ruleIndex` pointing into the joined rules.
    let mut seen = HashSet::new();
    let mut results = Vec::new();
    for run in runs {
        for result in array(run, "results") {
            let key = result
                .pointer(&format!("/partialFingerprints/{}", FINGERPRINT_KEY.replace('/', "~1")))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| result.to_string());
            if !seen.insert(key) {
                continue;
            }
            let mut result = result.clone();
            if let Some(i) = result.get("ruleId").and_then(Value::as_str).and_then(|id| index.get(id)) {
                result["ruleIndex"] = json!(i);
            }
            results.push(result);
        }
    }
    let mut notifications: Vec<Value> = Vec::new();
    let mut notification_keys = BTreeSet::new();
    for n in runs.iter().flat_map(|r| r.get("invocations").and_then(Value::as_array).into_iter().flatten()).flat_map(|i| array(i, "toolExecutionNotifications"))
    {
        if notification_keys.insert(n.to_string()) {
            notifications.push(n.clone());
        }
    }
    let omitted = keep_most_severe(&mut results, MAX_RESULTS);
    if omitted > 0 {
        let text = format!("{omitted} lower-severity results were left out when merging: GitHub accepts at most {MAX_RESULTS} results per run");
        notifications.push(json!({"level": "warning", "message": {"text": text}}));
    }
    let successful = runs
        .iter()
        .flat_map(|r| r.get("invocations").and_then(Value::as_array).into_iter().flatten())
        .all(|i| i.get("executionSuccessful") != Some(&json!(false)));
    let mut invocation = json!({"executionSuccessful": successful});
    if !notifications.is_empty() {
        invocation["toolExecutionNotifications"] = Value::Array(notifications);
    }
    merged["tool"]["driver"]["rules"] = Value::Array(rules.into_values().collect());
    merged["results"] = Value::Array(results);
    merged["invocations"] = json!([invocation]);
    merged
}

/// Keeps the `max` most severe results (error, warning, note), in their order; returns how
/// many were left out.
fn keep_most_severe(results: &mut Vec<Value>, max: usize) -> usize {
    if results.len() <= max {
        return 0;
    }
    let rank = |r: &Value| match r.get("level").and_then(Value::as_str) {
        Some("error") => 0,
        Some("warning") | None => 1,
        _ => 2,
    };
    let mut order: Vec<usize> = (0..results.len()).collect();
    order.sort_by_key(|&i| rank(&results[i]));
    let mut kept: Vec<usize> = order.into_iter().take(max).collect();
    kept.sort_unstable();
    let omitted = results.len() - kept.len();
    let taken: Vec<Value> = kept.into_iter().map(|i| std::mem::take(&mut results[i])).collect();
    *results = taken;
    omitted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sarif_run(category: &str, results: Value) -> Value {
        json!({"tool": {"driver": {"name": "charterguard", "rules": [{"id": "ENC-001"}, {"id": "RES-001"}]}},
               "automationDetails": {"id": format!("{category}/")}, "results": results,
               "invocations": [{"executionSuccessful": true}]})
    }

    fn result(rule: &str, fingerprint: &str, level: &str) -> Value {
        json!({"ruleId": rule, "level": level, "message": {"text": "m"}, "partialFingerprints": {"charterguard/v1": fingerprint}})
    }

    #[test]
    fn sarif_runs_of_one_category_become_one_run() {
        let a = json!({"runs": [sarif_run("charterguard-audit/aws", json!([result("RES-001", "f1", "error")]))]});
        let b = json!({"runs": [sarif_run("charterguard-audit/aws", json!([result("RES-001", "f1", "error"), result("ENC-001", "f2", "error")])),
                                sarif_run("charterguard-audit/k8s", json!([]))]});
        let merged: Value = serde_json::from_str(&merge(&[("a".into(), a.to_string()), ("b".into(), b.to_string())]).unwrap()).unwrap();
        let runs = merged["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 2);
        let aws = &runs[0];
        assert_eq!(aws["results"].as_array().unwrap().len(), 2, "f1 is kept once");
        let rules: Vec<&str> = aws["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(rules, ["ENC-001", "RES-001"]);
        assert_eq!(aws["results"][0]["ruleIndex"], json!(1));
        assert_eq!(aws["results"][1]["ruleIndex"], json!(0));
    }

    #[test]
    fn json_reports_are_counted_again() {
        let finding = |fp: &str, severity: &str, outcome: &str| json!({"fingerprint": fp, "severity": severity, "outcome": outcome, "file": "a", "start_line": 1, "rule_id": "R", "address": fp});
        let a =
            json!({"version": 1, "summary": {"files": 0, "resources": 3}, "findings": [finding("x", "error", "violation")], "diagnostics": [{"message": "d"}]});
        let b = json!({"version": 1, "summary": {"files": 0, "resources": 4}, "findings": [finding("x", "error", "violation"), finding("y", "note", "undecided")], "diagnostics": [{"message": "d"}]});
        let merged: Value = serde_json::from_str(&merge(&[("a".into(), a.to_string()), ("b".into(), b.to_string())]).unwrap()).unwrap();
        assert_eq!(merged["summary"]["resources"], json!(7));
        assert_eq!(merged["summary"]["by_severity"]["error"], json!(1));
        assert_eq!(merged["summary"]["undecided"], json!(1));
        assert_eq!(merged["findings"].as_array().unwrap().len(), 2);
        assert_eq!(merged["diagnostics"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn undecided_findings_of_error_rules_are_counted_again_by_reason() {
        let undecided = |fp: &str, rule_severity: &str, reason: &str| json!({"fingerprint": fp, "severity": "note", "rule_severity": rule_severity, "outcome": "undecided", "reason": reason});
        let mut suppressed = undecided("s", "error", "a");
        suppressed["suppression"] = json!({"kind": "inline", "reason": "accepted"});
        let report = |findings: Value| {
            json!({"version": 1, "summary": {"undecided_errors": {"count": 9, "reasons": []}}, "findings": findings, "diagnostics": []}).to_string()
        };
        let a = report(json!([undecided("x", "error", "a"), undecided("w", "warning", "a"), suppressed]));
        let b = report(json!([undecided("x", "error", "a"), undecided("y", "error", "b"), undecided("z", "error", "a")]));
        let merged: Value = serde_json::from_str(&merge(&[("a".into(), a), ("b".into(), b)]).unwrap()).unwrap();
        let expected = json!({"count": 3, "reasons": [{"reason": "a", "count": 2}, {"reason": "b", "count": 1}]});
        assert_eq!(merged["summary"]["undecided_errors"], expected, "x once; not w (a warning rule) nor s (suppressed)");
    }

    #[test]
    fn mixed_or_foreign_inputs_are_refused() {
        let sarif = json!({"runs": []}).to_string();
        let json_report = json!({"summary": {}, "findings": []}).to_string();
        assert!(merge(&[("a".into(), sarif.clone()), ("b".into(), json_report)]).unwrap_err().to_string().contains("mix"));
        assert!(merge(&[("a".into(), sarif), ("c".into(), "{\"x\": 1}".into())]).unwrap_err().to_string().contains("c"));
        assert!(merge(&[("bad".into(), "{".into())]).unwrap_err().to_string().starts_with("bad:1:"));
    }

    #[test]
    fn too_many_results_are_cut_by_severity() {
        let mut results = vec![result("R", "a", "note"), result("R", "b", "error"), result("R", "c", "warning")];
        assert_eq!(keep_most_severe(&mut results, 2), 1);
        let kept: Vec<&str> = results.iter().map(|r| r["level"].as_str().unwrap()).collect();
        assert_eq!(kept, ["error", "warning"]);
    }
}
