//! The functions of Terraform's built-in provider: `provider::terraform::encode_tfvars`,
//! `decode_tfvars` and `encode_expr`. Encoding writes what hclwrite writes (its tokens for a
//! value, then its formatter: two-space indentation per bracketed line, `=` aligned across
//! consecutive one-line attributes).

use super::super::ops::fmt_float;
use super::super::{Evaluator, Functions, Key, Scope};
use super::args::Call;
use crate::model::{LineIndex, Node, Span, Value};
use std::sync::Arc;

pub fn encode_expr(c: &Call) -> Result<Value, Value> {
    if c.args[0].value == Value::Null {
        return Err(c.fail("argument must not be null"));
    }
    let mut tokens = Vec::new();
    value_tokens(&c.args[0].value, &mut tokens);
    Ok(Value::Str(format_lines(&tokens).join("\n")))
}

pub fn encode_tfvars(c: &Call) -> Result<Value, Value> {
    let entries = match c.value(0)? {
        Value::Map(entries) => entries,
        Value::Null => return Err(c.fail("cannot encode a null value as tfvars")),
        _ => return Err(c.fail("can only encode an object or a map as tfvars")),
    };
    if entries.is_empty() {
        return Ok(Value::Str(String::new()));
    }
    let mut tokens = Vec::new();
    for (key, value) in sorted(entries) {
        if !is_identifier(key) {
            return Err(c.fail(format!("invalid variable name {key:?}: must be a valid identifier")));
        }
        tokens.extend([Tok::Text(key.clone()), Tok::Equal]);
        value_tokens(&value.value, &mut tokens);
        tokens.push(Tok::Newline);
    }
    Ok(Value::Str(format_lines(&tokens).iter().map(|line| format!("{line}\n")).collect()))
}

/// `decode_tfvars(text)`: the attributes of a tfvars file, whose expressions may use
/// operators and templates but no variables and no functions.
pub fn decode_tfvars(c: &Call) -> Result<Value, Value> {
    let text = c.str(0)?;
    let body: hcl_edit::structure::Body = text.parse().map_err(|e| c.fail(format!("invalid tfvars: {e}")))?;
    let lines = LineIndex::new(&text);
    let scope = Literals;
    let ev = Evaluator { file: Arc::from("decode_tfvars"), lines: &lines, scope: &scope };
    let mut entries = Vec::new();
    for structure in body.iter() {
        let Some(attribute) = structure.as_attribute() else {
            return Err(c.fail("blocks are not allowed in tfvars"));
        };
        let value = ev.eval(&attribute.value);
        if let Value::Unknown(_) = value.value {
            return Err(value.value);
        }
        entries.push((attribute.key.as_str().to_string(), Node::new(value.value, None)));
    }
    Ok(Value::Map(entries))
}

/// Nothing to refer to, nothing to call: a tfvars file's scope.
struct Literals;

impl Scope for Literals {
    fn resolve(&self, root: &str, _keys: &[Key], span: &Span) -> Option<(Node, usize)> {
        Some((Node::new(super::super::error_value(format!("variables are not allowed in tfvars ({root})")), Some(span.clone())), 0))
    }

    fn functions(&self) -> Functions {
        Functions::None
    }
}

/// hclwrite's tokens, reduced to what its formatter looks at.
enum Tok {
    Text(String),
    Open(char),
    Close(char),
    Equal,
    Newline,
}

fn sorted(entries: &[(String, Node)]) -> Vec<&(String, Node)> {
    let mut sorted: Vec<&(String, Node)> = entries.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted
}

/// hclwrite's `TokensForValue`: lists on one line, objects one attribute a line.
fn value_tokens(v: &Value, out: &mut Vec<Tok>) {
    match v {
        Value::List(items) => {
            out.push(Tok::Open('['));
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(Tok::Text(", ".into()));
                }
                value_tokens(&item.value, out);
            }
            out.push(Tok::Close(']'));
        }
        Value::Map(entries) => {
            out.push(Tok::Open('{'));
            if !entries.is_empty() {
                out.push(Tok::Newline);
            }
            for (key, value) in sorted(entries) {
                out.push(Tok::Text(if is_identifier(key) { key.clone() } else { quoted(key) }));
                out.push(Tok::Equal);
                value_tokens(&value.value, out);
                out.push(Tok::Newline);
            }
            out.push(Tok::Close('}'));
        }
        Value::Str(s) => out.push(Tok::Text(quoted(s))),
        Value::Int(i) => out.push(Tok::Text(i.to_string())),
        Value::Float(f) => out.push(Tok::Text(fmt_float(*f))),
        Value::Bool(b) => out.push(Tok::Text(b.to_string())),
        Value::Null | Value::Unknown(_) | Value::Ref { .. } | Value::PartialJson(_) | Value::PartialStr(_) => out.push(Tok::Text("null".into())),
    }
}

