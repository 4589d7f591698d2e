//! What evaluating a rule against a resource produces.

use crate::model::{LiveOrigin, SourceKind, Span};
use std::sync::Arc;
use crate::rules::Severity;
use crate::suppress::Date;

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
    /// The rule's severity after configuration; undecided findings report at `note`.
    pub severity: Severity,
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
        match &self.item {
            Some(item) => format!("{} {}", self.address, item),
            None => self.address.clone(),
        }
    }

    /// A suppressed finding is reported but never fails the scan.
    pub fn is_suppressed(&self) -> bool {
        self.suppression.is_some()
    }

    /// True when the finding was already in the `--baseline` report.
    pub fn is_unchanged(&self) -> bool {
        self.baseline == Some(BaselineState::Unchanged)
    }
}
