//! Rule files compiled once: CEL programs parsed, names read collected, types matched.

use super::strict::StrictProgram;
use crate::rules::{RuleMeta, RuleSpec, Severity};
use anyhow::{anyhow, bail, Context as _, Result};
use cel::Program;
use std::collections::HashSet;

/// A rule ready to run.
pub struct CompiledRule {
    pub meta: RuleMeta,
    pub spec: RuleSpec,
    pub when: Option<StrictProgram>,
    pub group: Option<(Program, Program)>,
    pub label: Option<Program>,
    pub checks: Vec<CompiledCheck>,
    /// Names that `when`, `each` and `group` mention (lower case).
    pub names: HashSet<String>,
    /// Names that `when` alone mentions: whether a rule applies depends only on those.
    pub when_names: HashSet<String>,
}

/// One check of a rule.
pub struct CompiledCheck {
    pub check: StrictProgram,
    pub locations: Vec<String>,
    /// Message text split into literal text and `{{ cel }}` placeholders.
    pub message: Vec<MessagePart>,
    /// Every name the check and the rule's shared expressions mention (lower case): a check
    /// reads an unknown attribute only if all of its path's names are among them.
    pub names: HashSet<String>,
}

pub enum MessagePart {
    Text(String),
    Expr(Program),
}

impl CompiledRule {
    /// Compiles a rule file; `origin` names it in errors.
    pub fn compile(spec: RuleSpec, origin: &str) -> Result<Self> {
        validate(&spec, origin)?;
        let cel = |field: &str, source: &str| -> Result<Program> { Program::compile(source).map_err(|e| anyhow!("{origin}: `{field}` is not valid CEL: {e}")) };
        let strict = |field: &str, source: &str| -> Result<StrictProgram> {
            StrictProgram::compile(source).map_err(|e| anyhow!("{origin}: `{field}` is not valid CEL: {e}"))
        };
        let when = spec.when.as_deref().map(|w| strict("when", w)).transpose()?;
        let group = match &spec.group {
            Some(g) => Some((cel("group.by", &g.by)?, cel("group.collect", &g.collect)?)),
            None => None,
        };
        let label = spec.each.as_ref().map(|e| cel("each.label", &e.label)).transpose()?;
        let mut when_names = HashSet::new();
        if let Some(when) = &spec.when {
            collect_names(when, &mut when_names);
        }
        let mut names = HashSet::new();
        let mut sources: Vec<&str> = Vec::new();
        sources.extend(spec.when.as_deref());
        sources.extend(spec.each.as_ref().map(|e| e.path.as_str()));
        if let Some(g) = &spec.group {
            sources.extend([g.by.as_str(), g.collect.as_str()]);
        }
        sources.iter().for_each(|s| collect_names(s, &mut names));
        let mut checks = Vec::new();
        for (i, c) in spec.checks.iter().enumerate() {
            let mut check_names = names.clone();
            collect_names(&c.check, &mut check_names);
            checks.push(CompiledCheck {
                check: strict(&format!("checks[{i}].check"), &c.check)?,
                locations: c.location.paths().to_vec(),
                message: parse_message(&c.message).with_context(|| format!("{origin}: `checks[{i}].message`"))?,
                names: check_names,
            });
        }
        let meta = RuleMeta {
            id: spec.id.clone(),
            title: spec.title.clone(),
            severity: spec.severity,
            charter: spec.charter.clone(),
            help: spec.help.clone(),
            sources: spec.sources.clone(),
        };
        Ok(CompiledRule { meta, spec, when, group, label, checks, names, when_names })
    }

    pub fn severity(&self) -> Severity {
        self.meta.severity
    }

    /// Whether the rule judges resources of this type.
    pub fn applies_to_type(&self, rtype: &str) -> bool {
        self.spec.resource_types.iter().any(|pattern| match pattern.strip_suffix('*') {
            Some(prefix) => rtype.starts_with(prefix),
            None => pattern == rtype,
        })
    }
}

