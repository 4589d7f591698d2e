//! Which values a render adds to the chart's own, so a finding on a value they set points at
//! the file that must change (`values-prod.yaml`, an Argo CD Application's `valuesObject` or
//! parameter) rather than at the template that printed it.
//!
//! Helm does not say which value produced which output line, so the match is by what can be
//! seen: a rendered scalar whose key and value are both written, as a leaf, in one of the
//! added values (the last one that does, as later values win), and a container `image` whose
//! tag or digest is written there. Anything else keeps pointing at its template.

use crate::model::{Node, Resource, Span, Value};
use std::sync::Arc;

/// A scalar the render's added values set: its key (the last segment of its path), its text
/// and where it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Leaf {
    pub key: String,
    pub text: String,
    pub span: Span,
}

/// The scalar leaves of a values document (a values file, an inline `valuesObject`).
pub fn leaves(node: &Node) -> Vec<Leaf> {
    let mut out = Vec::new();
    collect(node, None, &mut out);
    out
}

fn collect(node: &Node, key: Option<&str>, out: &mut Vec<Leaf>) {
    match &node.value {
        Value::Map(entries) => entries.iter().for_each(|(k, v)| collect(v, Some(k), out)),
        Value::List(items) => items.iter().for_each(|item| collect(item, key, out)),
        _ => {
            if let (Some(key), Some(text), Some(span)) = (key, node.scalar_text(), &node.span) {
                out.push(Leaf { key: key.to_string(), text, span: span.clone() });
            }
        }
    }
}

/// The leaves of a values file, read from disk (`shown` as reports name it). A file that does
/// not parse adds nothing: helm itself reports it when it renders.
pub fn file_leaves(path: &std::path::Path, shown: Arc<str>) -> Vec<Leaf> {
    let Ok(text) = std::fs::read_to_string(path) else { return Vec::new() };
    let Ok(documents) = crate::yaml::load(&shown, &text, &crate::yaml::Limits::default()) else { return Vec::new() };
    documents.iter().flat_map(|d| leaves(&d.root)).collect()
}

/// A `--set name=value` (an Argo CD parameter) as a leaf written at `span`.
pub fn set_leaf(name: &str, value: &str, span: Span) -> Leaf {
    let key = name.rsplit('.').next().unwrap_or(name).trim_end_matches(|c: char| c == ']' || c.is_ascii_digit()).trim_end_matches('[');
    Leaf { key: key.to_string(), text: value.to_string(), span }
}

/// Points every attribute of `resource` that `added` (in the order they apply) sets at the
/// leaf that sets it.
pub fn attribute(resource: &mut Resource, added: &[Leaf]) {
    if !added.is_empty() {
        retarget(&mut resource.attrs, None, added);
    }
}

fn retarget(node: &mut Node, key: Option<&str>, added: &[Leaf]) {
    match &mut node.value {
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| retarget(v, Some(k), added)),
        Value::List(items) => items.iter_mut().for_each(|item| retarget(item, key, added)),
        _ => {
            let (Some(key), Some(text)) = (key, node.scalar_text()) else { return };
            if let Some(leaf) = setter(key, &text, added) {
                node.span = Some(leaf.span.clone());
            }
        }
    }
}

/// The last added leaf that sets `key: text`; for an `image`, the last tag or digest it ends with.
fn setter<'a>(key: &str, text: &str, added: &'a [Leaf]) -> Option<&'a Leaf> {
    let same = |leaf: &&Leaf| leaf.key == key && leaf.text == text;
    let image_part = |leaf: &&Leaf| {
        key == "image"
            && matches!(leaf.key.as_str(), "tag" | "digest")
            && !leaf.text.is_empty()
            && (text.ends_with(&format!(":{}", leaf.text)) || text.ends_with(&format!("@{}", leaf.text)))
    };
    added.iter().rev().find(|leaf| same(leaf) || image_part(leaf))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(line: u32) -> Span {
        Span::new("values-prod.yaml".into(), line, 1, line, 10)
    }

    fn node(value: Value, line: u32) -> Node {
        Node::new(value, Some(Span::new("chart/templates/d.yaml".into(), line, 1, line, 5)))
    }

    #[test]
    fn values_that_set_a_rendered_value_take_its_place() {
        let text = "securityContext:\n  runAsNonRoot: false\nimage:\n  repository: r\n  tag: latest\nports: [{name: http}]\n";
        let documents = crate::yaml::load(&Arc::from("values-prod.yaml"), text, &crate::yaml::Limits::default()).unwrap();
        let added = leaves(&documents[0].root);
        assert_eq!(
            added.iter().map(|l| (l.key.as_str(), l.text.as_str(), l.span.start_line)).collect::<Vec<_>>(),
            [("runAsNonRoot", "false", 2), ("repository", "r", 4), ("tag", "latest", 5), ("name", "http", 6)]
        );
        let container = Node::map(
            vec![
                ("image".into(), node(Value::Str("r:latest".into()), 7)),
                (
                    "securityContext".into(),
                    Node::map(vec![("runAsNonRoot".into(), node(Value::Bool(false), 9)), ("runAsUser".into(), node(Value::Int(0), 10))], None),
                ),
                ("imagePullPolicy".into(), node(Value::Str("latest".into()), 11)),
            ],
            None,
        );
        let mut resource = Resource::terraform("Deployment".into(), "Deployment x".into(), span(1), Node::map(vec![("c".into(), container)], None), Vec::new());
        attribute(&mut resource, &added);
        let c = resource.attrs.get("c").unwrap();
        assert_eq!(c.get("image").unwrap().span.as_ref().unwrap().start_line, 5, "the tag that made the image");
        assert_eq!(c.path("securityContext.runAsNonRoot").unwrap().span.as_ref().unwrap().to_string(), "values-prod.yaml:2:17");
        assert_eq!(c.path("securityContext.runAsUser").unwrap().span.as_ref().unwrap().file.as_ref(), "chart/templates/d.yaml", "not in the values");
        assert_eq!(c.get("imagePullPolicy").unwrap().span.as_ref().unwrap().start_line, 11, "a value alone is not enough: the key must match");
    }

    #[test]
    fn later_values_win() {
        let added = [Leaf { key: "replicas".into(), text: "1".into(), span: span(3) }, Leaf { key: "replicas".into(), text: "1".into(), span: span(8) }];
        assert_eq!(setter("replicas", "1", &added).unwrap().span.start_line, 8);
        assert_eq!(set_leaf("image.tag", "latest", span(4)).key, "tag");
        assert_eq!(set_leaf("tolerations[0]", "x", span(4)).key, "tolerations");
    }
}
