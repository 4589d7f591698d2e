//! Evaluating expressions in unit tests of the function families: `var.*` names from a
//! fixed set, file functions reading from a directory when one is given.

use super::super::{is_error_reason, Evaluator, Key, Scope};
use crate::model::{LineIndex, Node, Span, Value};
use crate::terraform::sandbox::Sandbox;
use hcl_edit::expr::Expression;
use std::sync::Arc;

struct Vars {
    sandbox: Option<Sandbox>,
}

impl Scope for Vars {
    fn resolve(&self, root: &str, keys: &[Key], _span: &Span) -> Option<(Node, usize)> {
        let value = match (root, keys.first()) {
            ("var", Some(Key::Attr(name))) if name == "unknown" => Value::Unknown("var.unknown has no value".into()),
            ("var", Some(Key::Attr(name))) if name == "arn" => Value::Ref { address: "aws_iam_role.r".into(), attribute: "arn".into() },
            _ => return None,
        };
        Some((Node::new(value, None), 1))
    }

    fn sandbox(&self) -> Option<&Sandbox> {
        self.sandbox.as_ref()
    }
}

/// The value of `src`, file functions reading relative to `dir` (inside it only).
pub fn eval_in(src: &str, dir: Option<&std::path::Path>) -> Value {
    let expr: Expression = src.parse().unwrap_or_else(|e| panic!("{src}: {e}"));
    let lines = LineIndex::new(src);
    let scope = Vars { sandbox: dir.map(|d| Sandbox::new(d, crate::terraform::sandbox::Roots::new(&[d.to_path_buf()], d, None))) };
    Evaluator { file: Arc::from("test.tf"), lines: &lines, scope: &scope }.eval(&expr).value
}

pub fn eval(src: &str) -> Value {
    eval_in(src, None)
}

/// Each expression's value as compact JSON.
pub fn check(cases: &[(&str, &str)]) {
    for (src, expected) in cases {
        assert_eq!(Node::new(eval(src), None).to_json().to_string(), *expected, "{src}");
    }
}

pub fn reason(src: &str) -> String {
    match eval(src) {
        Value::Unknown(r) => r,
        other => panic!("{src}: expected unknown, got {other:?}"),
    }
}

/// Each expression is an error value (Terraform rejects it).
pub fn assert_errors(sources: &[&str]) {
    for src in sources {
        let r = reason(src);
        assert!(is_error_reason(&r), "{src}: expected an error, got unknown {r:?}");
    }
}
