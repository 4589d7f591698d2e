//! Rules are data: one YAML file per rule id under `rules/`, embedded in the binary, plus
//! any the user adds with `--rules DIR`.

mod spec;
/// Severities are the model's: findings carry them.
pub use crate::model::Severity;
pub use spec::{Check, Each, Group, Locations, RuleSpec};

use serde::Serialize;

/// A rule's metadata: what reports need to describe it. The check itself lives in
/// the engine, compiled from the same file.
#[derive(Clone, Debug, Serialize)]
pub struct RuleMeta {
    /// The catalogue id (`ENC-001`): the public contract.
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// The sentence of the charter the rule enforces.
    pub charter: String,
    /// Markdown: why it matters and how to fix it, with a remediation snippet.
    pub help: String,
    /// Which inputs the rule judges (`tf`, `k8s`, `aws`, `eks`).
    pub sources: Vec<crate::model::SourceKind>,
}

impl RuleMeta {
    /// The metadata a rule file gives.
    pub fn of(spec: &RuleSpec) -> RuleMeta {
        RuleMeta {
            id: spec.id.clone(),
            title: spec.title.clone(),
            severity: spec.severity,
            charter: spec.charter.clone(),
            help: spec.help.clone(),
            sources: spec.sources.clone(),
        }
    }
}
