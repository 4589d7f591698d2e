//! `yamldecode`, through the project's YAML loader with go-cty-yaml's resolution rules, and
//! `yamlencode`, which writes what Terraform's (libyaml's emitter, as go-cty-yaml drives it)
//! writes, byte for byte: block style, keys sorted and double-quoted, strings double-quoted
//! (wrapped at 80 columns) or, when they hold a line break, literal blocks.

use super::super::ops::fmt_float;
use super::args::Call;
use crate::model::{Node, Value};
use crate::yaml::{load_with, Limits, Schema};
use std::sync::Arc;

/// `yamldecode`: the document. Decoded from a whole file (`yamldecode(file("x.yaml"))`), its
/// values point at their lines in that file; decoded from other text, they have no place of
/// their own (they are where the call is).
pub fn yamldecode(c: &Call) -> Result<Value, Value> {
    let text = c.str(0)?;
    let from_file = super::files::whole_file_of(&text, &c.args[0].span);
    let file: Arc<str> = from_file.clone().unwrap_or_else(|| Arc::from("yamldecode"));
    let mut docs = load_with(&file, &text, &Limits::default(), Schema::GoCty).map_err(|d| c.fail(d.message))?;
    let root = match docs.len() {
        1 => docs.remove(0).root,
        0 => return Err(c.fail("missing start of document")),
        _ => return Err(c.fail("only a single document is allowed")),
    };
    Ok(if from_file.is_some() { root.value } else { without_spans(root).value })
}

fn without_spans(node: Node) -> Node {
    let value = match node.value {
        Value::List(items) => Value::List(items.into_iter().map(without_spans).collect()),
        Value::Map(entries) => Value::Map(entries.into_iter().map(|(k, v)| (k, without_spans(v))).collect()),
        other => other,
    };
    Node::new(value, None)
}

pub fn yamlencode(c: &Call) -> Result<Value, Value> {
    let mut e = Emitter { out: String::new(), column: 0 };
    e.document(&c.args[0].value);
    Ok(Value::Str(e.out))
}

/// libyaml's line width: double-quoted strings break at a space past this column.
const WIDTH: usize = 80;
/// libyaml's longest simple (`key:`) key, in bytes; longer keys are written `? key`.
const SIMPLE_KEY_MAX: usize = 128;

struct Emitter {
    out: String,
    column: usize,
}

/// Where a value is written: the indentation of the collection it belongs to, and whether
/// it follows `- ` on the same line.
#[derive(Clone, Copy)]
struct Place {
    indent: usize,
    after_dash: bool,
}

impl Emitter {
    fn write(&mut self, text: &str) {
        match text.rfind('\n') {
            Some(i) => self.column = text[i + 1..].chars().count(),
            None => self.column += text.chars().count(),
        }
        self.out.push_str(text);
    }

    /// A new line at `indent` (none when the line holds nothing yet).
    fn line(&mut self, indent: usize) {
        if self.column > 0 {
            self.write("\n");
        }
        self.write(&" ".repeat(indent));
    }

    fn document(&mut self, v: &Value) {
        match v {
            Value::List(items) if !items.is_empty() => self.sequence(items, Place { indent: 0, after_dash: false }),
            Value::Map(entries) if !entries.is_empty() => self.mapping(entries, Place { indent: 0, after_dash: false }),
            Value::Str(s) => self.string(s, 2, true),
            other => {
                self.scalar(other, 2);
                if !matches!(other, Value::List(_) | Value::Map(_)) {
                    // libyaml ends a document whose root is a plain scalar explicitly.
                    self.write("\n...");
                }
            }
        }
        if self.column > 0 {
            self.write("\n");
        }
    }

    fn sequence(&mut self, items: &[Node], at: Place) {
        for (i, item) in items.iter().enumerate() {
            if !(i == 0 && at.after_dash) {
                self.line(at.indent);
            }
            self.write("- ");
            self.nested(&item.value, Place { indent: at.indent + 2, after_dash: true });
        }
    }

    fn mapping(&mut self, entries: &[(String, Node)], at: Place) {
        let mut sorted: Vec<&(String, Node)> = entries.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        for (i, (key, value)) in sorted.into_iter().enumerate() {
            if !(i == 0 && at.after_dash) {
                self.line(at.indent);
            }
            if key.len() <= SIMPLE_KEY_MAX && !key.contains('\n') {
                self.double_quoted(key, at.indent + 2, false);
                self.write(":");
            } else {
                self.write("? ");
                self.string(key, at.indent + 2, true);
                self.line(at.indent);
                self.write(":");
            }
            match &value.value {
                Value::List(items) if !items.is_empty() => self.sequence(items, Place { indent: at.indent, after_dash: false }),
                Value::Map(entries) if !entries.is_empty() => self.mapping(entries, Place { indent: at.indent + 2, after_dash: false }),
                other => {
                    self.write(" ");
                    self.scalar(other, at.indent + 2);
                }
            }
        }
    }