fn validate(spec: &RuleSpec, origin: &str) -> Result<()> {
    let id_ok = spec.id.len() >= 5
        && spec.id.split_once('-').is_some_and(|(a, n)| {
            a.starts_with(|c: char| c.is_ascii_uppercase())
                && a.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && !n.is_empty()
                && n.chars().all(|c| c.is_ascii_digit())
        });
    if !id_ok {
        bail!("{origin}: id `{}` is not of the form ABC-123", spec.id);
    }
    for (field, empty) in [
        ("title", spec.title.trim().is_empty()),
        ("charter", spec.charter.trim().is_empty()),
        ("help", spec.help.trim().is_empty()),
        ("sources", spec.sources.is_empty()),
        ("resource_types", spec.resource_types.is_empty()),
    ] {
        if empty {
            bail!("{origin}: `{field}` must not be empty");
        }
    }
    if spec.checks.is_empty() {
        bail!("{origin}: `checks` must hold at least one check");
    }
    for path in spec.checks.iter().flat_map(|c| c.location.paths()) {
        let root = path.split('.').next().unwrap_or("");
        if root != "resource" && !(root == "item" && spec.each.is_some()) {
            bail!("{origin}: location `{path}` must start with `resource`{}", if spec.each.is_some() { " or `item`" } else { "" });
        }
    }
    Ok(())
}

/// Splits `text {{ expr }} text` into parts.
fn parse_message(message: &str) -> Result<Vec<MessagePart>> {
    let mut parts = Vec::new();
    let mut rest = message;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..].find("}}").ok_or_else(|| anyhow!("unclosed `{{{{`"))? + start;
        if start > 0 {
            parts.push(MessagePart::Text(rest[..start].to_string()));
        }
        let source = rest[start + 2..end].trim();
        parts.push(MessagePart::Expr(Program::compile(source).map_err(|e| anyhow!("placeholder `{source}` is not valid CEL: {e}"))?));
        rest = &rest[end + 2..];
    }
    if !rest.is_empty() {
        parts.push(MessagePart::Text(rest.to_string()));
    }
    Ok(parts)
}

/// Identifiers and words inside string literals, lower-cased.
fn collect_names(source: &str, names: &mut HashSet<String>) {
    for word in source.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')) {
        if !word.is_empty() {
            names.insert(word.to_lowercase());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_include_string_paths() {
        let mut names = HashSet::new();
        collect_names(r#"get(resource, "versioning.enabled") == true"#, &mut names);
        assert!(names.contains("versioning") && names.contains("enabled") && names.contains("resource"));
    }

    #[test]
    fn message_placeholders() {
        let parts = parse_message("uses {{ resource.x }} here").unwrap();
        assert_eq!(parts.len(), 3);
        assert!(parse_message("broken {{ x").is_err());
    }

    #[test]
    fn catalogue_ids_may_have_digits_after_the_first_letter() {
        let spec = |id: &str| -> RuleSpec {
            serde_yaml_like(&format!("id: {id}\ntitle: t\nseverity: note\ncharter: c\nhelp: h\nsources: [k8s]\nresource_types: [Pod]\nchecks:\n  - check: 'true'\n    location: resource\n    message: m\n"))
        };
        assert!(validate(&spec("K8S-001"), "K8S-001.yaml").is_ok());
        assert!(validate(&spec("ENC-001"), "ENC-001.yaml").is_ok());
        assert!(validate(&spec("8KS-001"), "8KS-001.yaml").is_err());
        assert!(validate(&spec("k8s-001"), "k8s-001.yaml").is_err());
    }

    fn serde_yaml_like(text: &str) -> RuleSpec {
        let documents = crate::yaml::load(&"t.yaml".into(), text, &crate::yaml::Limits::default()).unwrap();
        serde_json::from_value(documents[0].root.to_json()).unwrap()
    }
}
