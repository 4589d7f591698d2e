//! A scanned file as code frames may show it.

use super::vocabulary::Vocabulary;
use super::{hcl, lexical, tree, Mask, Scrubber, Written, REDACTED};
use crate::model::Finding;
use crate::model::Span;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A file's lines with every secret value hidden: what the file's syntax tree or its lines
/// say is a secret, what a secret rule's finding points at (`flagged`, see
/// [`super::flagged`]), and any other place the same secret texts are written.
pub struct Source {
    lines: Vec<String>,
    /// Byte ranges to hide, by 1-based line.
    masks: BTreeMap<usize, Vec<(usize, usize)>>,
    /// The secret texts found, searched for on every line shown.
    texts: Scrubber,
}

impl Source {
    pub fn new(file: &str, text: &str, flagged: &[&Finding], vocabulary: &Vocabulary) -> Source {
        let lines: Vec<String> = text.lines().map(|l| l.strip_suffix('\r').unwrap_or(l).to_string()).collect();
        let written = written(file, text, vocabulary);
        let lexical = lexical::scan(text, vocabulary);
        let mut texts = lexical.texts;
        let mut source = Source { lines, masks: BTreeMap::new(), texts: Scrubber::default() };
        lexical.masks.iter().for_each(|m| source.add(*m));
        for w in written.iter().filter(|w| w.secret) {
            source.hide(&w.span);
            texts.extend(w.texts.iter().cloned());
        }
        for finding in flagged {
            texts.extend(source.hide_flagged(finding, &written));
        }
        source.texts = Scrubber::new(texts);
        source
    }

    /// The number of lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Line `n` (1-based) as it may be shown, and whether part of it was hidden.
    pub fn line(&self, n: usize) -> Option<(String, bool)> {
        let line = self.lines.get(n.checked_sub(1)?)?;
        let mut ranges = self.masks.get(&n).cloned().unwrap_or_default();
        ranges.extend(self.texts.ranges(line));
        if ranges.is_empty() {
            return Some((line.clone(), false));
        }
        ranges.sort();
        let mut out = String::with_capacity(line.len());
        let mut at = 0;
        for (start, end) in ranges {
            if end <= at {
                continue;
            }
            if start >= at {
                out.push_str(&line[at..start]);
                out.push_str(REDACTED);
            }
            at = end;
        }
        out.push_str(&line[at..]);
        Some((out, true))
    }

    fn add(&mut self, mask: Mask) {
        self.masks.entry(mask.line).or_default().push((mask.start, mask.end));
    }

    /// Hides a span's text: from its start column on its first line, whole lines (from their
    /// indentation) between, up to its end column on its last line.
    fn hide(&mut self, span: &Span) {
        let (first, last) = (span.start_line as usize, span.end_line.max(span.start_line) as usize);
        for n in first..=last.min(self.lines.len()) {
            let Some(line) = self.lines.get(n.wrapping_sub(1)) else { continue };
            let start = if n == first { byte_at(line, span.start_col) } else { line.len() - line.trim_start().len() };
            let end = if n == last && span.end_line >= span.start_line { byte_at(line, span.end_col) } else { line.len() };
            if start < end {
                self.add(Mask { line: n, start, end });
            }
        }
    }

    /// A secret rule's finding: the values written inside its span under the keys its
    /// message names (a `name` is never a value), read line by line when the file gave no
    /// values (it did not parse).
    fn hide_flagged(&mut self, finding: &Finding, written: &[Written]) -> Vec<String> {
        if written.is_empty() {
            self.hide_named_lines(finding);
            return Vec::new();
        }
        let named: Vec<&Written> =
            written.iter().filter(|w| w.key != "name" && contains(&finding.span, &w.span) && mentions(&finding.message, &w.key)).collect();
        named.iter().for_each(|w| self.hide(&w.span));
        named.into_iter().flat_map(|w| w.texts.iter().cloned()).collect()
    }

    /// In a file that did not parse: the value of each line of a finding's span whose key its
    /// message names.
    fn hide_named_lines(&mut self, finding: &Finding) {
        let span = &finding.span;
        for n in span.start_line as usize..=(span.end_line.max(span.start_line) as usize).min(self.lines.len()) {
            let Some(line) = self.lines.get(n.wrapping_sub(1)) else { continue };
            if let Some((_, value_at)) = lexical::key_and_value(line).filter(|(key, _)| mentions(&finding.message, key)) {
                let end = line.len();
                self.add(Mask { line: n, start: value_at, end });
            }
        }
    }
}

/// Whether `text` names `key` as a word of its own (`ERP_API_KEY (...)`, not `KEY`).
fn mentions(text: &str, key: &str) -> bool {
    let part_of_name = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.');
    !key.is_empty()
        && text.match_indices(key).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + key.len()..].chars().next();
            !before.is_some_and(part_of_name) && !after.is_some_and(|c| part_of_name(c) && c != '.')
        })
}

/// The byte offset of a 1-based character column in a line (its end past the last one).
fn byte_at(line: &str, column: u32) -> usize {
    line.char_indices().nth((column as usize).saturating_sub(1)).map_or(line.len(), |(i, _)| i)
}

