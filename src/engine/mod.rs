//! Evaluates rules over the model, in parallel.

mod compile;
mod evaluate;
mod functions;
mod load;
mod lookup;
mod program;
pub(crate) mod references;
mod strict;
mod values;

/// Findings are the model's: suppressions, baselines and reports read them too.
pub use crate::model::{BaselineState, Finding, Outcome, Suppression, SuppressionKind};
pub use compile::{CompiledRule, RuleError};
pub use evaluate::{evaluate, evaluate_some, Judged};
pub use functions::{helper_reference, HelperDoc, HelperGroup};
pub use load::{compile, load_rules, load_rules_for, BUILTIN_RULES};
pub use references::Within;
