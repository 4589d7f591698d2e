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
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::template::{ForTemplateExpr, Template};
use hcl_edit::visit::{self, Visit};
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
    if let Some(name) = text.parse::<Template>().ok().and_then(|t| unbound_name(&t, vars)) {
        return Err(c.fail(format!("vars map does not contain key {name:?}, referenced in the template")));
    }
    let scope = Variables { vars, sandbox: c.sandbox };
    let lines = LineIndex::new(text);
    let ev = Evaluator { file: Arc::from(name), lines: &lines, scope: &scope };
    let rendered = ev.eval_template_str(text, c.span.clone());
    Ok(Node::new(rendered.value, None))
}

/// The first name the template refers to that neither `vars` nor an enclosing `for` binds:
/// Terraform refuses such a template before rendering it, even when the reference sits in a
/// branch that is not taken.
fn unbound_name(template: &Template, vars: &[(String, Node)]) -> Option<String> {
    let mut names = Names { bound: vars.iter().map(|(k, _)| k.clone()).collect(), unbound: None };
    names.visit_template(template);
    names.unbound
}

struct Names {
    bound: Vec<String>,
    unbound: Option<String>,
}

impl Names {
    /// Visits `inner` with the `for` variables bound.
    fn binding(&mut self, key: Option<&str>, value: &str, inner: impl FnOnce(&mut Self)) {
        let mark = self.bound.len();
        self.bound.extend(key.map(String::from));
        self.bound.push(value.to_string());
        inner(self);
        self.bound.truncate(mark);
    }
}

impl Visit for Names {
    fn visit_expr(&mut self, expr: &Expression) {
        match expr {
            Expression::Variable(name) if !self.bound.iter().any(|b| b == name.as_str()) => {
                self.unbound.get_or_insert_with(|| name.to_string());
            }
            Expression::ForExpr(f) => {
                self.visit_expr(&f.intro.collection_expr);
                self.binding(f.intro.key_var.as_ref().map(|k| k.as_str()), f.intro.value_var.as_str(), |names| {
                    f.key_expr.iter().chain([&f.value_expr]).chain(f.cond.iter().map(|c| &c.expr)).for_each(|e| names.visit_expr(e));
                });
            }
            other => visit::visit_expr(self, other),
        }
    }

    /// `{name = ...}`: a bare key is a name, not a reference.
    fn visit_object_key(&mut self, key: &ObjectKey) {
        if let ObjectKey::Expression(expr) = key {
            if !matches!(expr, Expression::Variable(_)) {
                self.visit_expr(expr);
            }
        }
    }

    fn visit_for_template_expr(&mut self, f: &ForTemplateExpr) {
        self.visit_expr(&f.collection_expr);
        self.binding(f.key_var.as_ref().map(|k| k.as_str()), f.value_var.as_str(), |names| names.visit_template(&f.template));
    }
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
        std::fs::write(dir.path().join("guarded.tftpl"), "%{ if false }${missing}%{ endif }ok").unwrap();
        std::fs::write(dir.path().join("bound.tftpl"), "%{ for k, v in m }${k}${v}%{ endfor }${[for x in xs : x][0]}${ {xs = 1}.xs }").unwrap();
        let json = |src: &str| Node::new(eval_in(src, Some(dir.path())), None).to_json().to_string();
        assert_eq!(json("templatefile(\"t.tftpl\", {items = [\"a\", \"b\"], n = 1})"), r#""A,\nB,\n2""#);
        assert_eq!(json("templatefile(\"list.tftpl\", {items = [1, 2]})"), "[1,2]");
        assert_eq!(json("templatefile(\"bound.tftpl\", {m = {a = 1}, xs = [\"x\"]})"), r#""a1x1""#);
        // A variable that is unknown leaves the result unknown; the others still render.
        assert_eq!(json("templatefile(\"list.tftpl\", {items = var.unknown, other = 1})"), r#"{"$unknown":"var.unknown has no value"}"#);
        for src in [
            "templatefile(\"self.tftpl\", {})",
            "templatefile(\"var.tftpl\", {})",
            "templatefile(\"guarded.tftpl\", {})",
            "templatefile(\"t.tftpl\", {\"1x\" = 1})",
            "templatefile(\"missing.tftpl\", {})",
            "templatefile(\"t.tftpl\", null)",
        ] {
            let value = eval_in(src, Some(dir.path()));
            assert!(matches!(&value, Value::Unknown(r) if crate::terraform::eval::is_error_reason(r)), "{src}: {value:?}");
        }
    }
}
