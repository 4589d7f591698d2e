//! Loading rule files: the built-in ones embedded at build time, then `--rules DIR`s.

use super::CompiledRule;
use crate::model::{Diagnostic, Node, Value};
use crate::rules::RuleSpec;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Every rule, by id, plus a diagnostic (error) for each rule file that is broken. A broken
/// file never stops the others from loading.
pub fn load_rules(user_dirs: &[PathBuf]) -> (Vec<CompiledRule>, Vec<Diagnostic>) {
    load_rules_for(user_dirs, &|_| true)
}

/// [`load_rules`], compiling only the built-in rules `needed` says may judge something: the
/// others are kept [inert](CompiledRule::inert) (listed in reports, judging nothing). The
/// CEL is most of a small scan's start-up; the rules of `--rules DIR`s always compile, so a
/// mistake in them is an error whatever is scanned (the built-in ones are compiled by the tests).
pub fn load_rules_for(user_dirs: &[PathBuf], needed: &(dyn Fn(&RuleSpec) -> bool + Sync)) -> (Vec<CompiledRule>, Vec<Diagnostic>) {
    let mut rules: BTreeMap<String, CompiledRule> = BTreeMap::new();
    let mut diagnostics = Vec::new();
    let builtin = BUILTIN_RULES.iter().map(|(name, text)| (format!("rules/{name}"), Ok(text.to_string()), true));
    let user = user_dirs.iter().flat_map(|dir| user_rule_files(dir, &mut diagnostics)).map(|(origin, text)| (origin, text, false));
    let files: Vec<(String, Result<String, String>, bool)> = builtin.chain(user).collect();
    // In parallel, kept in their order.
    let compiled: Vec<(String, Result<CompiledRule, Diagnostic>)> = files
        .into_par_iter()
        .map(|(origin, text, builtin)| {
            let read = text.map_err(|e| Diagnostic::error(origin.clone(), None, e)).and_then(|text| read(&origin, &text));
            let compiled = read.and_then(|rule| match builtin && !needed(&rule.spec) {
                true => Ok(CompiledRule::inert(rule.spec)),
                false => rule.compile(&origin),
            });
            (origin, compiled)
        })
        .collect();
    for (origin, compiled) in compiled {
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
    read(origin, text)?.compile(origin)
}

/// A rule file parsed and its fields read, its CEL not compiled yet.
struct RuleFile {
    spec: RuleSpec,
    /// The YAML document, for locating compile errors.
    root: Node,
}

fn read(origin: &str, text: &str) -> Result<RuleFile, Diagnostic> {
    let file: Arc<str> = origin.into();
    let documents = crate::yaml::load(&file, text, &crate::yaml::Limits::default())?;
    let count = documents.len();
    let Ok([document]) = <[_; 1]>::try_from(documents) else {
        return Err(Diagnostic::error(origin, None, format!("a rule file holds exactly one YAML document, found {count}")));
    };
    let spec: RuleSpec = serde_json::from_value(document.root.to_json())
        .map_err(|e| Diagnostic::error(origin, Some(document.span.clone()), format!("not a valid rule: {e}")))?;
    let stem = Path::new(origin).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if stem != spec.id {
        return Err(Diagnostic::error(origin, None, format!("the file of rule {} must be named {}.yaml", spec.id, spec.id)));
    }
    Ok(RuleFile { spec, root: document.root })
}

impl RuleFile {
    fn compile(self, origin: &str) -> Result<CompiledRule, Diagnostic> {
        let root = self.root;
        CompiledRule::compile(self.spec).map_err(|e| {
            let span = e.field.as_deref().and_then(|field| field_node(&root, field)).and_then(|node| node.span.clone());
            Diagnostic::error(origin, span, e.message)
        })
    }
}

/// The node of a rule file's field (`checks[2].check`), for locating errors.
fn field_node<'n>(root: &'n Node, field: &str) -> Option<&'n Node> {
    field.split('.').try_fold(root, |node, part| match part.split_once('[') {
        Some((name, index)) => match &node.get(name)?.value {
            Value::List(items) => items.get(index.trim_end_matches(']').parse::<usize>().ok()?),
            _ => None,
        },
        None => node.get(part),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_rule_file_loads() {
        let (rules, diagnostics) = load_rules(&[]);
        assert!(diagnostics.is_empty(), "{}", diagnostics.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"));
        let on_disk = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/rules")).unwrap().count();
        assert_eq!(rules.len(), on_disk, "every file in rules/ is embedded");
    }

    /// Rules say where a check applies with `when:` and name what they compute twice with
    /// `variables:`: no check opens with a type test, none computes a helper call twice.
    #[test]
    fn checks_neither_guard_types_nor_repeat_themselves() {
        use crate::engine::references::lint::{opens_with_type_guard, repeated_calls};
        let (rules, _) = load_rules(&[]);
        let mut problems = Vec::new();
        for rule in &rules {
            for (i, check) in rule.spec.checks.iter().enumerate() {
                let parse = |source: &str| cel::Program::compile(source).expect("the rule loaded");
                let main = parse(&check.check);
                if opens_with_type_guard(main.expression()) {
                    problems.push(format!("{} checks[{i}] opens with a type test: write it as the check's `when`", rule.meta.id));
                }
                let mut programs = vec![main];
                programs.extend(check.when.as_deref().map(parse));
                programs.extend(check.message.split("{{").skip(1).filter_map(|p| p.split_once("}}")).map(|(source, _)| parse(source.trim())));
                let repeated = repeated_calls(&programs.iter().map(|p| p.expression()).collect::<Vec<_>>());
                if !repeated.is_empty() {
                    problems.push(format!("{} checks[{i}] computes {} more than once: name it under `variables:`", rule.meta.id, repeated.join(" and ")));
                }
            }
        }
        assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    }

    #[test]
    fn user_rules_add_to_the_builtin_ones_and_duplicates_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let rule = "id: ORG-001\ntitle: t\nseverity: note\ncharter: c\nhelp: h\nsources: [k8s]\nresource_types: [Pod]\nchecks:\n  - check: 'true'\n    location: resource\n    message: m\n";
        std::fs::write(dir.path().join("ORG-001.yaml"), rule).unwrap();
        std::fs::write(dir.path().join("ENC-001.yaml"), rule.replace("ORG-001", "ENC-001")).unwrap();
        std::fs::write(dir.path().join("BAD-001.yaml"), "id: BAD-001\ntitle: [unclosed\n").unwrap();
        let (rules, diagnostics) = load_rules(&[dir.path().to_path_buf()]);
        assert!(rules.iter().any(|r| r.meta.id == "ORG-001"));
        let messages: Vec<String> = diagnostics.iter().map(|d| d.to_string()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("BAD-001.yaml:3:1: YAML syntax error")), "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("ENC-001 is defined twice")), "{messages:?}");
    }
}
