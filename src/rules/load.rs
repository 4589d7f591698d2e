//! Loading rule files: the built-in ones embedded at build time, then `--rules DIR`s.

use super::RuleSpec;
use crate::engine::CompiledRule;
use crate::model::Diagnostic;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Every rule, by id, plus a diagnostic (error) for each rule file that is broken. A broken
/// file never stops the others from loading.
pub fn load_rules(user_dirs: &[PathBuf]) -> (Vec<CompiledRule>, Vec<Diagnostic>) {
    let mut rules: BTreeMap<String, CompiledRule> = BTreeMap::new();
    let mut diagnostics = Vec::new();
    let builtin = BUILTIN_RULES.iter().map(|(name, text)| (format!("rules/{name}"), Ok(text.to_string())));
    let user = user_dirs.iter().flat_map(|dir| user_rule_files(dir, &mut diagnostics));
    for (origin, text) in builtin.chain(user).collect::<Vec<_>>() {
        let compiled = text.map_err(|e| Diagnostic::error(origin.clone(), None, e)).and_then(|text| compile(&origin, &text));
        match compiled {
            Ok(rule) if rules.contains_key(&rule.meta.id) => {
                diagnostics.push(Diagnostic::error(origin, None, format!("rule {} is defined twice", rule.meta.id)));
            }
            Ok(rule) => {
                rules.insert(rule.meta.id.clone(), rule);
            }
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    (rules.into_values().collect(), diagnostics)
}

fn user_rule_files(dir: &Path, diagnostics: &mut Vec<Diagnostic>) -> Vec<(String, Result<String, String>)> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            diagnostics.push(Diagnostic::error(dir.display().to_string(), None, format!("cannot read rules directory: {error}")));
            return Vec::new();
        }
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml")).collect();
    paths.sort();
    paths.into_iter().map(|p| (p.display().to_string(), std::fs::read_to_string(&p).map_err(|e| format!("cannot read: {e}")))).collect()
}

/// Parses and compiles one rule file; the error names the file (and line when known).
pub fn compile(origin: &str, text: &str) -> Result<CompiledRule, Diagnostic> {
    let file: Arc<str> = origin.into();
    let documents = crate::yaml::load(&file, text, &crate::yaml::Limits::default())?;
    let [document] = documents.as_slice() else {
        return Err(Diagnostic::error(origin, None, format!("a rule file holds exactly one YAML document, found {}", documents.len())));
    };
    let spec: RuleSpec = serde_json::from_value(document.root.to_json()).map_err(|e| Diagnostic::error(origin, Some(document.span.clone()), format!("not a valid rule: {e}")))?;
    let stem = Path::new(origin).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if stem != spec.id {
        return Err(Diagnostic::error(origin, None, format!("the file of rule {} must be named {}.yaml", spec.id, spec.id)));
    }
    CompiledRule::compile(spec, origin).map_err(|e| Diagnostic::error(origin, None, format!("{e:#}")))
}
