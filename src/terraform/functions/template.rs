//! `templatefile(path, vars)` and `templatestring(template, vars)`: a template rendered with
//! only `vars` in scope and every function but these two, which Terraform refuses inside a
//! template (so a template that includes itself ends as an error, not a recursion).
//!
//! Both look at their arguments shallowly, as Terraform does: a known map of variables some
//! of which are unknown still renders, unknown where they are used.

use super::super::ops::error_value;
use super::super::{Evaluator, Functions, Key, Scope};
use super::args::Call;
use super::files::read_text;
use super::R;
use crate::model::{LineIndex, Node, Span};
use crate::terraform::sandbox::Sandbox;
use std::sync::Arc;

/// The functions a template may not call.
pub const TEMPLATE_FUNCTIONS: [&str; 2] = ["templatefile", "templatestring"];

pub fn templatefile(c: Call) -> R {
    let path = c.str(0)?;
    let text = read_text(&c, &path)?;
    render(&c, &path, &text)
}

/// The evaluator has checked that the template argument is a reference, as Terraform does.
pub fn templatestring(c: Call) -> R {
    let text = c.str(0)?;
    render(&c, "templatestring", &text)
}

fn render(c: &Call, name: &str, text: &str) -> R {
    let vars = c.map(1)?;
    if let Some((bad, _)) = vars.iter().find(|(k, _)| !is_variable_name(k)) {
        return Err(c.fail(format!("invalid template variable name {bad:?}: must start with a letter, followed by letters, digits and underscores")));
    }
    let scope = Variables { vars, sandbox: c.sandbox };
    let lines = LineIndex::new(text);
    let ev = Evaluator { file: Arc::from(name), lines: &lines, scope: &scope };
    let rendered = ev.eval_template_str(text, c.span.clone());
    Ok(Node::new(rendered.value, None))
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(char::is_alphabetic) && chars.all(|ch| ch.is_alphanumeric() || ch == '_')
}

/// A template's scope: its variables only.
struct Variables<'a> {
    vars: &'a [(String, Node)],
    sandbox: Option<&'a Sandbox>,
}

impl Scope for Variables<'_> {
    fn resolve(&self, root: &str, _keys: &[Key], span: &Span) -> Option<(Node, usize)> {
        let node = match self.vars.iter().find(|(k, _)| k == root) {
            Some((_, value)) => value.clone(),
            None => Node::new(error_value(format!("vars map does not contain key {root:?}, referenced in the template")), Some(span.clone())),
        };
        Some((node, 0))
    }

    fn sandbox(&self) -> Option<&Sandbox> {
        self.sandbox
    }

    fn functions(&self) -> Functions {
        Functions::NotTemplates
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::eval_in;
    use crate::model::{Node, Value};

    #[test]
    fn renders_with_only_its_variables() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.tftpl"), "%{ for s in items ~}\n${upper(s)},\n%{ endfor ~}\n${n + 1}").unwrap();
        std::fs::write(dir.path().join("list.tftpl"), "${items}").unwrap();
        std::fs::write(dir.path().join("self.tftpl"), "${templatefile(\"self.tftpl\", {})}").unwrap();
        std::fs::write(dir.path().join("var.tftpl"), "${var.x}").unwrap();
        let json = |src: &str| Node::new(eval_in(src, Some(dir.path())), None).to_json().to_string();
        assert_eq!(json("templatefile(\"t.tftpl\", {items = [\"a\", \"b\"], n = 1})"), r#""A,\nB,\n2""#);
        assert_eq!(json("templatefile(\"list.tftpl\", {items = [1, 2]})"), "[1,2]");
        // A variable that is unknown leaves the result unknown; the others still render.
        assert_eq!(json("templatefile(\"list.tftpl\", {items = var.unknown, other = 1})"), r#"{"$unknown":"var.unknown has no value"}"#);
        for src in [
            "templatefile(\"self.tftpl\", {})",
            "templatefile(\"var.tftpl\", {})",
            "templatefile(\"t.tftpl\", {\"1x\" = 1})",
            "templatefile(\"missing.tftpl\", {})",
            "templatefile(\"t.tftpl\", null)",
        ] {
            let value = eval_in(src, Some(dir.path()));
            assert!(matches!(&value, Value::Unknown(r) if crate::terraform::eval::is_error_reason(r)), "{src}: {value:?}");
        }
    }
}
