//! Keeping secret values out of every report.
//!
//! Two places print what a scan read: code frames, which quote the scanned files, and the
//! text of findings and diagnostics (messages rendered from a rule's `{{ }}` placeholders,
//! undecided reasons, addresses, item labels). Both are decided here, structurally, for every
//! reporter:
//!
//! - [`Source`] is a file as frames may show it. What is a secret is decided from the file:
//!   its syntax tree when it parses (YAML and JSON through [`crate::yaml`], HCL through
//!   hcl-edit; see [`tree`] and [`hcl`]), a line-by-line reading for what does not (Helm
//!   templates; see [`lexical`]), and the values a secret rule's finding points at. Each
//!   secret value is replaced by [`REDACTED`]; keys stay readable.
//! - [`findings`] scrubs the secret values of each finding's resource (the model decides, by
//!   the same walk as files) out of the finding's text, and the scan's out of diagnostics.
//!
//! What counts as a secret is what the secret rules judge (SEC-002's names and value shapes,
//! SEC-004's secret variables) plus what the sources say outright: a Kubernetes Secret's data,
//! Terraform's `sensitive` marks.

mod frame;
mod hcl;
mod lexical;
mod tree;

pub use frame::Source;

use crate::engine::Finding;
use crate::model::{Diagnostic, Span, Stored};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};

/// What a report prints instead of a secret value.
pub const REDACTED: &str = "<redacted>";

/// Values shorter than this are hidden where they are written, but not searched for in free
/// text, where they would blot out ordinary words.
const MIN_SCRUBBED: usize = 6;

/// The rules whose findings point at a literal secret value: whatever their span covers is
/// hidden too, even where the file's own reading would not find a secret.
const VALUE_RULES: &[&str] = &["SEC-002", "SEC-003", "SEC-004"];

/// A value written in a file: the key it is under, where it is, its literal texts and
/// whether it is a secret.
struct Written {
    key: String,
    span: Span,
    texts: Vec<String>,
    secret: bool,
}

/// A byte range of one (1-based) line to hide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Mask {
    line: usize,
    start: usize,
    end: usize,
}

/// The findings that point at secret values, by file.
pub fn flagged(findings: &[Finding]) -> HashMap<&str, Vec<&Finding>> {
    let mut flagged: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in findings.iter().filter(|f| VALUE_RULES.contains(&f.rule_id.as_str())) {
        flagged.entry(&*f.span.file).or_default().push(f);
    }
    flagged
}

/// Scrubs secret values out of the text of findings and diagnostics: each finding's message,
/// address, item, attribute and suppression reason of its own resource's secrets (a message
/// quotes the resource it is about), the diagnostics of every such resource's. A resource's
/// secrets are what the model holds and, for a resource loaded from a file as a whole (a
/// plan: its join scope), what that file says is secret (`sensitive_values`). `read` reads a
/// file by the name reports show.
pub fn findings(findings: &mut [Finding], diagnostics: &mut [Diagnostic], resources: &[Stored], read: &(dyn Fn(&str) -> Option<String> + Sync)) {
    let addresses: HashSet<&str> = findings.iter().map(|f| f.address.as_str()).collect();
    let judged: Vec<&Stored> = resources.iter().filter(|r| addresses.contains(r.address())).collect();
    let scopes: HashSet<&str> = judged.iter().filter_map(|r| r.join_scope()).collect();
    let scope_secrets: HashMap<&str, Vec<String>> = scopes.into_par_iter().filter_map(|scope| Some((scope, file_secrets(scope, &read(scope)?)))).collect();
    let found: Vec<(String, Vec<String>)> = judged
        .par_iter()
        .map(|r| {
            let mut values = tree::secret_values(r.rtype(), &r.attrs());
            values.extend(r.join_scope().and_then(|scope| scope_secrets.get(scope)).into_iter().flatten().cloned());
            (r.address().to_string(), values)
        })
        .filter(|(_, values)| !values.is_empty())
        .collect();
    let mut by_address: HashMap<String, Vec<String>> = HashMap::new();
    for (address, values) in found {
        by_address.entry(address).or_default().extend(values);
    }
    let everything = Scrubber::new(by_address.values().flatten().cloned());
    let by_address: HashMap<String, Scrubber> = by_address.into_iter().map(|(address, values)| (address, Scrubber::new(values))).collect();
    for f in findings.iter_mut() {
        if let Some(scrubber) = by_address.get(&f.address) {
            scrubber.finding(f);
        }
    }
    for d in diagnostics {
        everything.scrub(&mut d.message);
    }
}

/// The secret texts a file holds, as frames of it hide them.
fn file_secrets(file: &str, text: &str) -> Vec<String> {
    let mut texts = lexical::scan(text).texts;
    texts.extend(frame::written(file, text).into_iter().filter(|w| w.secret).flat_map(|w| w.texts));
    texts
}

