//! Rule files compiled once: CEL programs parsed, names read collected, types matched.

use super::program::Program;
use super::references::{is_standard, References, Within};
use super::strict::StrictProgram;
use crate::model::Severity;
use crate::rules::{RuleMeta, RuleSpec};
use anyhow::{anyhow, Result};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

/// A rule ready to run.
pub struct CompiledRule {
    pub meta: RuleMeta,
    pub spec: RuleSpec,
    pub when: Option<StrictProgram>,
    /// The variables `when` reads (indexes into `variables`, in order of definition).
    pub when_variables: Vec<usize>,
    /// Shared with every evaluation's values of them.
    pub variables: Arc<[CompiledVariable]>,
    pub group: Option<(Program, Program)>,
    pub label: Option<Program>,
    pub checks: Vec<CompiledCheck>,
    /// Names that `when`, `each` and `group` mention (lower case).
    pub names: HashSet<String>,
    /// Names that `when` alone mentions: whether a rule applies depends only on those.
    pub when_names: HashSet<String>,
    /// What `when` reads, and how (empty without one).
    pub when_references: References,
    /// The kinds of Kubernetes objects the rule looks up with `objects(...)`, and where.
    pub looked_up: BTreeMap<String, BTreeSet<Within>>,
}

/// One named expression of a rule.
#[derive(Debug)]
pub struct CompiledVariable {
    pub name: String,
    pub program: StrictProgram,
    /// It reads `item` or `group`, which the rule's `when` runs before.
    per_item: bool,
}

/// One check of a rule.
pub struct CompiledCheck {
    pub when: Option<StrictProgram>,
    pub check: StrictProgram,
    pub locations: Vec<String>,
    /// Message text split into literal text and `{{ cel }}` placeholders.
    pub message: Vec<MessagePart>,
    /// The variables the check, its `when` and its message read, with those they read in
    /// turn (indexes, in order of definition: each can be evaluated after the ones before).
    pub variables: Vec<usize>,
    /// Every name the check and the rule's shared expressions mention (lower case): a check
    /// reads an unknown attribute only if all of its path's names are among them.
    pub names: HashSet<String>,
}

pub enum MessagePart {
    Text(String),
    Expr(Program),
}

/// A rule file that cannot be compiled: what is wrong, and the field where (`checks[2].check`)
/// when it is one field.
#[derive(Debug)]
pub struct RuleError {
    pub field: Option<String>,
    pub message: String,
}

impl RuleError {
    fn at(field: &str, message: String) -> Self {
        RuleError { field: Some(field.to_string()), message: format!("`{field}` {message}") }
    }
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What the expressions of one rule may read and call.
struct Scope<'r> {
    defined: Vec<&'r str>,
    has_item: bool,
    has_group: bool,
    /// The kinds the expressions checked so far look up, and where.
    looked_up: std::cell::RefCell<BTreeMap<String, BTreeSet<Within>>>,
}

impl Scope<'_> {
    /// Parses `source` (the rule's `field`) and refuses a call of a function that is neither
    /// a helper nor CEL's, a name the rule does not bind, and a variable not defined before
    /// `visible` of them. Returns the variables it reads.
    fn check(&self, field: &str, program: &Program, visible: usize, names: &[&str]) -> Result<BTreeSet<usize>, RuleError> {
        let found = References::of(program.expression());
        if let Some(unknown) = found.functions.iter().find(|f| !super::functions::helper_names().contains(f.as_str()) && !is_standard(f)) {
            return Err(RuleError::at(field, format!("calls `{unknown}`, which is neither a helper (docs/helpers.md lists them) nor a CEL function")));
        }
        if found.computed_kind {
            let why = "`audit k8s` and `admission` list and watch the kinds rules look up by name";
            return Err(RuleError::at(field, format!("calls `objects` with a kind that is not a string literal: {why}")));
        }
        let mut looked_up = self.looked_up.borrow_mut();
        for (kind, within) in &found.looked_up {
            looked_up.entry(kind.clone()).or_default().extend(within.iter().cloned());
        }
        let read: BTreeSet<usize> = found
            .variables()
            .map(|name| match self.defined.iter().position(|d| *d == name) {
                Some(i) if i < visible => Ok(i),
                Some(_) if field.starts_with("group") || field.starts_with("each") => {
                    Err(RuleError::at(field, format!("reads `variables.{name}`: `group` and `each.label` run before any variable")))
                }
                Some(_) => Err(RuleError::at(field, format!("reads `variables.{name}`, which is defined after it"))),
                None => Err(RuleError::at(field, format!("reads `variables.{name}`, which the rule does not define"))),
            })
            .collect::<Result<_, _>>()?;
        // `group` and `each.label` run before any variable is bound.
        let mut bound = vec!["resource", "config"];
        if visible > 0 {
            bound.push("variables");
        }
        bound.extend(names);
        if let Some(unknown) = found.names.iter().find(|n| !bound.contains(&n.as_str())) {
            return Err(RuleError::at(field, format!("reads `{unknown}`, which is not defined here (it may read {})", bound.join(", "))));
        }
        Ok(read)
    }

    /// `item` and `group` where the rule binds them.
    fn checks_names(&self) -> Vec<&'static str> {
        [("item", self.has_item), ("group", self.has_group)].into_iter().filter(|(_, bound)| *bound).map(|(name, _)| name).collect()
    }
}

