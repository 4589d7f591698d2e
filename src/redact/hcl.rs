//! Secrets written in HCL (`.tf`, `.tofu`, `.tfvars`), from the syntax tree: an argument or
//! object entry whose key and literal look like a secret as SEC-002 judges them (a `value`
//! beside a `name` judged by that name, else by its object's key), the `default` of a
//! variable that is a secret (named like one, SEC-004's test, or `sensitive = true`), and in
//! a tfvars file the value given to such a variable. An expression is a secret when it holds
//! a literal: `password = random_password.db.result` stays readable,
//! `password = sensitive("hunter2")` does not.

use super::is_secret;
use super::vocabulary::Vocabulary;
use super::Written;
use crate::model::LineIndex;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::visit::{visit_expr, Visit};
use hcl_edit::{Decorated, Span as _, Spanned};
use std::sync::Arc;

/// Every argument value and object entry of an HCL file, or nothing when it does not parse
/// (the lexical pass still reads it).
pub fn written(file: &Arc<str>, text: &str, tfvars: bool, vocabulary: &Vocabulary) -> Vec<Written> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Ok(body) = hcl_edit::parser::parse_body(text) else { return Vec::new() };
    let mut walker = Walker { vocabulary, file, lines: LineIndex::new(text), found: Vec::new() };
    walker.body(&body, tfvars);
    walker.found
}

/// How an expression is judged.
#[derive(Clone, Copy)]
enum Judge {
    /// By its key and literals, as SEC-002 judges them.
    Key,
    /// Any literal is a secret (a secret variable's value).
    Always,
}

struct Walker<'a> {
    vocabulary: &'a Vocabulary,
    file: &'a Arc<str>,
    lines: LineIndex<'a>,
    found: Vec<Written>,
}

impl Walker<'_> {
    fn body(&mut self, body: &Body, tfvars: bool) {
        let name = body.get_attribute("name").and_then(|a| literal(&a.value));
        for structure in body {
            match structure {
                Structure::Attribute(attribute) => {
                    let key = judged_as(attribute.key.as_str(), name.unwrap_or_default());
                    let judge = if tfvars && self.vocabulary.variable_name(key) { Judge::Always } else { Judge::Key };
                    self.expr(key, &attribute.value, judge);
                }
                Structure::Block(block) if block.ident.as_str() == "variable" => self.variable(block),
                Structure::Block(block) => self.body(&block.body, false),
            }
        }
    }

    fn variable(&mut self, block: &Block) {
        let named = block.labels.first().is_some_and(|label| self.vocabulary.variable_name(label.as_str()));
        let sensitive = matches!(block.body.get_attribute("sensitive").map(|a| &a.value), Some(Expression::Bool(b)) if *b.value());
        for attribute in block.body.attributes() {
            let key = attribute.key.as_str();
            let judge = if key == "default" && (named || sensitive) { Judge::Always } else { Judge::Key };
            self.expr(key, &attribute.value, judge);
        }
    }

    fn expr(&mut self, key: &str, expr: &Expression, judge: Judge) {
        match expr {
            Expression::Object(object) => {
                let pair_name = object.iter().find(|(k, _)| key_name(k).as_deref() == Some("name")).and_then(|(_, v)| literal(v.expr()));
                for (object_key, value) in object {
                    let name = key_name(object_key);
                    self.expr(judged_as(name.as_deref().unwrap_or(key), pair_name.unwrap_or(key)), value.expr(), judge);
                }
            }
            Expression::Array(array) => array.iter().for_each(|item| self.expr(key, item, judge)),
            Expression::Parenthesis(parens) => self.expr(key, parens.inner(), judge),
            leaf => self.leaf(key, leaf, judge),
        }
    }

    fn leaf(&mut self, key: &str, expr: &Expression, judge: Judge) {
        let Some(range) = expr.span() else { return };
        let mut literals = Literals::default();
        literals.visit_expr(expr);
        let secret = match judge {
            Judge::Always => !literals.texts.is_empty(),
            Judge::Key => literals.texts.iter().any(|t| is_secret(self.vocabulary, key, t)),
        };
        let span = self.lines.span(self.file, range);
        self.found.push(Written { key: key.to_string(), span, texts: literals.texts, secret });
    }
}

