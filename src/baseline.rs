//! `--baseline FILE`: a previous JSON or SARIF report of charterguard. Findings whose
//! fingerprint ([`crate::fingerprint::fingerprint`]) the baseline holds are *unchanged* and do not
//! fail the run; the others are *new*; baseline findings that no finding matches any more are
//! *resolved*, and are listed, so a nightly audit shows what drifted since the last run.

use crate::model::{BaselineState, Finding};
use anyhow::{bail, Context as _, Result};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// The SARIF `partialFingerprints` key charterguard writes.
const SARIF_KEY: &str = "charterguard/v1";

/// The findings of a previous report, by fingerprint.
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    previous: BTreeMap<String, Previous>,
}

/// What the previous report said about one finding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Previous {
    pub rule_id: String,
    /// The resource address or ARN (SARIF: the logical location).
    pub address: String,
    pub message: String,
    pub fingerprint: String,
}

/// How a run compares with its baseline.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub new: usize,
    pub unchanged: usize,
    /// Distinct baseline findings that no finding of this run has.
    pub resolved: usize,
    /// Those findings, in fingerprint order.
    #[serde(skip)]
    pub resolved_findings: Vec<Previous>,
}

impl Baseline {
    /// The findings of a run made here (the merge base's scan, for `--diff-base`).
    pub fn of(findings: &[Finding]) -> Baseline {
        let entry = |f: &Finding| Previous {
            rule_id: f.rule_id.clone(),
            address: f.address.clone(),
            message: f.message.clone(),
            fingerprint: crate::fingerprint::fingerprint(f),
        };
        Baseline { previous: findings.iter().map(|f| (crate::fingerprint::fingerprint(f), entry(f))).collect() }
    }

    pub fn contains(&self, fingerprint: &str) -> bool {
        self.previous.contains_key(fingerprint)
    }

    pub fn len(&self) -> usize {
        self.previous.len()
    }

    pub fn is_empty(&self) -> bool {
        self.previous.is_empty()
    }
}

/// The findings of a JSON (`findings[]`) or SARIF (`runs[].results[]`) report.
pub fn load(path: &Path) -> Result<Baseline> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the baseline {}", path.display()))?;
    parse(&text).with_context(|| format!("the baseline {} is not a charterguard JSON or SARIF report", path.display()))
}

pub fn parse(text: &str) -> Result<Baseline> {
    let document: Value = serde_json::from_str(text)?;
    let text_of = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    let mut previous = BTreeMap::new();
    if let Some(runs) = document.get("runs").and_then(Value::as_array) {
        for result in runs.iter().filter_map(|run| run.get("results")?.as_array()).flatten() {
            let Some(fingerprint) = result.get("partialFingerprints").and_then(|p| p.get(SARIF_KEY)).and_then(Value::as_str) else {
                bail!("a SARIF result has no partialFingerprints[\"{SARIF_KEY}\"]");
            };
            let logical = result.pointer("/locations/0/logicalLocations/0/fullyQualifiedName");
            let entry = Previous {
                rule_id: text_of(result.get("ruleId")),
                address: text_of(logical),
                message: text_of(result.pointer("/message/text")),
                fingerprint: fingerprint.to_string(),
            };
            previous.insert(entry.fingerprint.clone(), entry);
        }
    } else if let Some(findings) = document.get("findings").and_then(Value::as_array) {
        for finding in findings {
            let Some(fingerprint) = finding.get("fingerprint").and_then(Value::as_str) else { bail!("a finding has no fingerprint") };
            let entry = Previous {
                rule_id: text_of(finding.get("rule_id")),
                address: text_of(finding.get("address")),
                message: text_of(finding.get("message")),
                fingerprint: fingerprint.to_string(),
            };
            previous.insert(entry.fingerprint.clone(), entry);
        }
    } else {
        bail!("neither `runs` (SARIF) nor `findings` (JSON) found");
    }
    Ok(Baseline { previous })
}

/// Marks every finding new or unchanged and lists the resolved ones.
pub fn apply(findings: &mut [Finding], baseline: &Baseline) -> Summary {
    let mut summary = Summary::default();
    let mut seen = HashSet::new();
    for f in findings.iter_mut() {
        let fingerprint = crate::fingerprint::fingerprint(f);
        if baseline.contains(&fingerprint) {
            f.baseline = Some(BaselineState::Unchanged);
            summary.unchanged += 1;
        } else {
            f.baseline = Some(BaselineState::New);
            summary.new += 1;
        }
        seen.insert(fingerprint);
    }
    summary.resolved_findings = baseline.previous.values().filter(|p| !seen.contains(&p.fingerprint)).cloned().collect();
    summary.resolved = summary.resolved_findings.len();
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sarif_and_json_baselines_keep_what_they_said() {
        let sarif = r#"{"runs": [{"results": [{"ruleId": "ENC-001", "message": {"text": "unencrypted"},
            "locations": [{"logicalLocations": [{"fullyQualifiedName": "arn:aws:s3:::b"}]}],
            "partialFingerprints": {"charterguard/v1": "f1"}}]}]}"#;
        let baseline = parse(sarif).unwrap();
        let expected = Previous { rule_id: "ENC-001".into(), address: "arn:aws:s3:::b".into(), message: "unencrypted".into(), fingerprint: "f1".into() };
        assert_eq!(baseline.previous.get("f1"), Some(&expected));
        let json = r#"{"findings": [{"rule_id": "ENC-001", "address": "arn:aws:s3:::b", "message": "unencrypted", "fingerprint": "f1"}]}"#;
        assert_eq!(parse(json).unwrap().previous.get("f1"), Some(&expected));
        assert!(parse(r#"{"findings": [{"rule_id": "X"}]}"#).is_err());
        assert!(parse(r#"{"other": 1}"#).is_err());
    }
}