/// One formatted line: its indentation, what comes before `=`, and the `=` part when the line
/// is a one-line attribute (hclwrite aligns those).
struct Line {
    indent: usize,
    lead: String,
    assign: Option<String>,
}

fn render(tokens: &[&Tok]) -> String {
    tokens
        .iter()
        .map(|t| match t {
            Tok::Text(s) => s.clone(),
            Tok::Open(c) | Tok::Close(c) => c.to_string(),
            Tok::Equal => "= ".into(),
            Tok::Newline => String::new(),
        })
        .collect()
}

fn bracket_change(tokens: &[&Tok]) -> i64 {
    tokens.iter().map(|t| matches!(t, Tok::Open(_)) as i64 - matches!(t, Tok::Close(_)) as i64).sum()
}

/// hclwrite's formatter over the lines of `tokens`.
fn format_lines(tokens: &[Tok]) -> Vec<String> {
    let mut lines: Vec<Line> = Vec::new();
    let mut indents: Vec<i64> = Vec::new();
    for line in tokens.split(|t| matches!(t, Tok::Newline)) {
        let line: Vec<&Tok> = line.iter().collect();
        let net = bracket_change(&line);
        if net < 0 {
            let mut closed = -net;
            while closed > 0 {
                let Some(top) = indents.last_mut() else { break };
                if closed >= *top {
                    closed -= *top;
                    indents.pop();
                } else {
                    *top -= closed;
                    closed = 0;
                }
            }
        }
        let indent = 2 * indents.len();
        if net > 0 {
            indents.push(net);
        }
        let equal = line.iter().position(|t| matches!(t, Tok::Equal));
        let (lead, assign) = match equal {
            Some(at) if bracket_change(&line[at..]) == 0 => (render(&line[..at]), Some(render(&line[at..]))),
            Some(at) => (format!("{} {}", render(&line[..at]), render(&line[at..])), None),
            None => (render(&line), None),
        };
        lines.push(Line { indent, lead, assign });
    }
    if tokens.last().is_some_and(|t| matches!(t, Tok::Newline)) {
        lines.pop();
    }
    align(&mut lines);
    lines
        .into_iter()
        .map(|l| format!("{}{}{}", " ".repeat(if l.lead.is_empty() && l.assign.is_none() { 0 } else { l.indent }), l.lead, l.assign.unwrap_or_default()))
        .collect()
}

/// Pads the leads of each run of consecutive one-line attributes to the longest.
fn align(lines: &mut [Line]) {
    for run in lines.split_mut(|l| l.assign.is_none()) {
        let width = run.iter().map(|l| l.lead.chars().count()).max().unwrap_or(0);
        for line in run {
            let pad = width - line.lead.chars().count() + 1;
            line.lead.push_str(&" ".repeat(pad));
        }
    }
}

/// HCL's identifiers: a letter or `_`, then letters, digits, `_` and `-`.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// A quoted HCL string as hclwrite escapes it: `${` and `%{` doubled, unprintable characters
/// as `\uXXXX`.
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if !printable(c) && (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if !printable(c) => out.push_str(&format!("\\U{:08x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `unicode.IsPrint`, approximately: no controls, no spaces but ASCII's, no format
/// characters.
fn printable(c: char) -> bool {
    !(c.is_control()
        || (c.is_whitespace() && c != ' ')
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_errors, check};

    #[test]
    fn encodes_like_hclwrite_and_decodes_literals() {
        check(&[
            (
                "provider::terraform::encode_tfvars({a = 1, list = [1, \"two\"], obj = {k = \"v\", longer = []}})",
                r#""a    = 1\nlist = [1, \"two\"]\nobj = {\n  k      = \"v\"\n  longer = []\n}\n""#,
            ),
            ("provider::terraform::encode_tfvars({})", r#""""#),
            ("provider::terraform::encode_expr([{a = 1}, {b = 2}])", r#""[{\n  a = 1\n  }, {\n  b = 2\n}]""#),
            ("provider::terraform::encode_expr(\"$${x} %%{y} \\t\")", r#""\"$${x} %%{y} \\t\"""#),
            ("provider::terraform::decode_tfvars(\"a = 1 + 2\\nb = [\\\"x\\\"]\\n\")", r#"{"a":3,"b":["x"]}"#),
        ]);
        assert_errors(&[
            "provider::terraform::encode_tfvars({\"not valid\" = 1})",
            "provider::terraform::encode_tfvars(\"x\")",
            "provider::terraform::encode_expr(null)",
            "provider::terraform::decode_tfvars(\"a = var.x\\n\")",
            "provider::terraform::decode_tfvars(\"a = upper(\\\"x\\\")\\n\")",
            "provider::terraform::decode_tfvars(\"b {}\\n\")",
            "provider::terraform::decode_tfvars(\"a = \\n\")",
        ]);
    }
}