/// The key a value is judged under: a `value` by the `name` beside it (Helm's `set`
/// blocks, ECS environments) or the key of its object (`db_password = { value = ... }`).
fn judged_as<'a>(key: &'a str, name: &'a str) -> &'a str {
    match key {
        "value" | "default" if !name.is_empty() => name,
        _ => key,
    }
}

/// The text of a string literal.
fn literal(expr: &Expression) -> Option<&str> {
    match expr {
        Expression::String(text) => Some(text.value().as_str()),
        _ => None,
    }
}

/// An object key's name: an identifier, a quoted string or a bare variable.
fn key_name(key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Ident(ident) => Some(ident.as_str().to_string()),
        ObjectKey::Expression(Expression::String(text)) => Some(text.value().to_string()),
        ObjectKey::Expression(Expression::Variable(ident)) => Some(ident.as_str().to_string()),
        ObjectKey::Expression(_) => None,
    }
}

/// The literal texts of an expression: strings, template and heredoc text, numbers.
#[derive(Default)]
struct Literals {
    texts: Vec<String>,
}

impl Visit for Literals {
    fn visit_string(&mut self, node: &Decorated<String>) {
        self.push(node.value());
    }

    fn visit_literal(&mut self, node: &Spanned<String>) {
        self.push(node.value());
    }

    fn visit_number(&mut self, node: &hcl_edit::Formatted<hcl_edit::Number>) {
        self.push(&node.value().to_string());
    }

    fn visit_expr(&mut self, node: &Expression) {
        visit_expr(self, node);
    }
}

impl Literals {
    fn push(&mut self, text: &str) {
        if !text.trim().is_empty() {
            self.texts.push(text.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(text: &str, tfvars: bool) -> Vec<(String, u32, String)> {
        let file: Arc<str> = Arc::from("main.tf");
        written(&file, text, tfvars, Vocabulary::charter()).into_iter().filter(|w| w.secret).map(|w| (w.key, w.span.start_line, w.texts.join("|"))).collect()
    }

    #[test]
    fn literals_under_secret_keys_are_secrets_references_are_not() {
        let tf = r#"resource "aws_db_instance" "a" {
  engine   = "postgres"
  password = "hunter2-literal"
  master_password = random_password.db.result
  auth_token = sensitive("wrapped-literal")
  tags = { Name = "db", api_token = "tag-token-value" }
  config = <<EOT
first line
EOT
}
"#;
        let found = secrets(tf, false);
        assert_eq!(
            found,
            [
                ("password".into(), 3, "hunter2-literal".into()),
                ("auth_token".into(), 5, "wrapped-literal".into()),
                ("api_token".into(), 6, "tag-token-value".into())
            ]
        );
    }

    #[test]
    fn secret_variables_hide_their_default_and_their_tfvars_value() {
        let tf = "variable \"signing_key\" {\n  default = \"abc\"\n  description = \"key\"\n}\nvariable \"blob\" {\n  sensitive = true\n  default = <<-EOT\n    multi\n  EOT\n}\nvariable \"region\" {\n  default = \"ap-south-1\"\n}\n";
        assert_eq!(secrets(tf, false), [("default".into(), 2, "abc".into()), ("default".into(), 7, "multi\n".into())]);
        let tfvars = "encryption_key = \"k-1\"\nregion = \"ap-south-1\"\nsettings = { stripe_secret = { value = \"nested-value\" } }\n";
        assert_eq!(secrets(tfvars, true), [("encryption_key".into(), 1, "k-1".into()), ("stripe_secret".into(), 3, "nested-value".into())]);
        assert_eq!(secrets(tfvars, false), [("stripe_secret".into(), 3, "nested-value".into())], "an encryption_key argument is not a variable");
    }

    #[test]
    fn a_value_beside_a_name_is_judged_by_the_name() {
        let tf = "resource \"helm_release\" \"r\" {\n  set {\n    name  = \"auth.password\"\n    value = \"set-pw-value\"\n  }\n  set {\n    name  = \"replicas\"\n    value = \"3\"\n  }\n  env = [{ name = \"API_TOKEN\", value = \"env-token\" }]\n}\n";
        assert_eq!(secrets(tf, false), [("auth.password".into(), 4, "set-pw-value".into()), ("API_TOKEN".into(), 10, "env-token".into())]);
    }

    #[test]
    fn unparsable_files_give_nothing() {
        assert!(written(&Arc::from("x.tf"), "resource {", false, Vocabulary::charter()).is_empty());
    }
}
