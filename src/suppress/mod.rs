//! Suppressions: findings that a team has accepted, with a reason an auditor can read.
//!
//! Three places say a finding is accepted:
//! - an inline comment `# charterguard:ignore RULE[,RULE] reason="..." [until=YYYY-MM-DD]`
//!   (also `//` and `/* */`) in a scanned file, on the finding's line, or in the run of
//!   comment lines directly above it, or on/above the first line of the finding's resource
//!   (Terraform block, Kubernetes document);
//! - the annotation `charterguard.io/ignore: "RULE[,RULE] reason=... [until=...]"` on a
//!   Kubernetes object;
//! - an entry of `ignores:` in charterguard.yaml ([`crate::config::Ignore`]).
//!
//! Inline comments are found by scanning the raw lines of every file a resource or finding
//! comes from, whatever its format: the Terraform and YAML loaders do not keep comments, and
//! one line scan serves both.
//!
//! A suppression without a reason is an error diagnostic and suppresses nothing; one past its
//! `until` day suppresses nothing and is reported as expired; one that matches no finding is
//! reported as stale. Suppressed findings are kept, marked with [`Suppression`].

mod directive;

pub use crate::model::Date;
pub use directive::{parse as parse_directive, Directive, MARKER};

use crate::config::{Config, Ignore};
use crate::engine::{Finding, Suppression, SuppressionKind};
use crate::model::{Diagnostic, SourceKind, Span, Store, Value};
use globset::{GlobBuilder, GlobMatcher};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// The Kubernetes annotation that suppresses findings of the object it is on.
pub const ANNOTATION: &str = "charterguard.io/ignore";

/// How to apply suppressions.
pub struct Options<'a> {
    /// Suppressions whose `until` is before this day have expired.
    pub today: Date,
    /// `false` for `--no-inline-ignores`: only the config's `ignores` count; comments and
    /// annotations are neither applied nor reported.
    pub inline: bool,
    /// Reads a scanned file's text by the name reports show (`None` when unreadable).
    pub read: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// `Some(n)`: only the first `n` resources of the model were judged (an object at
    /// admission, among the cluster's objects it was judged with): only their annotations
    /// count, and an `ignores:` entry that matched none of their findings is not stale.
    pub judged: Option<usize>,
}

/// A suppression that is valid and in force.
struct Entry {
    kind: SuppressionKind,
    rules: Vec<String>,
    reason: String,
    until: Option<Date>,
    location: Span,
    /// For each of `rules`: did it suppress something?
    used: Vec<bool>,
    /// Central entries only: which files and resources.
    path: Option<GlobMatcher>,
    resource: Option<(String, Option<GlobMatcher>)>,
}

impl Entry {
    /// The index in `rules` of the rule that covers `rule_id`.
    fn rule_index(&self, rule_id: &str) -> Option<usize> {
        self.rules.iter().position(|r| r == "*" || r.eq_ignore_ascii_case(rule_id))
    }

    /// Central entries: do the `path` and `resource` filters admit the finding?
    fn admits(&self, f: &Finding) -> bool {
        let path_ok = self.path.as_ref().is_none_or(|glob| glob.is_match(&*f.span.file) || f.template.as_deref().is_some_and(|t| glob.is_match(t)));
        let resource_ok = self.resource.as_ref().is_none_or(|(literal, glob)| literal == &f.address || glob.as_ref().is_some_and(|g| g.is_match(&f.address)));
        path_ok && resource_ok
    }

    fn suppression(&self) -> Suppression {
        Suppression { kind: self.kind, reason: self.reason.clone(), until: self.until, location: self.location.clone() }
    }
}

/// Inline comments of one file.
#[derive(Default)]
struct FileComments {
    /// Entries written on each line.
    at_line: HashMap<u32, Vec<usize>>,
    /// Lines holding only a comment.
    comment_lines: HashSet<u32>,
}