    /// A value after `- `: collections continue on the same line.
    fn nested(&mut self, v: &Value, at: Place) {
        match v {
            Value::List(items) if !items.is_empty() => self.sequence(items, at),
            Value::Map(entries) if !entries.is_empty() => self.mapping(entries, at),
            other => self.scalar(other, at.indent),
        }
    }

    /// A scalar or an empty collection; `indent` is where a string's continuation lines go.
    fn scalar(&mut self, v: &Value, indent: usize) {
        match v {
            Value::Str(s) => self.string(s, indent, true),
            Value::Int(i) => self.write(&i.to_string()),
            Value::Float(f) => self.write(&fmt_float(*f)),
            Value::Bool(b) => self.write(if *b { "true" } else { "false" }),
            Value::List(_) => self.write("[]"),
            Value::Map(_) => self.write("{}"),
            Value::Null | Value::Unknown(_) | Value::Ref { .. } | Value::PartialJson(_) | Value::PartialStr(_) => self.write("null"),
        }
    }

    /// go-cty-yaml asks for a literal block for a string with a line break; libyaml agrees
    /// unless the text has characters a block cannot hold or a space before a line break.
    fn string(&mut self, s: &str, indent: usize, breaks: bool) {
        if s.contains('\n') && block_allowed(s) {
            self.literal(s, indent);
        } else {
            self.double_quoted(s, indent, breaks);
        }
    }

    fn literal(&mut self, s: &str, indent: usize) {
        let mut header = String::from("|");
        if s.starts_with([' ', '\n']) {
            header.push('2');
        }
        let chars: Vec<char> = s.chars().collect();
        match chars.as_slice() {
            [.., last] if *last != '\n' => header.push('-'),
            ['\n'] | [.., '\n', '\n'] => header.push('+'),
            _ => {}
        }
        self.write(&header);
        self.write("\n");
        let mut line_start = true;
        for ch in chars {
            if ch == '\n' {
                self.write("\n");
                line_start = true;
            } else {
                if line_start {
                    self.write(&" ".repeat(indent));
                    line_start = false;
                }
                self.out.push(ch);
                self.column += 1;
            }
        }
    }

    fn double_quoted(&mut self, s: &str, indent: usize, breaks: bool) {
        self.write("\"");
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &ch) in chars.iter().enumerate() {
            if let Some(escape) = escape(ch) {
                self.write(&escape);
                spaces = false;
            } else if ch == ' ' {
                if breaks && !spaces && self.column > WIDTH && i != 0 && i + 1 != chars.len() {
                    self.write("\n");
                    self.write(&" ".repeat(indent));
                    if chars.get(i + 1) == Some(&' ') {
                        self.write("\\");
                    }
                } else {
                    self.write(" ");
                }
                spaces = true;
            } else {
                self.out.push(ch);
                self.column += 1;
                spaces = false;
            }
        }
        self.write("\"");
    }
}

/// libyaml's printable set: the rest is escaped in double quotes and rules out blocks.
fn printable(ch: char) -> bool {
    matches!(ch as u32, 0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD) && ch != '\u{FEFF}'
}

