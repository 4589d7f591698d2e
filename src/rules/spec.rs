//! The shape of a rule file. Unknown keys are an error, so a typo never disables a check.

use super::Severity;
use crate::model::SourceKind;
use serde::Deserialize;

/// One rule file (`rules/ENC-001.yaml`). Expressions are CEL (<https://cel.dev>).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Catalogue id, e.g. `ENC-001`; the file name must match.
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// The sentence of the charter this rule enforces.
    pub charter: String,
    /// Markdown help: why, and how to fix (with a snippet).
    pub help: String,
    /// Inputs the rule judges: `tf`, `k8s`, `aws`, `eks`.
    pub sources: Vec<SourceKind>,
    /// Resource types (Terraform types or Kubernetes kinds) it applies to; a trailing `*`
    /// matches a prefix (`aws_*`).
    pub resource_types: Vec<String>,
    /// CEL: the rule only applies where this is true.
    #[serde(default)]
    pub when: Option<String>,
    /// Named CEL expressions the rule's `when`, checks and messages read as
    /// `variables.NAME` (as in a Kubernetes ValidatingAdmissionPolicy): each is written once
    /// and evaluated at most once per resource (per item with `each`), only when read. A
    /// variable may read the variables before it.
    #[serde(default)]
    pub variables: Vec<Variable>,
    /// A dotted attribute path to a list (e.g. `containers`): the check runs once per
    /// element, bound to `item`.
    #[serde(default)]
    pub each: Option<Each>,
    /// Cross-resource rules: resources with the same `by` value form a group, and the check
    /// sees the `collect` values of every member of its group as `group`.
    #[serde(default)]
    pub group: Option<Group>,
    /// What must hold. Each check that fails gives its own finding, pointing at its own
    /// attribute.
    pub checks: Vec<Check>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Each {
    /// Dotted path to the list.
    pub path: String,
    /// CEL naming the element in messages, e.g. `'container ' + item.name`.
    pub label: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// CEL: the grouping key (a string), e.g. the KMS key a bucket uses.
    pub by: String,
    /// CEL: the value each member contributes to `group`.
    pub collect: String,
}

/// A named expression of a rule.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    pub name: String,
    pub expression: String,
}

/// One condition of a rule.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// CEL: the check only applies where this is true (the rule's `when` holding already).
    #[serde(default)]
    pub when: Option<String>,
    /// CEL: true when the resource (or `item`) complies.
    pub check: String,
    /// Dotted path(s) from `resource` or `item` of the attribute a finding points at. The
    /// first that exists is used (`*` matches any list element); when none exists, the
    /// closest enclosing block of the first.
    pub location: Locations,
    /// What is wrong, after the resource's name. `{{ cel }}` placeholders are evaluated.
    pub message: String,
}

/// One path or several, in order of preference.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Locations {
    One(String),
    Many(Vec<String>),
}

impl RuleSpec {
    /// Whether the rule judges resources of this type (`resource_types`, a trailing `*` a prefix).
    pub fn applies_to_type(&self, rtype: &str) -> bool {
        self.resource_types.iter().any(|pattern| match pattern.strip_suffix('*') {
            Some(prefix) => rtype.starts_with(prefix),
            None => pattern == rtype,
        })
    }
}

impl Locations {
    pub fn paths(&self) -> &[String] {
        match self {
            Locations::One(path) => std::slice::from_ref(path),
            Locations::Many(paths) => paths,
        }
    }
}
