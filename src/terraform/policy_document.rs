//! `data "aws_iam_policy_document"` rendered as the AWS provider renders it (v5/v6,
//! `internal/service/iam/policy_document_data_source.go` and `policy_model.go`): source
//! documents merged first, then the statements written in the block, then the override
//! documents, statements with the same `Sid` replacing each other; then Go's `encoding/json`
//! (`MarshalIndent` for `json`, `Marshal` for `minified_json`). The provider's quirks are kept
//! because rules read its output: a set of one string becomes that string, longer sets are
//! sorted in reverse, `&{` becomes `${` in resources, principals and condition values, and a
//! principal `{type = "*", identifiers = ["*"]}` alone becomes `"*"`.
//!
//! A value known only after apply (an ARN in `resources`) leaves the document known in part:
//! `json` is then [`Value::PartialJson`], and a rule reading only a statement's `Effect` and
//! `Condition` still decides.

use super::eval::functions::json_string;
use crate::model::{Node, Value};
use std::collections::BTreeMap;

/// The statement fields in the order the provider's struct declares (and so writes) them.
const STATEMENT_FIELDS: [&str; 9] = ["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"];

/// The data source's computed attributes (`json`, `minified_json`, `id`) for its evaluated
/// arguments, or an error message as the provider would fail.
pub fn render(config: &Node) -> Result<Vec<(String, Node)>, String> {
    let document = merged_document(config)?;
    let node = document.to_node();
    if node.first_unknown().is_some() {
        let partial = Node::new(Value::PartialJson(Box::new(node)), None);
        let id = Node::new(Value::Unknown("the policy document's id hashes its JSON, which is known only after apply".into()), None);
        return Ok(vec![("json".into(), partial.clone()), ("minified_json".into(), partial), ("id".into(), id)]);
    }
    let json = go_json(&node, Some(0));
    let id = crc32fast::hash(json.as_bytes()).to_string();
    Ok(vec![("minified_json".into(), text(go_json(&node, None))), ("json".into(), text(json)), ("id".into(), text(id))])
}

fn text(s: String) -> Node {
    Node::new(Value::Str(s), None)
}

/// A policy document: version, id and statements (each in the provider's field order).
#[derive(Default)]
struct Document {
    version: String,
    id: Option<Node>,
    statements: Vec<Statement>,
    /// The statements themselves are unknown (a `dynamic "statement"` over an unknown
    /// collection, a source document known only after apply).
    unknown_statements: Option<Node>,
}

