//! Undecided findings of error rules, for the summaries: how many, and their most frequent
//! reasons. Unless `--fail-on-undecided`, the gate passes them, so every summary puts them
//! beside the errors, where a violation hidden behind an unknown value cannot go unnoticed.

use std::collections::HashMap;

use serde::Serialize;

use super::Report;
use crate::model::Outcome;
use crate::model::Severity;

/// Summaries name this many reasons.
const TOP_REASONS: usize = 3;

/// The unsuppressed undecided findings of error rules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub(super) struct UndecidedErrors {
    pub count: usize,
    /// The most frequent reasons, most frequent first (ties in text order).
    pub reasons: Vec<Reason>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(super) struct Reason {
    pub reason: String,
    pub count: usize,
}

impl UndecidedErrors {
    pub fn of(report: &Report) -> Self {
        let undecided = report.findings.iter().filter(|f| f.outcome == Outcome::Undecided && f.rule_severity == Severity::Error && !f.is_suppressed());
        Self::count(undecided.map(|f| f.reason(report.rule(&f.rule_id).map_or("", |r| r.title.as_str()))))
    }

    /// Counts the reasons, one per finding, and keeps the most frequent.
    pub fn count<'a>(reasons: impl Iterator<Item = &'a str>) -> Self {
        let mut by_reason: HashMap<&str, usize> = HashMap::new();
        let mut count = 0;
        for reason in reasons {
            count += 1;
            *by_reason.entry(reason).or_default() += 1;
        }
        let mut ranked: Vec<(&str, usize)> = by_reason.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let reasons = ranked.into_iter().take(TOP_REASONS).map(|(reason, count)| Reason { reason: reason.to_string(), count }).collect();
        UndecidedErrors { count, reasons }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Finding, Suppression, SuppressionKind};
    use crate::model::{SourceKind, Span};
    use crate::rules::RuleMeta;

    fn finding(outcome: Outcome, rule_severity: Severity, reason: &str) -> Finding {
        Finding::example("NET-001", outcome, rule_severity, &format!("aws_db_instance.db: {reason} (Security groups)"))
    }

    fn of(findings: &[Finding]) -> UndecidedErrors {
        let rules = [RuleMeta {
            id: "NET-001".into(),
            title: "Security groups".into(),
            severity: Severity::Error,
            charter: String::new(),
            help: String::new(),
            sources: vec![SourceKind::Tf],
        }];
        let no_source = |_: &str| None;
        let report = Report { rules: &rules, ..Report::of(findings, &no_source) };
        UndecidedErrors::of(&report)
    }

    #[test]
    fn counts_unsuppressed_undecided_findings_of_error_rules_by_reason() {
        let mut suppressed = finding(Outcome::Undecided, Severity::Error, "a");
        suppressed.suppression =
            Some(Suppression { kind: SuppressionKind::Central, reason: "r".into(), until: None, location: Span::new("c".into(), 1, 1, 1, 1) });
        let findings = [
            finding(Outcome::Undecided, Severity::Error, "b"),
            finding(Outcome::Undecided, Severity::Error, "a"),
            finding(Outcome::Undecided, Severity::Error, "b"),
            finding(Outcome::Undecided, Severity::Warning, "c"),
            finding(Outcome::Violation, Severity::Error, "d"),
            suppressed,
        ];
        let undecided = of(&findings);
        assert_eq!(undecided.count, 3);
        let reasons: Vec<(&str, usize)> = undecided.reasons.iter().map(|r| (r.reason.as_str(), r.count)).collect();
        assert_eq!(reasons, [("b", 2), ("a", 1)]);
    }

    #[test]
    fn keeps_the_most_frequent_reasons() {
        let reasons = ["d", "c", "a", "b", "d", "c", "d"];
        let undecided = UndecidedErrors::count(reasons.into_iter());
        assert_eq!(undecided.count, 7);
        let kept: Vec<(&str, usize)> = undecided.reasons.iter().map(|r| (r.reason.as_str(), r.count)).collect();
        assert_eq!(kept, [("d", 3), ("c", 2), ("a", 1)], "ties in text order, {TOP_REASONS} at most");
        assert_eq!(of(&[]), UndecidedErrors::default());
    }
}