fn contains(outer: &Span, inner: &Span) -> bool {
    (outer.start_line, outer.start_col) <= (inner.start_line, inner.start_col) && (inner.end_line, inner.end_col) <= (outer.end_line, outer.end_col)
}

/// The values of a file by its syntax tree: HCL for Terraform code and tfvars, YAML (JSON
/// included) for anything else; nothing when it does not parse.
pub(super) fn written(file: &str, text: &str, vocabulary: &Vocabulary) -> Vec<Written> {
    let name: Arc<str> = Arc::from(file);
    let hcl_files = [".tf", ".tofu", ".hcl", ".tfvars"];
    if hcl_files.iter().any(|ext| file.ends_with(ext)) {
        return hcl::written(&name, text, file.ends_with(".tfvars"), vocabulary);
    }
    let Ok(documents) = crate::yaml::load(&name, text, &crate::yaml::Limits::default()) else { return Vec::new() };
    let mut found = Vec::new();
    for document in &documents {
        tree::walk(&document.root, vocabulary, &mut |key, node, secret| {
            let Some(span) = node.span.clone() else { return };
            let texts = node.as_str().map(|t| vec![t.to_string()]).unwrap_or_default();
            found.push(Written { key: key.to_string(), span, texts, secret });
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(file: &str, text: &str, flagged: &[&Finding]) -> String {
        let source = Source::new(file, text, flagged, Vocabulary::charter());
        (1..=source.len()).map(|n| source.line(n).unwrap().0 + "\n").collect()
    }

    #[test]
    fn the_secret_after_string_data_is_hidden_and_its_key_shown() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: \"pl4nted-Pa55\"\n  host: db.internal\n";
        let out = shown("k8s/secret.yaml", text, &[]);
        assert!(out.contains("  password: <redacted>\n  host: <redacted>\n"), "{out}");
        assert!(out.contains("  name: db\n"), "{out}");
    }

    #[test]
    fn terraform_keys_stay_and_values_go() {
        let text = "resource \"aws_db_instance\" \"db\" {\n  engine   = \"postgres\"\n  password = \"hunter2-planted\"\n  tags     = { note = \"hunter2-planted again\" }\n}\n";
        let out = shown("main.tf", text, &[]);
        assert!(out.contains("  password = <redacted>\n"), "{out}");
        assert!(out.contains("note = \"<redacted> again\""), "the same secret elsewhere in the file: {out}");
        assert!(out.contains("engine   = \"postgres\""), "{out}");
    }

    fn flagged(span: Span, message: &str) -> Finding {
        let example = Finding::example("SEC-002", crate::model::Outcome::Violation, crate::model::Severity::Error, message);
        Finding {
            source: crate::model::SourceKind::K8s,
            address: "ConfigMap ns/x".into(),
            rtype: "ConfigMap".into(),
            attribute: "data".into(),
            span,
            ..example
        }
    }

    #[test]
    fn values_a_secret_rule_names_are_hidden() {
        let text = "kind: Deployment\nenv:\n  - name: ODD_ONE\n    value: not-detected-otherwise\n  - name: LOG_LEVEL\n    value: info\nafter: visible\n";
        let span = Span::new("d.yaml".into(), 2, 1, 6, 16);
        let out = shown("d.yaml", text, &[&flagged(span.clone(), "sets ODD_ONE (why)")]);
        assert_eq!(out, "kind: Deployment\nenv:\n  - name: ODD_ONE\n    value: <redacted>\n  - name: LOG_LEVEL\n    value: info\nafter: visible\n");
        let out = shown("d.yaml", text, &[&flagged(span, "names LOG_LEVEL only")]);
        assert!(out.contains("value: not-detected-otherwise\n  - name: LOG_LEVEL\n    value: <redacted>\n"), "{out}");
        let unparsed = Span::new("t.tf".into(), 1, 1, 2, 9);
        let text = "odd = 1 + \"x-y-z\" {\nkind: Secret\n";
        assert_eq!(shown("t.tf", text, &[&flagged(unparsed, "odd is flagged")]), "odd = <redacted>\nkind: Secret\n");
    }

    #[test]
    fn keys_are_mentioned_as_whole_words() {
        assert!(mentions("holds ERP_API_KEY (named like a secret); settings.ini (...)", "ERP_API_KEY"));
        assert!(mentions("holds ERP_API_KEY (x); settings.ini (...)", "settings.ini"));
        assert!(mentions("password written as a literal", "password"));
        assert!(!mentions("holds ERP_API_KEY (x)", "KEY") && !mentions("holds ERP_API_KEY (x)", "ERP"));
    }

    #[test]
    fn multi_byte_lines_are_cut_at_characters() {
        let text = "kind: Secret\nstringData:\n  clé: \"çà-secret-ü\"\n";
        let out = shown("s.yaml", text, &[]);
        assert_eq!(out.lines().nth(2), Some("  clé: <redacted>"), "{out}");
    }
}
