//! Terraform's built-in functions, evaluated on [`Node`]s.
//!
//! [`table::FUNCTIONS`] lists every function of Terraform 1.15 and OpenTofu, each with how it
//! treats unknown arguments ([`Kind`]):
//! - functions that only move values around (`try`, `coalesce`, `concat`, `merge`, `lookup`,
//!   `sensitive`, ...) pass unknown elements and references through;
//! - every other function needs its arguments wholly known: an unknown or a reference anywhere
//!   in them makes the result unknown (the first one's reason);
//! - `timestamp`, `uuid`, `bcrypt`, ... are known only at apply: their result is unknown with
//!   the reason, never a guess.
//!
//! A name Terraform does not have, a wrong number of arguments or a function Terraform refuses
//! in a configuration (`list`, `type`) is an error value, so `try` and `can` see what Terraform
//! would. File functions read through the root module's [`Sandbox`].

mod args;
mod collections;
mod conversion;
mod crypto;
mod csv;
mod encoding;
mod files;
mod network;
mod numbers;
mod paths;
mod provider;
mod sets;
mod strings;
mod table;
mod template;
#[cfg(test)]
mod testing;
mod tfvars;
mod time;
mod yaml;

pub use conversion::to_set;
pub use encoding::json_string;
pub use template::TEMPLATE_FUNCTIONS;

use args::Call;
use table::{Function, Kind};

use super::ops::{error_value, is_error, known_deep, node};
use crate::model::{Node, Span, Value};
use crate::terraform::sandbox::Sandbox;

/// What a function returns: its value (a node, so that an argument passed through keeps its
/// span), or the unknown or error value that replaces it.
pub type R = Result<Node, Value>;

/// Terraform's built-in functions are also callable as `core::NAME`.
const CORE_NAMESPACE: &str = "core::";

/// Calls the function `name` on evaluated arguments; the result has `span` unless it is an
/// argument passed through that has a span of its own.
pub fn call_function(name: &str, args: Vec<Node>, span: &Option<Span>, sandbox: Option<&Sandbox>) -> Node {
    let result = match table::find(name.strip_prefix(CORE_NAMESPACE).unwrap_or(name)) {
        None => Err(provider::not_built_in(name)),
        Some(function) => run(function, Call { name: function.name, args, span, sandbox }),
    };
    match result {
        Ok(mut n) => {
            if n.span.is_none() {
                n.span = span.clone();
            }
            n
        }
        Err(v) => node(v, span),
    }
}

fn run(function: &Function, call: Call) -> R {
    call.arity(function.min, function.max)?;
    if let Kind::Catches(run) = function.kind {
        return run(call);
    }
    // Arguments that are errors make the call an error, whatever the function.
    if let Some(e) = call.args.iter().find(|a| is_error(a)) {
        return Err(e.value.clone());
    }
    match function.kind {
        Kind::Catches(run) | Kind::Moves(run) => run(call),
        Kind::Needs(run) => {
            call.args.iter().try_for_each(known_deep)?;
            run(&call).map(|v| Node::new(v, None))
        }
        Kind::Unknown(reason) => Err(Value::Unknown(reason.to_string())),
        Kind::Rejected(message) => Err(error_value(message)),
    }
}
