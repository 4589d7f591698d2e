//! Evaluates rules over the model, in parallel.

mod compile;
mod evaluate;
mod finding;
mod functions;
mod functions_env;
mod functions_infra;
mod functions_k8s;
mod functions_network;
mod lookup;
pub(crate) mod references;
mod strict;
mod values;

pub use compile::{CompiledRule, RuleError};
pub use evaluate::evaluate;
pub use finding::{BaselineState, Finding, Outcome, Suppression, SuppressionKind};
pub use functions_k8s::{looks_secret, secret_key_name};
pub use functions_network::secret_name;
