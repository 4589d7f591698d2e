//! What evaluating a rule against a resource produces.

use crate::model::{SourceKind, Span};
use crate::rules::Severity;

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
}