impl CompiledRule {
    /// Compiles a rule file.
    pub fn compile(spec: RuleSpec) -> Result<Self, RuleError> {
        validate(&spec)?;
        let scope = Scope {
            defined: spec.variables.iter().map(|v| v.name.as_str()).collect(),
            has_item: spec.each.is_some(),
            has_group: spec.group.is_some(),
            looked_up: Default::default(),
        };
        let cel = |field: &str, source: &str, names: &[&str]| -> Result<Program, RuleError> {
            let program = parse(field, source)?;
            scope.check(field, &program, 0, names)?;
            Ok(program)
        };
        let checks_names = scope.checks_names();
        // Each variable's own reads, then with what those read: definitions come in order.
        let mut variables = Vec::new();
        let mut reads: Vec<BTreeSet<usize>> = Vec::new();
        for (i, variable) in spec.variables.iter().enumerate() {
            let field = format!("variables[{i}].expression");
            let program = parse(&field, &variable.expression)?;
            let mut direct = scope.check(&field, &program, i, &checks_names)?;
            for j in direct.clone() {
                direct.extend(reads[j].iter().copied());
            }
            reads.push(direct);
            let per_item = References::of(program.expression()).names.iter().any(|n| n == "item" || n == "group");
            variables.push(CompiledVariable { name: variable.name.clone(), program: StrictProgram::of(&program), per_item });
        }
        let closure = |direct: BTreeSet<usize>| -> Vec<usize> {
            let mut all = direct.clone();
            direct.iter().for_each(|&i| all.extend(reads[i].iter().copied()));
            all.into_iter().collect()
        };
        let (when, when_variables, when_references) = match spec.when.as_deref() {
            Some(w) => {
                let program = parse("when", w)?;
                let read = closure(scope.check("when", &program, spec.variables.len(), &[])?);
                (Some(StrictProgram::of(&program)), read, References::of(program.expression()))
            }
            None => (None, Vec::new(), References::default()),
        };
        // The rule's `when` runs once per resource, before any item or group is bound.
        if let Some(variable) = when_variables.iter().map(|&v| &variables[v]).find(|v| v.per_item) {
            return Err(RuleError::at(
                "when",
                format!("reads `variables.{}`, which reads `item` or `group`: the rule's `when` runs before them", variable.name),
            ));
        }
        let group = match &spec.group {
            Some(g) => Some((cel("group.by", &g.by, &[])?, cel("group.collect", &g.collect, &[])?)),
            None => None,
        };
        let label = spec.each.as_ref().map(|e| cel("each.label", &e.label, &["item"])).transpose()?;
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
            let field = |part: &str| format!("checks[{i}].{part}");
            let visible = spec.variables.len();
            let check = parse(&field("check"), &c.check)?;
            let mut read = scope.check(&field("check"), &check, visible, &checks_names)?;
            let when = c.when.as_deref().map(|w| parse(&field("when"), w)).transpose()?;
            if let Some(when) = &when {
                read.extend(scope.check(&field("when"), when, visible, &checks_names)?);
            }
            let message = parse_message(&c.message).map_err(|e| RuleError::at(&field("message"), format!("{e:#}")))?;
            for part in &message {
                if let MessagePart::Expr(program) = part {
                    read.extend(scope.check(&field("message"), program, visible, &checks_names)?);
                }
            }
            let read = closure(read);
            let mut check_names = names.clone();
            collect_names(&c.check, &mut check_names);
            c.when.iter().for_each(|w| collect_names(w, &mut check_names));
            read.iter().for_each(|&v| collect_names(&spec.variables[v].expression, &mut check_names));
            checks.push(CompiledCheck {
                when: when.as_ref().map(StrictProgram::of),
                check: StrictProgram::of(&check),
                locations: c.location.paths().to_vec(),
                message,
                variables: read,
                names: check_names,
            });
        }
        let looked_up = scope.looked_up.into_inner();
        Ok(CompiledRule {
            meta: RuleMeta::of(&spec),
            spec,
            when,
            when_variables,
            variables: variables.into(),
            group,
            label,
            checks,
            names,
            when_names,
            when_references,
            looked_up,
        })
    }

    pub fn severity(&self) -> Severity {
        self.meta.severity
    }

    /// Whether the rule judges resources of this type.
    pub fn applies_to_type(&self, rtype: &str) -> bool {
        self.spec.applies_to_type(rtype)
    }

    /// Whether the rule was loaded [inert](CompiledRule::inert).
    pub fn is_inert(&self) -> bool {
        self.checks.is_empty()
    }

    /// A rule that judges nothing in this run (nothing scanned is of its types), loaded without
    /// compiling its CEL: reports still list it, with its metadata.
    pub fn inert(spec: RuleSpec) -> Self {
        CompiledRule {
            meta: RuleMeta::of(&spec),
            spec,
            when: None,
            when_variables: Vec::new(),
            variables: Arc::from([]),
            group: None,
            label: None,
            checks: Vec::new(),
            names: HashSet::new(),
            when_names: HashSet::new(),
            when_references: References::default(),
            looked_up: BTreeMap::new(),
        }
    }
}