/// Marks the findings that a suppression covers and returns diagnostics about the
/// suppressions themselves (missing reason, invalid, expired, stale).
pub fn apply(findings: &mut [Finding], model: &Store, config: &Config, options: &Options) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    let mut files: HashMap<Arc<str>, FileComments> = HashMap::new();
    let mut annotations: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut resource_starts: HashMap<&str, Vec<&Span>> = HashMap::new();
    if options.inline {
        files = scan_files(findings, model, options, &mut entries, &mut diagnostics);
        for resource in model.resources.iter().take(options.judged.unwrap_or(usize::MAX)) {
            resource_starts.entry(resource.address()).or_default().push(&resource.span);
            if let Some(index) = annotation(resource, options.today, &mut entries, &mut diagnostics) {
                annotations.entry(resource.address()).or_default().push(index);
            }
        }
    }
    let first_central = entries.len();
    for ignore in &config.ignores {
        central(ignore, config, options.today, &mut entries, &mut diagnostics);
    }

    for f in findings.iter_mut() {
        let mut candidates: Vec<usize> = Vec::new();
        if options.inline {
            let mut places = Vec::new();
            if f.unmanaged_live().is_none() {
                places.push((&f.span.file, f.span.start_line));
                places.extend(resource_starts.get(f.address.as_str()).into_iter().flatten().map(|span| (&span.file, span.start_line)));
            }
            for (file, line) in places {
                if let Some(comments) = files.get(&**file) {
                    candidates.extend(comments.covering(line));
                }
            }
            candidates.extend(annotations.get(f.address.as_str()).into_iter().flatten());
        }
        candidates.extend(first_central..entries.len());
        for index in candidates {
            let entry = &mut entries[index];
            let Some(rule) = entry.rule_index(&f.rule_id) else { continue };
            if entry.kind == SuppressionKind::Central && !entry.admits(f) {
                continue;
            }
            entry.used[rule] = true;
            if f.suppression.is_none() {
                f.suppression = Some(entry.suppression());
            }
        }
    }

    for entry in &entries {
        let stale: Vec<&str> = entry.rules.iter().zip(&entry.used).filter(|(_, used)| !**used).map(|(r, _)| r.as_str()).collect();
        if stale.is_empty() || (options.judged.is_some() && entry.kind == SuppressionKind::Central) {
            continue;
        }
        let what = match entry.kind {
            SuppressionKind::Inline => format!("suppression of {} matches no finding: it is stale, remove it", stale.join(", ")),
            SuppressionKind::Central => format!("ignores entry for rule {} matches no finding: it is stale, remove it", stale.join(", ")),
        };
        diagnostics.push(Diagnostic::note(entry.location.file.to_string(), Some(entry.location.clone()), what));
    }
    diagnostics
}

impl FileComments {
    /// Entries on `line` and in the run of comment lines directly above it.
    fn covering(&self, line: u32) -> Vec<usize> {
        let mut found: Vec<usize> = self.at_line.get(&line).cloned().unwrap_or_default();
        let mut above = line.saturating_sub(1);
        while above >= 1 && self.comment_lines.contains(&above) {
            found.extend(self.at_line.get(&above).into_iter().flatten());
            above -= 1;
        }
        found
    }
}

/// One `charterguard:ignore` comment as found in a file.
struct Raw {
    line: u32,
    column: u32,
    parsed: Result<Directive, String>,
}

/// Reads every file a resource or finding comes from and collects its inline suppressions.
fn scan_files(
    findings: &[Finding],
    model: &Store,
    options: &Options,
    entries: &mut Vec<Entry>,
    diagnostics: &mut Vec<Diagnostic>,
) -> HashMap<Arc<str>, FileComments> {
    // A live resource no code manages points at the audit's anchor file, which holds no
    // inline suppression of it.
    let managed = |r: &&crate::model::Stored| r.live.as_ref().is_none_or(|origin| origin.managed_by.is_some());
    let resources = model.resources.iter().filter(managed).map(|r| r.span.file.clone());
    let names: BTreeSet<Arc<str>> = resources.chain(findings.iter().filter(|f| f.unmanaged_live().is_none()).map(|f| f.span.file.clone())).collect();
    let names: Vec<Arc<str>> = names.into_iter().collect();
    let scanned: Vec<(Arc<str>, Vec<Raw>, HashSet<u32>)> = names
        .par_iter()
        .filter_map(|name| {
            let text = (options.read)(name)?;
            if !text.contains(MARKER) {
                return None;
            }
            let mut raws = Vec::new();
            let mut comment_lines = HashSet::new();
            for (i, line) in text.lines().enumerate() {
                let number = i as u32 + 1;
                if directive::is_comment_line(line) {
                    comment_lines.insert(number);
                }
                if let Some(found) = directive::find(line) {
                    raws.push(Raw { line: number, column: found.column, parsed: directive::parse(found.text) });
                }
            }
            Some((name.clone(), raws, comment_lines))
        })
        .collect();
    let mut files = HashMap::new();
    for (name, raws, comment_lines) in scanned {
        let mut comments = FileComments { comment_lines, ..FileComments::default() };
        for raw in raws {
            let location = Span::new(name.clone(), raw.line, raw.column, raw.line, raw.column + MARKER.len() as u32);
            if let Some(index) = accept(raw.parsed, location, SuppressionKind::Inline, options.today, entries, diagnostics) {
                comments.at_line.entry(raw.line).or_default().push(index);
            }
        }
        files.insert(name, comments);
    }
    files
}