/// A statement's fields in the provider's order, or the statement as a whole when it is
/// unknown.
enum Statement {
    Known(Vec<(&'static str, Node)>),
    Unknown(Node),
}

impl Statement {
    fn sid(&self) -> Option<&Node> {
        match self {
            Statement::Known(fields) => fields.iter().find(|(k, _)| *k == "Sid").map(|(_, v)| v),
            Statement::Unknown(_) => None,
        }
    }

    fn to_node(&self) -> Node {
        match self {
            Statement::Known(fields) => Node::map(fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(), None),
            Statement::Unknown(node) => node.clone(),
        }
    }
}

impl Document {
    /// The provider's `Merge`: the newer id, the higher version, statements appended or
    /// replacing the one with the same `Sid`.
    fn merge(&mut self, newer: Document) {
        if newer.id.as_ref().is_some_and(|id| id.as_str() != Some("")) {
            self.id = newer.id;
        }
        if newer.version > self.version {
            self.version = newer.version;
        }
        if let Some(unknown) = newer.unknown_statements {
            self.unknown_statements = Some(unknown);
            return;
        }
        for statement in newer.statements {
            let sid = statement.sid().and_then(Node::as_str).filter(|s| !s.is_empty()).map(str::to_string);
            let existing = sid.as_ref().and_then(|sid| self.statements.iter_mut().find(|s| s.sid().and_then(Node::as_str) == Some(sid.as_str())));
            match existing {
                Some(existing) => *existing = statement,
                None => self.statements.push(statement),
            }
        }
    }

    fn to_node(&self) -> Node {
        let mut entries = Vec::new();
        if !self.version.is_empty() {
            entries.push(("Version".to_string(), Node::new(Value::Str(self.version.clone()), None)));
        }
        if let Some(id) = self.id.as_ref().filter(|id| id.as_str() != Some("")) {
            entries.push(("Id".to_string(), id.clone()));
        }
        if let Some(unknown) = &self.unknown_statements {
            entries.push(("Statement".to_string(), unknown.clone()));
        } else if !self.statements.is_empty() {
            let statements = self.statements.iter().map(Statement::to_node).collect();
            entries.push(("Statement".to_string(), Node::new(Value::List(statements), None)));
        }
        Node::map(entries, None)
    }
}

/// Sources, then the block's own statements, then overrides, as the provider merges them.
fn merged_document(config: &Node) -> Result<Document, String> {
    let mut merged = Document::default();
    for (i, source) in documents(config, "source_policy_documents")?.into_iter().enumerate() {
        let source = source.map_err(|e| format!("merging source document {i}: {e}"))?;
        check_unique_sids(&merged, &source, i)?;
        merged.merge(source);
    }
    merged.merge(own_document(config)?);
    for (i, overriding) in documents(config, "override_policy_documents")?.into_iter().enumerate() {
        merged.merge(overriding.map_err(|e| format!("merging override document {i}: {e}"))?);
    }
    Ok(merged)
}

fn check_unique_sids(merged: &Document, source: &Document, index: usize) -> Result<(), String> {
    for statement in &source.statements {
        let Some(sid) = statement.sid().and_then(Node::as_str).filter(|s| !s.is_empty()) else { continue };
        if merged.statements.iter().any(|s| s.sid().and_then(Node::as_str) == Some(sid)) {
            return Err(format!("merging source document {index}: duplicate Sid ({sid}) in source_policy_documents"));
        }
    }
    Ok(())
}

/// The JSON documents of a list argument, each parsed (or an error), nulls skipped.
fn documents(config: &Node, argument: &str) -> Result<Vec<Result<Document, String>>, String> {
    let Some(list) = config.get(argument) else { return Ok(Vec::new()) };
    let items = match &list.value {
        Value::Null => return Ok(Vec::new()),
        Value::List(items) => items,
        Value::Unknown(_) | Value::Ref { .. } => return Ok(vec![Ok(unknown_document(list))]),
        _ => return Err(format!("{argument} must be a list of JSON documents")),
    };
    Ok(items.iter().filter(|item| item.value != Value::Null).map(parse_document).collect())
}

/// A document whose statements are unknown, because `node` (the document or its statements) is.
fn unknown_document(node: &Node) -> Document {
    let unknown = node.first_unknown().cloned().unwrap_or_else(|| node.clone());
    Document { unknown_statements: Some(unknown), ..Document::default() }
}

/// A JSON policy as the provider reads it back (`json.Unmarshal` into its model).
fn parse_document(node: &Node) -> Result<Document, String> {
    let tree = match &node.value {
        Value::Str(text) => {
            let json: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
            Node::from_json(json)
        }
        Value::PartialJson(document) => (**document).clone(),
        _ => return Ok(unknown_document(node)),
    };
    let Value::Map(_) = &tree.value else { return Err("a policy document is a JSON object".into()) };
    let mut document =
        Document { version: tree.get("Version").and_then(Node::as_str).unwrap_or_default().to_string(), id: tree.get("Id").cloned(), ..Document::default() };
    match tree.get("Statement").map(|s| &s.value) {
        None | Some(Value::Null) => {}
        Some(Value::List(items)) => {
            for item in items {
                document.statements.push(parse_statement(item)?);
            }
        }
        Some(Value::Unknown(_) | Value::Ref { .. } | Value::PartialJson(_)) => return Ok(unknown_document(tree.get("Statement").unwrap_or(node))),
        Some(_) => return Err("Statement must be a list".into()),
    }
    Ok(document)
}

fn parse_statement(node: &Node) -> Result<Statement, String> {
    if let Value::Unknown(_) | Value::Ref { .. } | Value::PartialJson(_) = node.value {
        return Ok(Statement::Unknown(node.clone()));
    }
    let mut fields = Vec::new();
    for name in STATEMENT_FIELDS {
        let Some(value) = node.get(name) else { continue };
        let value = match name {
            "Principal" | "NotPrincipal" => principals_from_json(value)?,
            "Condition" => conditions_from_json(value)?,
            _ => value.clone(),
        };
        if !is_empty(&value) {
            fields.push((name, value));
        }
    }
    Ok(Statement::Known(fields))
}

/// Go's `omitempty`: empty strings, empty lists and maps, and null are left out.
fn is_empty(node: &Node) -> bool {
    match &node.value {
        Value::Null => true,
        Value::Str(s) => s.is_empty(),
        Value::List(items) => items.is_empty(),
        Value::Map(entries) => entries.is_empty(),
        _ => false,
    }
}

/// A `Principal` read back from JSON: `"*"` stays, lists of identifiers end reverse sorted.
fn principals_from_json(node: &Node) -> Result<Node, String> {
    match &node.value {
        Value::Str(_) => Ok(Node::new(Value::Str("*".into()), node.span.clone())),
        Value::Map(entries) => {
            let mut sorted: Vec<(String, Node)> = entries.iter().map(|(k, v)| (k.clone(), reverse_sorted_if_list(v))).collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(Node::map(sorted, node.span.clone()))
        }
        Value::Unknown(_) | Value::Ref { .. } | Value::PartialJson(_) => Ok(node.clone()),
        _ => Err("Principal must be \"*\" or an object".into()),
    }
}

/// A `Condition` read back from JSON: operators and keys sorted, a bool value as its text
/// (numbers are dropped, as the provider drops them), one-element lists as their element.
fn conditions_from_json(node: &Node) -> Result<Node, String> {
    let Value::Map(tests) = &node.value else {
        return match &node.value {
            Value::Unknown(_) | Value::Ref { .. } | Value::PartialJson(_) => Ok(node.clone()),
            _ => Err("Condition must be an object".into()),
        };
    };
    let mut out: Vec<(String, Node)> = Vec::new();
    for (test, variables) in tests {
        let Value::Map(variables) = &variables.value else {
            out.push((test.clone(), variables.clone()));
            continue;
        };
        let mut entries: Vec<(String, Node)> = Vec::new();
        for (variable, values) in variables {
            let value = match &values.value {
                Value::Bool(b) => Node::new(Value::Str(b.to_string()), values.span.clone()),
                Value::List(items) if items.len() == 1 => items[0].clone(),
                Value::Str(_) | Value::List(_) | Value::Unknown(_) | Value::Ref { .. } => values.clone(),
                _ => continue,
            };
            entries.push((variable.clone(), value));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        out.push((test.clone(), Node::map(entries, variables_span(tests, test))));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Node::map(out, node.span.clone()))
}

fn variables_span(tests: &[(String, Node)], test: &str) -> Option<crate::model::Span> {
    tests.iter().find(|(t, _)| t == test).and_then(|(_, v)| v.span.clone())
}

fn reverse_sorted_if_list(node: &Node) -> Node {
    match &node.value {
        Value::List(items) => Node::new(Value::List(reverse_sorted(items.clone())), node.span.clone()),
        _ => node.clone(),
    }
}

/// Known strings in reverse order, unknown elements after them (their place is unknown).
fn reverse_sorted(mut items: Vec<Node>) -> Vec<Node> {
    items.sort_by(|a, b| match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => y.cmp(x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    items
}

/// The document the block's own arguments describe.
fn own_document(config: &Node) -> Result<Document, String> {
    let version = match config.get("version").map(|v| &v.value) {
        None | Some(Value::Null) => "2012-10-17".to_string(),
        Some(Value::Str(v)) if v == "2012-10-17" || v == "2008-10-17" => v.clone(),
        Some(Value::Str(v)) => return Err(format!("version {v:?} is neither 2012-10-17 nor 2008-10-17")),
        Some(_) => return Ok(unknown_document(config.get("version").unwrap_or(config))),
    };
    let mut document = Document { version, id: config.get("policy_id").cloned(), ..Document::default() };
    let Some(statements) = config.get("statement") else { return Ok(document) };
    let blocks = match &statements.value {
        Value::List(blocks) => blocks,
        Value::Null => return Ok(document),
        _ => return Ok(Document { version: document.version, id: document.id, ..unknown_document(statements) }),
    };
    let mut sids: Vec<&str> = Vec::new();
    for block in blocks {
        if let Some(sid) = block.get("sid").and_then(Node::as_str).filter(|s| !s.is_empty()) {
            if sids.contains(&sid) {
                return Err(format!("duplicate Sid ({sid}); remove the Sid or make it unique"));
            }
            sids.push(sid);
        }
        document.statements.push(statement_from_block(block, &document.version)?);
    }
    Ok(document)
}

fn statement_from_block(block: &Node, version: &str) -> Result<Statement, String> {
    if let Value::Unknown(_) | Value::Ref { .. } = block.value {
        return Ok(Statement::Unknown(block.clone()));
    }
    let mut fields: Vec<(&'static str, Node)> = Vec::new();
    if let Some(sid) = block.get("sid").filter(|s| !is_empty(s)) {
        fields.push(("Sid", sid.clone()));
    }
    let effect = block.get("effect").filter(|e| e.value != Value::Null).cloned().unwrap_or_else(|| Node::new(Value::Str("Allow".into()), block.span.clone()));
    fields.push(("Effect", effect));
    for (argument, field, variables) in
        [("actions", "Action", false), ("not_actions", "NotAction", false), ("resources", "Resource", true), ("not_resources", "NotResource", true)]
    {
        if let Some(value) = string_set(block.get(argument), variables, version)? {
            fields.push((field, value));
        }
    }
    for (argument, field) in [("principals", "Principal"), ("not_principals", "NotPrincipal")] {
        if let Some(value) = principals(block.get(argument), version)? {
            fields.push((field, value));
        }
    }
    if let Some(value) = conditions(block.get("condition"), version)? {
        fields.push(("Condition", value));
    }
    Ok(Statement::Known(fields))
}

/// A set of strings as the provider writes it: one string alone, several reverse sorted; `None`
/// when empty. `variables`: `&{` is the provider's escape for an IAM `${` variable.
fn string_set(value: Option<&Node>, variables: bool, version: &str) -> Result<Option<Node>, String> {
    let Some(value) = value else { return Ok(None) };
    let items = match &value.value {
        Value::Null => return Ok(None),
        Value::List(items) => items,
        Value::Unknown(_) | Value::Ref { .. } | Value::PartialJson(_) => return Ok(Some(value.clone())),
        Value::Str(_) => std::slice::from_ref(value),
        _ => return Err("expected a set of strings".into()),
    };
    let mut unique: Vec<Node> = Vec::new();
    for item in items {
        if item.as_str().is_none() || !unique.iter().any(|u| u.value == item.value) {
            unique.push(item.clone());
        }
    }
    // Sorted as written, then `&{` replaced, as the provider does it.
    let unique = if unique.len() > 1 { reverse_sorted(unique) } else { unique };
    let mut unique: Vec<Node> = if variables { unique.iter().map(|item| replace_variables(item, version)).collect::<Result<_, _>>()? } else { unique };
    Ok(match unique.len() {
        0 => None,
        1 => unique.pop(),
        _ => Some(Node::new(Value::List(unique), value.span.clone())),
    })
}

fn replace_variables(item: &Node, version: &str) -> Result<Node, String> {
    match &item.value {
        Value::Str(s) if s.contains("&{") => {
            if version == "2008-10-17" {
                return Err(format!("found &{{ sequence in ({s}), which is not supported in document version 2008-10-17"));
            }
            Ok(Node::new(Value::Str(s.replace("&{", "${")), item.span.clone()))
        }
        _ => Ok(item.clone()),
    }
}

/// A nested block argument of a statement (`principals`, `condition`).
enum Nested<'a> {
    None,
    /// The blocks themselves are unknown (a `dynamic` block over an unknown collection).
    Unknown(&'a Node),
    Blocks(&'a Node, &'a [Node]),
}

fn nested_blocks(value: Option<&Node>) -> Nested<'_> {
    match value {
        None => Nested::None,
        Some(Node { value: Value::Null, .. }) => Nested::None,
        Some(Node { value: Value::List(blocks), .. }) if blocks.is_empty() => Nested::None,
        Some(node @ Node { value: Value::List(blocks), .. }) => Nested::Blocks(node, blocks),
        Some(other) => Nested::Unknown(other),
    }
}

/// `principals` blocks as the provider's principal set marshals: identifiers by type (types
/// sorted), a type's identifiers from several blocks concatenated, `*`/`["*"]` alone as `"*"`.
fn principals(value: Option<&Node>, version: &str) -> Result<Option<Node>, String> {
    let (value, blocks) = match nested_blocks(value) {
        Nested::None => return Ok(None),
        Nested::Unknown(unknown) => return Ok(Some(unknown.clone())),
        Nested::Blocks(value, blocks) => (value, blocks),
    };
    let mut by_type: Vec<(String, Node)> = Vec::new();
    for block in blocks {
        // A `dynamic "principals"` over a collection known only after apply.
        if let Value::Unknown(_) | Value::Ref { .. } = block.value {
            return Ok(Some(block.clone()));
        }
        let kind = match block.get("type") {
            Some(Node { value: Value::Str(kind), .. }) => kind.clone(),
            Some(unknown) => return Ok(Some(unknown.clone())),
            None => return Err("a principals block needs a type".into()),
        };
        let identifiers = string_set(block.get("identifiers"), true, version)?.unwrap_or_else(|| Node::new(Value::List(Vec::new()), block.span.clone()));
        if blocks.len() == 1 && kind == "*" && is_star(&identifiers) {
            return Ok(Some(Node::new(Value::Str("*".into()), block.span.clone())));
        }
        match by_type.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, existing)) => *existing = concatenated(existing, &identifiers),
            None => by_type.push((kind, identifiers)),
        }
    }
    by_type.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Some(Node::map(by_type, value.span.clone())))
}

fn is_star(identifiers: &Node) -> bool {
    match &identifiers.value {
        Value::Str(s) => s == "*",
        Value::List(items) => items.len() == 1 && items[0].as_str() == Some("*"),
        _ => false,
    }
}

/// Two principal identifier values of the same type, joined into a list.
fn concatenated(first: &Node, second: &Node) -> Node {
    let as_list = |node: &Node| match &node.value {
        Value::List(items) => items.clone(),
        _ => vec![node.clone()],
    };
    let mut items = as_list(first);
    items.extend(as_list(second));
    Node::new(Value::List(items), first.span.clone())
}

/// `condition` blocks: values by operator and key (both sorted), values of the same key from
/// several blocks concatenated, one value alone as itself.
fn conditions(value: Option<&Node>, version: &str) -> Result<Option<Node>, String> {
    let (value, blocks) = match nested_blocks(value) {
        Nested::None => return Ok(None),
        Nested::Unknown(unknown) => return Ok(Some(unknown.clone())),
        Nested::Blocks(value, blocks) => (value, blocks),
    };
    // Operators and keys in byte order, as Go writes a map.
    let mut tests: BTreeMap<String, BTreeMap<String, Vec<Node>>> = BTreeMap::new();
    for block in blocks {
        if let Value::Unknown(_) | Value::Ref { .. } = block.value {
            return Ok(Some(block.clone()));
        }
        let (Some(test), Some(variable)) = (block.get("test"), block.get("variable")) else {
            return Err("a condition block needs test, variable and values".into());
        };
        let (Some(test), Some(variable)) = (test.as_str(), variable.as_str()) else {
            let unknown = if test.as_str().is_none() { test } else { variable };
            return Ok(Some(unknown.clone()));
        };
        let values = match block.get("values").map(|v| &v.value) {
            Some(Value::List(items)) => items.iter().map(|item| replace_variables(item, version)).collect::<Result<Vec<_>, _>>()?,
            Some(Value::Unknown(_) | Value::Ref { .. }) => vec![block.get("values").cloned().unwrap_or_else(|| block.clone())],
            _ => return Err("a condition block needs a list of values".into()),
        };
        tests.entry(test.to_string()).or_default().entry(variable.to_string()).or_default().extend(values);
    }
    let one_or_list = |mut values: Vec<Node>| if values.len() == 1 { values.pop().expect("one value") } else { Node::new(Value::List(values), None) };
    let entries =
        tests.into_iter().map(|(test, variables)| (test, Node::map(variables.into_iter().map(|(v, values)| (v, one_or_list(values))).collect(), None)));
    Ok(Some(Node::map(entries.collect(), value.span.clone())))
}

/// JSON as Go's `encoding/json` writes it: `MarshalIndent(v, "", "  ")` when `indent` is given,
/// else `Marshal`; strings HTML-escaped as Go does. Only for wholly known documents.
fn go_json(node: &Node, indent: Option<usize>) -> String {
    let mut out = String::new();
    write_go_json(node, indent, &mut out);
    out
}

fn write_go_json(node: &Node, indent: Option<usize>, out: &mut String) {
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    match &node.value {
        Value::List(items) if !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(depth) = indent {
                    newline(out, depth + 1);
                }
                write_go_json(item, indent.map(|d| d + 1), out);
            }
            if let Some(depth) = indent {
                newline(out, depth);
            }
            out.push(']');
        }
        Value::Map(entries) if !entries.is_empty() => {
            out.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(depth) = indent {
                    newline(out, depth + 1);
                }
                json_string(key, out);
                out.push_str(if indent.is_some() { ": " } else { ":" });
                write_go_json(value, indent.map(|d| d + 1), out);
            }
            if let Some(depth) = indent {
                newline(out, depth);
            }
            out.push('}');
        }
        Value::List(_) => out.push_str("[]"),
        Value::Map(_) => out.push_str("{}"),
        Value::Str(s) => json_string(s, out),
        other => out.push_str(&Node::new(other.clone(), None).to_json().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Node {
        Node::new(Value::Str(text.into()), None)
    }

    fn list(items: Vec<Node>) -> Node {
        Node::new(Value::List(items), None)
    }

    fn map(entries: Vec<(&str, Node)>) -> Node {
        Node::map(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect(), None)
    }

    fn attribute<'a>(rendered: &'a [(String, Node)], name: &str) -> &'a Node {
        &rendered.iter().find(|(k, _)| k == name).unwrap().1
    }

    #[test]
    fn renders_as_the_provider_does() {
        let statement = map(vec![
            ("sid", s("DenyInsecureTransport")),
            ("effect", s("Deny")),
            ("actions", list(vec![s("s3:*")])),
            ("resources", list(vec![s("arn:aws:s3:::b"), s("arn:aws:s3:::b/*"), s("arn:aws:s3:::b/&{aws:username}")])),
            ("principals", list(vec![map(vec![("type", s("*")), ("identifiers", list(vec![s("*")]))])])),
            ("condition", list(vec![map(vec![("test", s("Bool")), ("variable", s("aws:SecureTransport")), ("values", list(vec![s("false")]))])])),
        ]);
        let allow = map(vec![("actions", list(vec![s("s3:GetObject"), s("s3:PutObject")])), ("resources", list(vec![s("*")]))]);
        let rendered = render(&map(vec![("statement", list(vec![statement, allow]))])).unwrap();
        let expected = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyInsecureTransport",
      "Effect": "Deny",
      "Action": "s3:*",
      "Resource": [
        "arn:aws:s3:::b/*",
        "arn:aws:s3:::b/${aws:username}",
        "arn:aws:s3:::b"
      ],
      "Principal": "*",
      "Condition": {
        "Bool": {
          "aws:SecureTransport": "false"
        }
      }
    },
    {
      "Effect": "Allow",
      "Action": [
        "s3:PutObject",
        "s3:GetObject"
      ],
      "Resource": "*"
    }
  ]
}"#;
        assert_eq!(attribute(&rendered, "json").as_str(), Some(expected));
        let minified = attribute(&rendered, "minified_json").as_str().unwrap();
        assert!(minified.starts_with(r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Action":"s3:*""#), "{minified}");
        assert_eq!(attribute(&rendered, "id").as_str(), Some(crc32fast::hash(expected.as_bytes()).to_string().as_str()));
    }

    #[test]
    fn principals_group_by_type_and_conditions_by_operator() {
        let principals = list(vec![
            map(vec![("type", s("Service")), ("identifiers", list(vec![s("s3.amazonaws.com")]))]),
            map(vec![("type", s("AWS")), ("identifiers", list(vec![s("arn:aws:iam::111111111111:root"), s("arn:aws:iam::222222222222:root")]))]),
            map(vec![("type", s("Service")), ("identifiers", list(vec![s("logging.s3.amazonaws.com")]))]),
        ]);
        let conditions = list(vec![
            map(vec![("test", s("StringEquals")), ("variable", s("aws:SourceAccount")), ("values", list(vec![s("1"), s("2")]))]),
            map(vec![("test", s("ArnLike")), ("variable", s("aws:SourceArn")), ("values", list(vec![s("arn:x")]))]),
        ]);
        let statement = map(vec![("principals", principals), ("condition", conditions)]);
        let rendered = render(&map(vec![("statement", list(vec![statement]))])).unwrap();
        let minified = attribute(&rendered, "minified_json").as_str().unwrap();
        assert!(
            minified.contains(r#""Principal":{"AWS":["arn:aws:iam::222222222222:root","arn:aws:iam::111111111111:root"],"Service":["s3.amazonaws.com","logging.s3.amazonaws.com"]}"#),
            "{minified}"
        );
        assert!(minified.contains(r#""Condition":{"ArnLike":{"aws:SourceArn":"arn:x"},"StringEquals":{"aws:SourceAccount":["1","2"]}}"#), "{minified}");
    }

    #[test]
    fn sources_and_overrides_merge_by_sid() {
        let source = s(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":["b","a"],"Resource":"*"},{"Effect":"Deny","Action":"x","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}]}"#,
        );
        let overriding = s(r#"{"Statement":[{"Sid":"A","Effect":"Deny","Action":"c","Resource":"*"}]}"#);
        let own = map(vec![("sid", s("B")), ("actions", list(vec![s("d")]))]);
        let config =
            map(vec![("source_policy_documents", list(vec![source])), ("override_policy_documents", list(vec![overriding])), ("statement", list(vec![own]))]);
        let minified = attribute(&render(&config).unwrap(), "minified_json").as_str().unwrap().to_string();
        assert_eq!(
            minified,
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Deny","Action":"c","Resource":"*"},{"Effect":"Deny","Action":"x","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},{"Sid":"B","Effect":"Allow","Action":"d"}]}"#
        );
        let duplicate = map(vec![("source_policy_documents", list(vec![s(r#"{"Statement":[{"Sid":"A"}]}"#), s(r#"{"Statement":[{"Sid":"A"}]}"#)]))]);
        assert!(render(&duplicate).unwrap_err().contains("duplicate Sid (A)"));
    }

    #[test]
    fn unknown_leaves_leave_a_partial_document() {
        let arn = Node::new(Value::Ref { address: "aws_s3_bucket.b".into(), attribute: "arn".into() }, None);
        let statement = map(vec![
            ("effect", s("Deny")),
            ("resources", list(vec![arn])),
            ("condition", list(vec![map(vec![("test", s("Bool")), ("variable", s("aws:SecureTransport")), ("values", list(vec![s("false")]))])])),
        ]);
        let rendered = render(&map(vec![("statement", list(vec![statement]))])).unwrap();
        let Value::PartialJson(document) = &attribute(&rendered, "json").value else { panic!("a partial document") };
        assert_eq!(document.path("Statement.Effect").and_then(Node::as_str), Some("Deny"));
        assert_eq!(document.path("Statement.Condition.Bool.aws:SecureTransport").and_then(Node::as_str), Some("false"));
        assert!(matches!(document.path("Statement.Resource").map(|n| &n.value), Some(Value::Ref { .. })));
        assert!(attribute(&rendered, "id").is_unknown());
    }

    #[test]
    fn blocks_from_dynamic_over_unknown_collections_are_unknown() {
        let unknown = Node::new(Value::Unknown("dynamic \"principals\" blocks: var.p has no value".into()), None);
        let statement = map(vec![("principals", list(vec![unknown.clone()])), ("condition", list(vec![unknown]))]);
        let rendered = render(&map(vec![("statement", list(vec![statement]))])).unwrap();
        let Value::PartialJson(document) = &attribute(&rendered, "json").value else { panic!("a partial document") };
        assert!(document.path("Statement.Principal").is_some_and(Node::is_unknown));
        assert!(document.path("Statement.Condition").is_some_and(Node::is_unknown));
    }

    #[test]
    fn go_escapes_html_characters() {
        assert_eq!(go_json(&s("a<b>&\u{2028}\"\\\n\u{8}"), None), r#""a\u003cb\u003e\u0026\u2028\"\\\n\b""#);
        assert_eq!(go_json(&map(vec![]), Some(0)), "{}");
    }
}
