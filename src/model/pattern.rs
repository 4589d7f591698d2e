//! Regular expressions compiled once per process, and only when first matched.

use regex::Regex;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// `pattern` compiled, once per process: rules and helpers are set up for every evaluation
/// (the admission server evaluates once per review), and compiling the same patterns each
/// time was most of a review's time.
pub fn compiled(pattern: &str) -> Result<Regex, regex::Error> {
    static COMPILED: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let cache = COMPILED.get_or_init(Default::default);
    if let Some(regex) = cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(pattern) {
        return Ok(regex.clone());
    }
    let regex = Regex::new(pattern)?;
    cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(pattern.to_string(), regex.clone());
    Ok(regex)
}

/// A regular expression compiled (through [`compiled`]) when it is first matched: a scan
/// matches few of the patterns its helpers and secret vocabulary hold, and compiling them all
/// up front was a tenth of a one-file scan.
#[derive(Clone, Debug)]
pub struct LazyRegex {
    source: String,
    compiled: OnceLock<Result<Regex, String>>,
}

impl LazyRegex {
    pub fn new(source: impl Into<String>) -> Self {
        LazyRegex { source: source.into(), compiled: OnceLock::new() }
    }

    /// The compiled expression, or why `source` is not one (naming it).
    pub fn regex(&self) -> Result<&Regex, String> {
        let compiled = self.compiled.get_or_init(|| compiled(&self.source).map_err(|e| format!("invalid regular expression `{}`: {e}", self.source)));
        compiled.as_ref().map_err(Clone::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_when_first_matched_and_says_what_is_wrong() {
        let digits = LazyRegex::new(r"^\d+$");
        assert!(digits.compiled.get().is_none(), "nothing compiled before a match");
        assert!(digits.regex().unwrap().is_match("123"));
        assert!(digits.compiled.get().is_some());
        let broken = LazyRegex::new("(");
        assert!(broken.regex().unwrap_err().starts_with("invalid regular expression `(`"), "{}", broken.regex().unwrap_err());
    }
}