/// The `charterguard.io/ignore` annotation of a Kubernetes object, from a manifest or a live
/// cluster alike.
fn annotation(resource: &crate::model::Stored, today: Date, entries: &mut Vec<Entry>, diagnostics: &mut Vec<Diagnostic>) -> Option<usize> {
    if !matches!(resource.source, SourceKind::K8s | SourceKind::Eks) {
        return None;
    }
    let node = resource.attr(&["metadata", "annotations", ANNOTATION])?;
    let location = node.span.clone().unwrap_or_else(|| resource.span.clone());
    let parsed = match &node.value {
        Value::Str(text) => directive::parse(text),
        _ => Err("the annotation's value must be a string".into()),
    };
    accept(parsed, location, SuppressionKind::Inline, today, entries, diagnostics)
}

/// Checks an inline suppression: reports it when invalid, without a reason or expired, else
/// adds it to `entries`.
fn accept(
    parsed: Result<Directive, String>,
    location: Span,
    kind: SuppressionKind,
    today: Date,
    entries: &mut Vec<Entry>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<usize> {
    let file = location.file.to_string();
    let directive = match parsed {
        Ok(d) => d,
        Err(problem) => {
            diagnostics.push(Diagnostic::error(file, Some(location), format!("invalid suppression: {problem}; it suppresses nothing")));
            return None;
        }
    };
    let rules = directive.rules.join(",");
    let Some(reason) = directive.reason else {
        diagnostics.push(Diagnostic::error(
            file,
            Some(location),
            format!("suppression of {rules} has no reason: add reason=\"...\"; it suppresses nothing until then"),
        ));
        return None;
    };
    if let Some(until) = directive.until.filter(|until| *until < today) {
        diagnostics.push(Diagnostic::note(file, Some(location), format!("suppression of {rules} expired on {until}: its findings are reported again")));
        return None;
    }
    let used = vec![false; directive.rules.len()];
    entries.push(Entry { kind, rules: directive.rules, reason, until: directive.until, location, used, path: None, resource: None });
    Some(entries.len() - 1)
}

/// One `ignores:` entry of the config.
fn central(ignore: &Ignore, config: &Config, today: Date, entries: &mut Vec<Entry>, diagnostics: &mut Vec<Diagnostic>) {
    let file: Arc<str> = config.source.clone().unwrap_or_else(|| crate::config::FILE_NAME.into());
    let location = ignore.span.clone().unwrap_or_else(|| Span::new(file.clone(), 1, 1, 1, 1));
    let error = |diagnostics: &mut Vec<Diagnostic>, message: String| diagnostics.push(Diagnostic::error(file.to_string(), Some(location.clone()), message));
    let rule = ignore.rule.trim();
    if rule.is_empty() {
        return error(diagnostics, "ignores entry has an empty rule: name a rule id or `*`; it suppresses nothing".into());
    }
    let until = match ignore.until.as_deref().map(|u| (u, Date::parse(u.trim()))) {
        None => None,
        Some((_, Some(date))) => Some(date),
        Some((text, None)) => return error(diagnostics, format!("ignores entry for {rule}: until `{text}` is not a date YYYY-MM-DD; it suppresses nothing")),
    };
    let Some(reason) = ignore.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) else {
        return error(diagnostics, format!("ignores entry for {rule} has no reason: add `reason:`; it suppresses nothing until then"));
    };
    let path = match &ignore.path {
        None => None,
        Some(pattern) => match GlobBuilder::new(pattern).literal_separator(true).build() {
            Ok(glob) => Some(glob.compile_matcher()),
            Err(e) => return error(diagnostics, format!("ignores entry for {rule}: invalid path glob `{pattern}`: {e}; it suppresses nothing")),
        },
    };
    // Addresses contain `[` and `"` (`aws_s3_bucket.b["dst-001"]`): an exact match always
    // counts, the glob reading only when the pattern is a valid glob.
    let resource = ignore.resource.as_ref().map(|pattern| (pattern.clone(), GlobBuilder::new(pattern).build().ok().map(|g| g.compile_matcher())));
    if let Some(until) = until.filter(|until| *until < today) {
        diagnostics.push(Diagnostic::note(
            file.to_string(),
            Some(location),
            format!("ignores entry for {rule} expired on {until}: its findings are reported again"),
        ));
        return;
    }
    entries.push(Entry {
        kind: SuppressionKind::Central,
        rules: vec![rule.to_string()],
        reason: reason.to_string(),
        until,
        location,
        used: vec![false],
        path,
        resource,
    });
}
