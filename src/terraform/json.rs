//! `.tf.json` files: Terraform's JSON syntax is translated into the equivalent native HCL,
//! laid out so that every construct stays on the line it came from, and then read like any
//! `.tf` file. Strings keep their `${...}` interpolations, which the native syntax evaluates.
//!
//! Without provider schemas JSON cannot tell a nested block from a map attribute, so objects
//! inside a resource become maps; rules read blocks and maps alike.

use crate::model::{Node, Value};
use std::fmt::Write as _;

/// Top-level keys whose value is `{ LABEL: { body } }` (or `{ TYPE: { NAME: { body } } }`).
const ONE_LABEL: &[&str] = &["variable", "module", "output", "provider"];
const TWO_LABELS: &[&str] = &["resource", "data"];

/// Native HCL for a parsed `.tf.json` document.
pub fn to_hcl(root: &Node) -> Result<String, String> {
    let Value::Map(entries) = &root.value else { return Err("a .tf.json file must hold a JSON object".into()) };
    let mut out = Writer::default();
    for (key, value) in entries {
        let kind = key.as_str();
        if kind == "//" {
            continue;
        }
        for body in objects(value) {
            if TWO_LABELS.contains(&kind) {
                for (rtype, named) in map_entries(body) {
                    for (name, inner) in map_entries(named) {
                        for inner in objects(inner) {
                            out.block(kind, &[rtype, name], inner)?;
                        }
                    }
                }
            } else if ONE_LABEL.contains(&kind) {
                for (label, inner) in map_entries(body) {
                    for inner in objects(inner) {
                        out.block(kind, &[label], inner)?;
                    }
                }
            } else {
                // locals, terraform, moved, import...: one unlabelled block.
                out.block(kind, &[], body)?;
            }
        }
    }
    Ok(out.text)
}

/// A JSON value that is an object, or every object of an array of them.
fn objects(node: &Node) -> Vec<&Node> {
    match &node.value {
        Value::List(items) => items.iter().filter(|i| matches!(i.value, Value::Map(_))).collect(),
        Value::Map(_) => vec![node],
        _ => Vec::new(),
    }
}

fn map_entries(node: &Node) -> Vec<(&str, &Node)> {
    match &node.value {
        Value::Map(entries) => entries.iter().filter(|(k, _)| k != "//").map(|(k, v)| (k.as_str(), v)).collect(),
        _ => Vec::new(),
    }
}

#[derive(Default)]
struct Writer {
    text: String,
    line: u32,
}

impl Writer {
    /// Moves to `line` (1-based) when the output is still above it.
    fn align(&mut self, node: &Node) {
        let target = node.span.as_ref().map_or(0, |s| s.start_line);
        if self.line == 0 {
            self.line = 1;
        }
        while self.line < target {
            self.text.push('\n');
            self.line += 1;
        }
    }

    fn newline(&mut self) {
        self.text.push('\n');
        self.line += 1;
    }

    fn block(&mut self, kind: &str, labels: &[&str], body: &Node) -> Result<(), String> {
        self.align(body);
        self.text.push_str(kind);
        for label in labels {
            let _ = write!(self.text, " {}", quote(label));
        }
        self.text.push_str(" {");
        self.newline();
        for (key, value) in map_entries(body) {
            if !is_identifier(key) {
                continue;
            }
            self.align(value);
            let _ = write!(self.text, "{key} = ");
            self.value(value)?;
            self.newline();
        }
        self.text.push('}');
        self.newline();
        Ok(())
    }

    fn value(&mut self, node: &Node) -> Result<(), String> {
        match &node.value {
            Value::Null => self.text.push_str("null"),
            Value::Bool(b) => self.text.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => self.text.push_str(&i.to_string()),
            Value::Float(f) => self.text.push_str(&f.to_string()),
            Value::Str(s) => self.text.push_str(&template_literal(s)),
            Value::List(items) => {
                self.text.push('[');
                for item in items {
                    self.align(item);
                    self.value(item)?;
                    self.text.push_str(", ");
                }
                self.text.push(']');
            }
            Value::Map(entries) => {
                self.text.push('{');
                for (key, value) in entries {
                    self.align(value);
                    let _ = write!(self.text, "{} = ", quote(key));
                    self.value(value)?;
                    self.text.push_str(", ");
                }
                self.text.push('}');
            }
            Value::Unknown(_) | Value::Ref { .. } | Value::PartialJson(_) | Value::PartialStr(_) => return Err("unexpected value in JSON".into()),
        }
        Ok(())
    }
}

fn is_identifier(key: &str) -> bool {
    key.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_') && key.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// A quoted HCL string with no interpolation.
fn quote(text: &str) -> String {
    format!("\"{}\"", escape(text).replace("${", "$${").replace("%{", "%%{"))
}

/// A quoted HCL template: text outside `${...}`/`%{...}` is escaped, the inside kept as
/// written, as Terraform's JSON syntax defines.
fn template_literal(text: &str) -> String {
    let mut out = String::from("\"");
    let mut rest = text;
    while let Some(start) = rest.find("${").into_iter().chain(rest.find("%{")).min() {
        out.push_str(&escape(&rest[..start]));
        let inner = &rest[start..];
        let end = closing_brace(inner).unwrap_or(inner.len());
        out.push_str(&inner[..end]);
        rest = &inner[end..];
    }
    out.push_str(&escape(rest));
    out.push('"');
    out
}

/// Byte index just past the `}` closing the `${`/`%{` at the start of `text`, skipping
/// nested braces and quoted strings.
fn closing_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match (in_string, c) {
            (true, '\\') if !escaped => escaped = true,
            (true, '"') if !escaped => in_string = false,
            (true, _) => escaped = false,
            (false, '"') => in_string = true,
            (false, '{') => depth += 1,
            (false, '}') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn translate(json: &str) -> String {
        let file: Arc<str> = "main.tf.json".into();
        let docs = crate::yaml::load(&file, json, &crate::yaml::Limits::default()).unwrap();
        to_hcl(&docs[0].root).unwrap()
    }

    #[test]
    fn keeps_lines_and_interpolations() {
        let json = "{\n  \"resource\": {\n    \"aws_s3_bucket\": {\n      \"b\": {\n        \"bucket\": \"${var.prefix}-\\\"x\\\"\",\n        \"tags\": {\"Layer\": \"bronze\"}\n      }\n    }\n  }\n}\n";
        let hcl = translate(json);
        let line = hcl.lines().position(|l| l.contains("bucket =")).unwrap() + 1;
        assert_eq!(line, 5, "{hcl}");
        assert!(hcl.contains(r#"bucket = "${var.prefix}-\"x\"""#), "{hcl}");
        assert!(hcl_edit::parser::parse_body(&hcl).is_ok(), "{hcl}");
    }

    #[test]
    fn interpolations_keep_their_inner_quotes() {
        assert_eq!(template_literal(r#"a${lookup(var.m, "k")}b"#), r#""a${lookup(var.m, "k")}b""#);
        assert_eq!(quote("${x}"), r#""$${x}""#);
    }

    #[test]
    fn providers_as_arrays_and_locals() {
        let hcl = translate(r#"{"provider": {"aws": [{"region": "ap-south-1"}, {"alias": "dr", "region": "ap-south-2"}]}, "locals": {"a": 1}}"#);
        assert_eq!(hcl.matches("provider \"aws\"").count(), 2, "{hcl}");
        assert!(hcl_edit::parser::parse_body(&hcl).is_ok(), "{hcl}");
    }
}
