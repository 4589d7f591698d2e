//! What evaluating a rule against a resource produces.

use super::{Date, LiveOrigin, SourceKind, Span};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How bad a violation is. `error` fails the gate by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// GitHub code scanning's `security-severity` (0.0-10.0) for the rule metadata.
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Error => "8.0",
            Severity::Warning => "5.0",
            Severity::Note => "2.0",
        }
    }
}

/// The outcome a finding records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The resource breaks the rule.
    Violation,
    /// The rule depends on a value that is unknown (unresolved variable, value known only
    /// after apply, API call denied): it could not decide, which is never a pass.
    Undecided,
}

/// One rule applied to one resource (or one container of it) that did not pass.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub rule_id: String,
    /// The severity the finding is reported at: the rule's, or `note` when undecided.
    pub severity: Severity,
    /// The rule's severity after configuration, whatever the outcome: what an undecided
    /// finding would be if it were a violation (`--fail-on-undecided` judges by it).
    pub rule_severity: Severity,
    pub outcome: Outcome,
    /// Names the resource (and container), says what is wrong; never echoes a secret.
    pub message: String,
    pub source: SourceKind,
    /// Terraform address or `Kind namespace/name`.
    pub address: String,
    pub rtype: String,
    /// The part of the resource a per-item rule judged, e.g. `container app` or
    /// `ingress rule 2`, so one finding per container is told apart.
    pub item: Option<String>,
    /// The attribute the rule points at, as a dotted path from the resource (for fingerprints:
    /// stable when unrelated lines move).
    pub attribute: String,
    /// The offending attribute, or the closest enclosing block when it is missing.
    pub span: Span,
    /// The chart template (`# Source:` comment) the Kubernetes object was rendered from.
    pub template: Option<String>,
    /// The render that made the object (see [`crate::model::Resource::render`]).
    pub render: Option<String>,
    /// Module call blocks leading to the resource, outermost first.
    pub call_chain: Vec<Span>,
    /// Set when an accepted suppression (inline comment, annotation or the config's `ignores`)
    /// covers the finding: it is still reported, but counts neither for the exit code nor in
    /// the severity counts.
    pub suppression: Option<Suppression>,
    /// With `--baseline`: whether the baseline report already had this finding (same
    /// fingerprint). Unchanged findings do not fail the scan.
    pub baseline: Option<BaselineState>,
    /// For findings on live resources: where the resource runs (ARN or cluster path).
    pub live: Option<Arc<LiveOrigin>>,
}

/// A finding compared with the baseline report (SARIF's `baselineState` values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    New,
    Unchanged,
}

/// Where a suppression is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionKind {
    /// A `charterguard:ignore` comment in the scanned file, or the `charterguard.io/ignore`
    /// annotation of a Kubernetes object.
    Inline,
    /// An entry of `ignores:` in charterguard.yaml.
    Central,
}

/// The accepted suppression that covers a finding: what an auditor needs to review it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Suppression {
    pub kind: SuppressionKind,
    /// Why the finding is accepted; never empty.
    pub reason: String,
    /// The last day the suppression applies, if it expires.
    pub until: Option<Date>,
    /// The comment, annotation or config entry that suppresses.
    pub location: Span,
}

impl Finding {
    /// The Terraform address or `Kind ns/name`, plus the item (`container app`): how
    /// reports name the thing at fault.
    pub fn subject(&self) -> String {
        let mut subject = match &self.item {
            Some(item) => format!("{} {}", self.address, item),
            None => self.address.clone(),
        };
        if let Some(render) = &self.render {
            subject = format!("{subject} ({render})");
        }
        subject
    }

    /// A suppressed finding is reported but never fails the scan.
    pub fn is_suppressed(&self) -> bool {
        self.suppression.is_some()
    }

    /// Why an undecided finding could not decide: its message without the subject in front
    /// and the rule's `title` in parentheses behind (the engine writes
    /// `subject: reason (title)`); the whole message when it is not written that way.
    pub fn reason(&self, title: &str) -> &str {
        let subject = self.subject();
        let text = self.message.strip_prefix(subject.as_str()).and_then(|rest| rest.strip_prefix(": ")).unwrap_or(&self.message);
        text.strip_suffix(')').and_then(|rest| rest.strip_suffix(title)).and_then(|rest| rest.strip_suffix(" (")).unwrap_or(text)
    }

    /// True when the finding was already in the `--baseline` report.
    pub fn is_unchanged(&self) -> bool {
        self.baseline == Some(BaselineState::Unchanged)
    }

    /// Where a live resource runs when no code is known to manage it: its span is then only
    /// the audit's anchor file, and reports name the resource by its ARN or cluster path.
    pub fn unmanaged_live(&self) -> Option<&LiveOrigin> {
        self.live.as_deref().filter(|origin| origin.managed_by.is_none())
    }

    /// Where a report says the finding is: `file:line`, or the ARN / cluster path of a live
    /// resource no code manages; for a live resource, with the environment the config names
    /// its account by (`... in production`).
    pub fn place(&self) -> String {
        let place = match self.unmanaged_live() {
            Some(origin) => origin.id.clone(),
            None => format!("{}:{}", self.span.file, self.span.start_line),
        };
        match self.live.as_deref().and_then(|origin| origin.environment.as_deref()) {
            Some(environment) => format!("{place} in {environment}"),
            None => place,
        }
    }

    /// What a report groups the finding under: its file, or for a live resource no code
    /// manages, its account (with its environment) and region (`aws 123456789012
    /// (production) ap-south-1`) or cluster.
    pub fn group(&self) -> String {
        match self.unmanaged_live() {
            Some(origin) => {
                let source = self.source.as_str();
                match &origin.region {
                    Some(region) => format!("{source} {} {region}", origin.scope_label()),
                    None => format!("{source} {}", origin.scope_label()),
                }
            }
            None => self.span.file.to_string(),
        }
    }
}

#[cfg(test)]
impl Finding {
    /// A finding of `rule_id` on one Terraform resource, for tests.
    pub fn example(rule_id: &str, outcome: Outcome, rule_severity: Severity, message: &str) -> Finding {
        Finding {
            rule_id: rule_id.into(),
            severity: if outcome == Outcome::Undecided { Severity::Note } else { rule_severity },
            rule_severity,
            outcome,
            message: message.into(),
            source: SourceKind::Tf,
            address: "aws_db_instance.db".into(),
            rtype: "aws_db_instance".into(),
            item: None,
            attribute: String::new(),
            span: Span::new("main.tf".into(), 1, 1, 1, 1),
            template: None,
            render: None,
            call_chain: Vec::new(),
            suppression: None,
            baseline: None,
            live: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn undecided(message: &str, item: Option<&str>) -> Finding {
        Finding { item: item.map(str::to_string), ..Finding::example("NET-004", Outcome::Undecided, Severity::Error, message) }
    }

    #[test]
    fn the_reason_is_the_message_between_subject_and_title() {
        let title = "Databases are not public (or private)";
        let f = undecided("aws_db_instance.db: `var.public` has no value (Databases are not public (or private))", None);
        assert_eq!(f.reason(title), "`var.public` has no value");
        let f = undecided("aws_db_instance.db container app: unknown (x) (Databases are not public (or private))", Some("container app"));
        assert_eq!(f.reason(title), "unknown (x)");
        let f = undecided("written some other way (another title)", None);
        assert_eq!(f.reason(title), "written some other way (another title)");
    }
}