/// libyaml's line breaks (escaped inside double quotes).
fn is_break(ch: char) -> bool {
    matches!(ch, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn escape(ch: char) -> Option<String> {
    if printable(ch) && !is_break(ch) && ch != '"' && ch != '\\' {
        return None;
    }
    let short = match ch {
        '\0' => "0",
        '\u{7}' => "a",
        '\u{8}' => "b",
        '\t' => "t",
        '\n' => "n",
        '\u{b}' => "v",
        '\u{c}' => "f",
        '\r' => "r",
        '\u{1b}' => "e",
        '"' => "\"",
        '\\' => "\\",
        '\u{85}' => "N",
        '\u{a0}' => "_",
        '\u{2028}' => "L",
        '\u{2029}' => "P",
        _ => "",
    };
    Some(match (short, ch as u32) {
        ("", n) if n <= 0xFF => format!("\\x{n:02X}"),
        ("", n) if n <= 0xFFFF => format!("\\u{n:04X}"),
        ("", n) => format!("\\U{n:08X}"),
        (short, _) => format!("\\{short}"),
    })
}

/// Whether libyaml allows a literal block for `s`: only printable characters (and line
/// feeds), and no space right before a line break or at the very end.
fn block_allowed(s: &str) -> bool {
    s.chars().all(|ch| printable(ch) && (ch == '\n' || !is_break(ch))) && !s.contains(" \n") && !s.ends_with(' ') && !s.starts_with('\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(v: Value) -> String {
        let mut e = Emitter { out: String::new(), column: 0 };
        e.document(&v);
        e.out
    }

    fn s(text: &str) -> Node {
        Node::new(Value::Str(text.into()), None)
    }

    #[test]
    fn writes_what_terraform_writes() {
        // Outputs of Terraform 1.15's yamlencode.
        assert_eq!(encode(Value::Null), "null\n...\n");
        assert_eq!(encode(Value::Str("a\nb\n\n".into())), "|+\n  a\n  b\n\n");
        assert_eq!(encode(Value::Str("\n".into())), "|2+\n\n");
        assert_eq!(encode(Value::Str("a \nb".into())), "\"a \\nb\"\n");
        assert_eq!(encode(Value::Str("a😀b\u{85}c\u{feff}d".into())), "\"a\\U0001F600b\\Nc\\uFEFFd\"\n");
        let nested = Value::List(vec![
            Node::new(Value::List(vec![Node::new(Value::Int(1), None), Node::new(Value::List(vec![Node::new(Value::Int(2), None)]), None)]), None),
            Node::map(vec![("a".into(), Node::new(Value::List(vec![Node::map(vec![("b".into(), Node::new(Value::Int(1), None))], None)]), None))], None),
            Node::new(Value::List(vec![]), None),
            Node::map(vec![], None),
        ]);
        assert_eq!(encode(nested), "- - 1\n  - - 2\n- \"a\":\n  - \"b\": 1\n- []\n- {}\n");
        let keys = Value::Map(vec![
            ("x\ny".into(), Node::new(Value::Int(1), None)),
            ("".into(), Node::new(Value::Int(2), None)),
            ("a".into(), Node::map(vec![("b".into(), s("c"))], None)),
        ]);
        assert_eq!(encode(keys), "\"\": 2\n\"a\":\n  \"b\": \"c\"\n? |-\n  x\n  y\n: 1\n");
        let long = "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq  rrrr";
        assert_eq!(encode(Value::Str(long.into())), "\"aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq\n  \\ rrrr\"\n");
    }
}

#[cfg(test)]
mod decode_tests {
    use super::super::testing::{assert_errors, check, reason};

    #[test]
    fn decodes_with_go_cty_yaml_rules() {
        check(&[
            (
                "yamldecode(\"a: yes\\nb: 'yes'\\nc: 0x1F\\nd: 1_000\\ne: 2001-12-14\\n\")",
                r#"{"a":true,"b":"yes","c":31,"d":"1_000","e":"2001-12-14T00:00:00Z"}"#,
            ),
            ("yamldecode(\"a: 1\\n<<: {a: 2, b: 3}\\n\")", r#"{"a":2,"b":3}"#),
            ("yamldecode(\"---\\n\")", "null"),
            ("yamldecode(\"y: 1\\n1.50: 2\\n\")", r#"{"true":1,"1.5":2}"#),
            ("yamldecode(\"- &x hello\\n- *x\\n\")", r#"["hello","hello"]"#),
        ]);
        assert_errors(&[
            "yamldecode(\"a: 1\\n---\\nb: 2\\n\")",
            "yamldecode(\"a: 1\\n---\\n\")",
            "yamldecode(\"\")",
            "yamldecode(\".nan\")",
            "yamldecode(\"!foo 1\")",
            "yamldecode(\"~: 1\")",
            "yamldecode(\"<<: [{a: 1}]\")",
            "yamldecode(\"a: [\")",
        ]);
        assert_eq!(reason("yamldecode(var.unknown)"), "var.unknown has no value");
    }

    #[test]
    fn an_alias_bomb_is_an_error_value() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\\n");
        for i in 1..10 {
            bomb.push_str(&format!("a{i}: &a{i} [{}]\\n", vec![format!("*a{}", i - 1); 10].join(", ")));
        }
        let r = reason(&format!("yamldecode(\"{bomb}\")"));
        assert!(r.contains("alias expansion exceeds"), "{r}");
    }
}
