//! Rules are data: one YAML file per rule id under `rules/`, embedded in the binary, plus
//! any the user adds with `--rules DIR`.

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