fn validate(spec: &RuleSpec) -> Result<(), RuleError> {
    let id_ok = spec.id.len() >= 5
        && spec.id.split_once('-').is_some_and(|(a, n)| {
            a.starts_with(|c: char| c.is_ascii_uppercase())
                && a.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && !n.is_empty()
                && n.chars().all(|c| c.is_ascii_digit())
        });
    if !id_ok {
        return Err(RuleError::at("id", format!("`{}` is not of the form ABC-123", spec.id)));
    }
    for (field, empty) in [
        ("title", spec.title.trim().is_empty()),
        ("charter", spec.charter.trim().is_empty()),
        ("help", spec.help.trim().is_empty()),
        ("sources", spec.sources.is_empty()),
        ("resource_types", spec.resource_types.is_empty()),
    ] {
        if empty {
            return Err(RuleError::at(field, "must not be empty".into()));
        }
    }
    if spec.checks.is_empty() {
        return Err(RuleError::at("checks", "must hold at least one check".into()));
    }
    for (i, check) in spec.checks.iter().enumerate() {
        for path in check.location.paths() {
            let root = path.split('.').next().unwrap_or("");
            if root != "resource" && !(root == "item" && spec.each.is_some()) {
                let roots = if spec.each.is_some() { "`resource` or `item`" } else { "`resource`" };
                return Err(RuleError::at(&format!("checks[{i}].location"), format!("`{path}` must start with {roots}")));
            }
        }
    }
    for (i, variable) in spec.variables.iter().enumerate() {
        let name_ok = variable.name.starts_with(|c: char| c.is_ascii_lowercase()) && variable.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let twice = spec.variables[..i].iter().any(|v| v.name == variable.name);
        if !name_ok || twice {
            let why = if twice { "is defined twice" } else { "must be a lower-case CEL identifier" };
            return Err(RuleError::at(&format!("variables[{i}].name"), format!("`{}` {why}", variable.name)));
        }
    }
    Ok(())
}

/// Parses one expression of the rule, `field` naming it in errors.
fn parse(field: &str, source: &str) -> Result<Program, RuleError> {
    Program::compile(source).map_err(|e| RuleError::at(field, format!("is not valid CEL: {e}")))
}

/// A piece of a check's message: text, or the source of a `{{ }}` placeholder.
pub(super) enum Piece<'m> {
    Text(&'m str),
    Placeholder(&'m str),
}

/// Splits `text {{ expr }} text` into pieces.
pub(super) fn split_message(message: &str) -> Result<Vec<Piece<'_>>> {
    let mut pieces = Vec::new();
    let mut rest = message;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..].find("}}").ok_or_else(|| anyhow!("unclosed `{{{{`"))? + start;
        if start > 0 {
            pieces.push(Piece::Text(&rest[..start]));
        }
        pieces.push(Piece::Placeholder(rest[start + 2..end].trim()));
        rest = &rest[end + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// A message's pieces, its placeholders parsed.
fn parse_message(message: &str) -> Result<Vec<MessagePart>> {
    split_message(message)?
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => Ok(MessagePart::Text(text.to_string())),
            Piece::Placeholder(source) => Program::compile(source).map(MessagePart::Expr).map_err(|e| anyhow!("placeholder `{source}` is not valid CEL: {e}")),
        })
        .collect()
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
        assert!(validate(&spec("K8S-001")).is_ok());
        assert!(validate(&spec("ENC-001")).is_ok());
        assert!(validate(&spec("8KS-001")).is_err());
        assert!(validate(&spec("k8s-001")).is_err());
    }

    fn serde_yaml_like(text: &str) -> RuleSpec {
        let documents = crate::yaml::load(&"t.yaml".into(), text, &crate::yaml::Limits::default()).unwrap();
        serde_json::from_value(documents[0].root.to_json()).unwrap()
    }
}
