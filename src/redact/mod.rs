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
pub mod vocabulary;

pub use frame::Source;

use crate::model::Finding;
use crate::model::{Diagnostic, Span, Stored};
use rayon::prelude::*;
use regex::Regex;
use std::collections::{HashMap, HashSet};
use vocabulary::Vocabulary;

/// What a report prints instead of a secret value.
pub const REDACTED: &str = "<redacted>";

/// Whether a secret value is searched for in free text (messages, and frames beyond where it
/// is written): not when it would blot out ordinary words and numbers (a secret variable
/// whose default is `default`), so not below six characters, not digits alone, and not a
/// plain word of letters shorter than sixteen. Such values are still hidden where they are
/// written.
fn searchable(value: &str) -> bool {
    let length = value.chars().count();
    length >= 6 && !value.chars().all(|c| c.is_ascii_digit()) && (length >= 16 || !value.chars().all(char::is_alphabetic))
}

/// The rules whose findings point at a literal secret value: whatever their span covers is
/// hidden too, even where the file's own reading would not find a secret.
const VALUE_RULES: &[&str] = &["SEC-002", "SEC-003", "SEC-004"];

/// Whether a key and its value are a secret: SEC-002's test, except that an identifier
/// (`key_id`, `kmsKeyArn`: a high-entropy value under a key-like name) is one only when its
/// value has a credential's shape. Reports name resources by such ids.
fn is_secret(vocabulary: &Vocabulary, name: &str, value: &str) -> bool {
    vocabulary.looks_secret(name, value) && (!names_an_identifier(name) || vocabulary.looks_secret("", value))
}

