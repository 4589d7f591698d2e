//! Rules are data: one YAML file per rule id under `rules/`, embedded in the binary, plus
//! any the user adds with `--rules DIR`.

mod spec;
pub use spec::{Each, Group, RuleSpec};

use serde::{Deserialize, Serialize};

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

/// A rule's metadata: what reports need to describe it. The check itself lives in
/// [`crate::engine`], compiled from the same file.
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
