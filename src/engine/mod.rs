//! Evaluates rules over the model, in parallel.

mod finding;

pub use finding::{Finding, Outcome};