fn names_an_identifier(name: &str) -> bool {
    let last = name.rsplit(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or(name);
    let last = last.rfind(|c: char| c.is_ascii_uppercase()).map_or(last, |at| &last[at..]);
    matches!(last.to_ascii_lowercase().as_str(), "id" | "ids" | "arn" | "arns")
}

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
/// quotes the resource it is about) and of every secret variable's (whose value may flow into
/// any resource), the diagnostics of all of them. A resource's secrets are what the model
/// holds and, for a resource loaded from a file as a whole (a plan: its join scope), what
/// that file says is secret (`sensitive_values`). `read` reads a file by the name reports
/// show; `vocabulary` says what a secret is.
pub fn findings(
    findings: &mut [Finding],
    diagnostics: &mut [Diagnostic],
    resources: &[Stored],
    read: &(dyn Fn(&str) -> Option<String> + Sync),
    vocabulary: &Vocabulary,
) {
    let variables: Vec<String> =
        resources.par_iter().filter(|r| r.rtype() == "variable").flat_map_iter(|r| tree::secret_values(r.rtype(), &r.attrs(), vocabulary)).collect();
    let by_address = own_secrets(findings, resources, read, vocabulary);
    let everything = Scrubber::new(variables.iter().chain(by_address.values().flatten()).cloned());
    let variables = Scrubber::new(variables);
    let by_address: HashMap<String, Scrubber> = by_address.into_iter().map(|(address, values)| (address, Scrubber::new(values))).collect();
    for f in findings.iter_mut() {
        variables.finding(f);
        if let Some(scrubber) = by_address.get(&f.address) {
            scrubber.finding(f);
        }
    }
    for d in diagnostics {
        everything.scrub(&mut d.message);
    }
}

/// The secrets of the resources findings are about, by address.
fn own_secrets(
    findings: &[Finding],
    resources: &[Stored],
    read: &(dyn Fn(&str) -> Option<String> + Sync),
    vocabulary: &Vocabulary,
) -> HashMap<String, Vec<String>> {
    let addresses: HashSet<&str> = findings.iter().map(|f| f.address.as_str()).collect();
    let judged: Vec<&Stored> = resources.iter().filter(|r| addresses.contains(r.address())).collect();
    let scopes: HashSet<&str> = judged.iter().filter_map(|r| r.join_scope()).collect();
    let scope_secrets: HashMap<&str, Vec<String>> =
        scopes.into_par_iter().filter_map(|scope| Some((scope, file_secrets(scope, &read(scope)?, vocabulary)))).collect();
    let found: Vec<(String, Vec<String>)> = judged
        .par_iter()
        .map(|r| {
            let mut values = tree::secret_values(r.rtype(), &r.attrs(), vocabulary);
            values.extend(r.join_scope().and_then(|scope| scope_secrets.get(scope)).into_iter().flatten().cloned());
            (r.address().to_string(), values)
        })
        .filter(|(_, values)| !values.is_empty())
        .collect();
    let mut by_address: HashMap<String, Vec<String>> = HashMap::new();
    for (address, values) in found {
        by_address.entry(address).or_default().extend(values);
    }
    by_address
}

/// The secret texts a file holds, as frames of it hide them.
fn file_secrets(file: &str, text: &str, vocabulary: &Vocabulary) -> Vec<String> {
    let mut texts = lexical::scan(text, vocabulary).texts;
    texts.extend(frame::written(file, text, vocabulary).into_iter().filter(|w| w.secret).flat_map(|w| w.texts));
    texts
}

/// Secret values to blot out of free text, longest first (a value holding another is
/// replaced whole). A value with whitespace inside is found with any whitespace between its
/// words: messages are printed on one line.
#[derive(Default)]
struct Scrubber {
    values: Vec<String>,
    spread: Vec<Regex>,
}

impl Scrubber {
    fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut values: Vec<String> = values.into_iter().map(|v| v.trim().to_string()).filter(|v| searchable(v)).collect();
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        let (spread, values): (Vec<String>, Vec<String>) = values.into_iter().partition(|v| v.contains(char::is_whitespace));
        let spread =
            spread.iter().map(|v| v.split_whitespace().map(regex::escape).collect::<Vec<_>>().join(r"\s+")).filter_map(|p| Regex::new(&p).ok()).collect();
        Scrubber { values, spread }
    }

    /// Where the values are in `text`, as byte ranges (they may overlap).
    fn ranges<'t>(&'t self, text: &'t str) -> impl Iterator<Item = (usize, usize)> + 't {
        let spread = self.spread.iter().flat_map(move |re| re.find_iter(text).map(|m| (m.start(), m.end())));
        self.values.iter().flat_map(move |v| text.match_indices(v.as_str()).map(|(at, found)| (at, at + found.len()))).chain(spread)
    }

    fn scrub(&self, text: &mut String) {
        for re in &self.spread {
            if let std::borrow::Cow::Owned(replaced) = re.replace_all(text, REDACTED) {
                *text = replaced;
            }
        }
        for value in &self.values {
            if text.contains(value.as_str()) {
                *text = text.replace(value.as_str(), REDACTED);
            }
        }
    }

    /// A finding's text. Its address is an identity (suppressions, baselines and code
    /// scanning key on it): only its instance keys (`aws_s3_bucket.b["..."]`) hold values, so
    /// only they are searched, there and where the message names the resource.
    fn finding(&self, f: &mut Finding) {
        let subject = format!("{}: ", f.subject());
        let text = f.message.strip_prefix(&subject).map(str::to_string);
        self.scrub_keys(&mut f.address);
        self.scrub(&mut f.attribute);
        if let Some(item) = &mut f.item {
            self.scrub(item);
        }
        match text {
            Some(mut text) => {
                self.scrub(&mut text);
                f.message = format!("{}: {text}", f.subject());
            }
            None => self.scrub(&mut f.message),
        }
        if let Some(suppression) = &mut f.suppression {
            self.scrub(&mut suppression.reason);
        }
    }

    /// The parts of an address between brackets, scrubbed.
    fn scrub_keys(&self, address: &mut String) {
        let mut out = String::with_capacity(address.len());
        let mut inside = false;
        for part in address.split_inclusive(['[', ']']) {
            let mut part = part.to_string();
            let opens = part.ends_with('[');
            if inside {
                self.scrub(&mut part);
            }
            inside = opens;
            out.push_str(&part);
        }
        *address = out;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Outcome;
    use crate::model::Severity;
    use crate::model::{Model, Node, Resource, SourceKind, Store, Value};

    fn finding(address: &str, message: &str) -> Finding {
        Finding {
            rule_id: "TST-001".into(),
            severity: Severity::Error,
            rule_severity: Severity::Error,
            outcome: Outcome::Violation,
            message: message.into(),
            source: SourceKind::Tf,
            address: address.into(),
            rtype: "aws_db_instance".into(),
            item: None,
            attribute: "password".into(),
            span: Span::new("main.tf".into(), 1, 1, 1, 1),
            template: None,
            render: None,
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
        super::findings(&mut findings, &mut diagnostics, &store.resources, &|_| None, Vocabulary::charter());
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
        super::findings(&mut findings, &mut [], &store.resources, &read, Vocabulary::charter());
        assert_eq!(findings[0].message, "aws_ssm_parameter.p: value <redacted>");
    }

    #[test]
    fn identifiers_are_secrets_only_in_a_credential_s_shape() {
        let uuid = "0f6e1c1a-8a4b-4c5e-9d2a-3b7c8d9e0f1a";
        assert!(Vocabulary::charter().looks_secret("key_id", uuid), "SEC-002 would flag it");
        for name in ["key_id", "kms_key_id", "KeyId", "signing_key_arn", "key-ids"] {
            assert!(!is_secret(Vocabulary::charter(), name, uuid), "{name}");
        }
        assert!(
            is_secret(Vocabulary::charter(), "access_key_id", "AKIAIOSFODNN7EXAMPLE")
                && is_secret(Vocabulary::charter(), "signing_key", uuid)
                && is_secret(Vocabulary::charter(), "DB_PASSWORD", "hunter2")
        );
    }

    #[test]
    fn ordinary_words_are_not_searched_for_and_longer_values_win() {
        let values = ["abc", "default", "123456789012", "token-1", "token-1-long", "correcthorsebatterystaple"];
        let scrubber = Scrubber::new(values.map(String::from));
        let mut text = "abc default 123456789012 token-1-long token-1 correcthorsebatterystaple".to_string();
        scrubber.scrub(&mut text);
        assert_eq!(text, "abc default 123456789012 <redacted> <redacted> <redacted>");
    }

    #[test]
    fn values_spanning_lines_are_found_on_one() {
        let scrubber = Scrubber::new(["-----BEGIN KEY-----\nMIIEbody\n-----END KEY-----\n".to_string()]);
        let mut text = "tls.key: -----BEGIN KEY----- MIIEbody -----END KEY----- }".to_string();
        scrubber.scrub(&mut text);
        assert_eq!(text, "tls.key: <redacted> }");
    }

    #[test]
    fn addresses_keep_their_names_but_not_their_secret_keys() {
        let store: Store = Model { resources: vec![db("aws_db_instance.client_secret[\"client_secret\"]", "client_secret")], ..Model::default() }.into();
        let address = "aws_db_instance.client_secret[\"client_secret\"]";
        let mut findings = [finding(address, &format!("{address}: password client_secret is a literal"))];
        super::findings(&mut findings, &mut [], &store.resources, &|_| None, Vocabulary::charter());
        assert_eq!(findings[0].address, "aws_db_instance.client_secret[\"<redacted>\"]");
        assert_eq!(findings[0].message, "aws_db_instance.client_secret[\"<redacted>\"]: password <redacted> is a literal");
    }

    #[test]
    fn a_secret_variable_is_scrubbed_wherever_its_value_went() {
        let name = |n: &str| Node::new(Value::Str(n.into()), None);
        let variable = Node::map(vec![("name".into(), name("slack_token")), ("default".into(), name("xoxb-flows-on"))], None);
        let variable = Resource::terraform("variable".into(), "var.slack_token".into(), Span::new("main.tf".into(), 1, 1, 1, 1), variable, vec![]);
        let store: Store = Model { resources: vec![variable, db("aws_db_instance.a", "unrelated")], ..Model::default() }.into();
        let mut findings = [finding("aws_db_instance.a", "aws_db_instance.a: tags {note: xoxb-flows-on}")];
        super::findings(&mut findings, &mut [], &store.resources, &|_| None, Vocabulary::charter());
        assert_eq!(findings[0].message, "aws_db_instance.a: tags {note: <redacted>}");
    }
}
