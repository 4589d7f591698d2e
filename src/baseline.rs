//! `--baseline FILE`: a previous JSON or SARIF report of charterguard. Findings whose
//! fingerprint ([`crate::report::fingerprint`]) the baseline holds are *unchanged* and do not
//! fail the scan; the others are *new*; baseline fingerprints no finding has any more are
//! *resolved*.

use crate::engine::{BaselineState, Finding};
use anyhow::{bail, Context as _, Result};
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;

/// The SARIF `partialFingerprints` key charterguard writes.
const SARIF_KEY: &str = "charterguard/v1";

/// How the scan compares with its baseline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub new: usize,
    pub unchanged: usize,
    /// Distinct baseline fingerprints that no finding of this scan has.
    pub resolved: usize,
}

/// The fingerprints of a JSON (`findings[].fingerprint`) or SARIF
/// (`runs[].results[].partialFingerprints["charterguard/v1"]`) report.
pub fn load(path: &Path) -> Result<HashSet<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the baseline {}", path.display()))?;
    parse(&text).with_context(|| format!("the baseline {} is not a charterguard JSON or SARIF report", path.display()))
}

pub fn parse(text: &str) -> Result<HashSet<String>> {
    let document: Value = serde_json::from_str(text)?;
    let mut fingerprints = HashSet::new();
    if let Some(runs) = document.get("runs").and_then(Value::as_array) {
        for result in runs.iter().filter_map(|run| run.get("results")?.as_array()).flatten() {
            match result.get("partialFingerprints").and_then(|p| p.get(SARIF_KEY)).and_then(Value::as_str) {
                Some(fingerprint) => fingerprints.insert(fingerprint.to_string()),
                None => bail!("a SARIF result has no partialFingerprints[\"{SARIF_KEY}\"]"),
            };
        }
    } else if let Some(findings) = document.get("findings").and_then(Value::as_array) {
        for finding in findings {
            match finding.get("fingerprint").and_then(Value::as_str) {
                Some(fingerprint) => fingerprints.insert(fingerprint.to_string()),
                None => bail!("a finding has no fingerprint"),
            };
        }
    } else {
        bail!("neither `runs` (SARIF) nor `findings` (JSON) found");
    }
    Ok(fingerprints)
}

/// Marks every finding new or unchanged and counts the resolved ones.
pub fn apply(findings: &mut [Finding], baseline: &HashSet<String>) -> Summary {
    let mut summary = Summary::default();
    let mut seen = HashSet::new();
    for f in findings.iter_mut() {
        let fingerprint = crate::report::fingerprint(f);
        if baseline.contains(&fingerprint) {
            f.baseline = Some(BaselineState::Unchanged);
            summary.unchanged += 1;
        } else {
            f.baseline = Some(BaselineState::New);
            summary.new += 1;
        }
        seen.insert(fingerprint);
    }
    summary.resolved = baseline.iter().filter(|f| !seen.contains(*f)).count();
    summary
}