/// Secret values to blot out of free text, longest first (a value holding another is
/// replaced whole).
#[derive(Default)]
struct Scrubber {
    values: Vec<String>,
}

impl Scrubber {
    fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut values: Vec<String> = values.into_iter().map(|v| v.trim().to_string()).filter(|v| v.chars().count() >= MIN_SCRUBBED).collect();
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        Scrubber { values }
    }

    /// Where the values are in `text`, as byte ranges (they may overlap).
    fn ranges<'t>(&'t self, text: &'t str) -> impl Iterator<Item = (usize, usize)> + 't {
        self.values.iter().flat_map(move |v| text.match_indices(v.as_str()).map(|(at, found)| (at, at + found.len())))
    }

    fn scrub(&self, text: &mut String) {
        for value in &self.values {
            if text.contains(value.as_str()) {
                *text = text.replace(value.as_str(), REDACTED);
            }
        }
    }

    fn finding(&self, f: &mut Finding) {
        self.scrub(&mut f.message);
        self.scrub(&mut f.address);
        self.scrub(&mut f.attribute);
        if let Some(item) = &mut f.item {
            self.scrub(item);
        }
        if let Some(suppression) = &mut f.suppression {
            self.scrub(&mut suppression.reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Outcome;
    use crate::model::{Model, Node, Resource, SourceKind, Store, Value};
    use crate::rules::Severity;

    fn finding(address: &str, message: &str) -> Finding {
        Finding {
            rule_id: "TST-001".into(),
            severity: Severity::Error,
            outcome: Outcome::Violation,
            message: message.into(),
            source: SourceKind::Tf,
            address: address.into(),
            rtype: "aws_db_instance".into(),
            item: None,
            attribute: "password".into(),
            span: Span::new("main.tf".into(), 1, 1, 1, 1),
            template: None,
            call_chain: vec![],
            suppression: None,
            baseline: None,
            live: None,
        }
    }

    fn db(address: &str, password: &str) -> Resource {
        let attrs = Node::map(vec![("password".into(), Node::new(Value::Str(password.into()), None))], None);
        Resource::terraform("aws_db_instance".into(), address.into(), Span::new("main.tf".into(), 1, 1, 1, 1), attrs, vec![])
    }

    #[test]
    fn a_finding_never_repeats_a_secret_of_its_resource() {
        let store: Store =
            Model { resources: vec![db("aws_db_instance.a", "hunter2-planted"), db("aws_db_instance.b", "shown-elsewhere")], ..Model::default() }.into();
        let mut findings = [
            finding("aws_db_instance.a", "aws_db_instance.a: password is hunter2-planted (hunter2-planted)"),
            finding("aws_db_instance.c", "aws_db_instance.c: compares with shown-elsewhere"),
        ];
        let mut diagnostics = [Diagnostic::error("main.tf", None, "cannot convert \"hunter2-planted\"")];
        super::findings(&mut findings, &mut diagnostics, &store.resources, &|_| None);
        assert_eq!(findings[0].message, "aws_db_instance.a: password is <redacted> (<redacted>)");
        assert_eq!(findings[1].message, "aws_db_instance.c: compares with shown-elsewhere", "only a finding's own resource is searched");
        assert_eq!(diagnostics[0].message, "cannot convert \"<redacted>\"");
    }

    #[test]
    fn a_plan_says_which_values_of_its_resources_are_sensitive() {
        let attrs = Node::map(
            vec![
                ("name".into(), Node::new(Value::Str("/app/blob".into()), None)),
                ("value".into(), Node::new(Value::Str("plan-sensitive-value".into()), None)),
            ],
            None,
        );
        let mut parameter =
            Resource::terraform("aws_ssm_parameter".into(), "aws_ssm_parameter.p".into(), Span::new("plan.json".into(), 1, 1, 1, 1), attrs, vec![]);
        parameter.join_scope = Some("plan.json".into());
        let store: Store = Model { resources: vec![parameter], ..Model::default() }.into();
        let plan = r#"{"format_version": "1.2", "planned_values": {"root_module": {"resources": [
            {"address": "aws_ssm_parameter.p", "values": {"name": "/app/blob", "value": "plan-sensitive-value"}, "sensitive_values": {"value": true}}]}}}"#;
        let read = |file: &str| (file == "plan.json").then(|| plan.to_string());
        let mut findings = [finding("aws_ssm_parameter.p", "aws_ssm_parameter.p: value plan-sensitive-value")];
        super::findings(&mut findings, &mut [], &store.resources, &read);
        assert_eq!(findings[0].message, "aws_ssm_parameter.p: value <redacted>");
    }

    #[test]
    fn short_values_are_not_searched_for_and_longer_ones_win() {
        let scrubber = Scrubber::new(["abc".to_string(), "token-1".to_string(), "token-1-long".to_string()]);
        let mut text = "abc token-1-long token-1".to_string();
        scrubber.scrub(&mut text);
        assert_eq!(text, "abc <redacted> <redacted>");
    }
}
