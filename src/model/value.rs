//! Attribute values that remember where they came from.

use super::Span;

/// A value plus the span of source text that produced it (`None` for values the
/// normaliser derived, e.g. a default that Terraform would apply).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Option<Span>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Node>),
    /// Ordered as written; keys are unique.
    Map(Vec<(String, Node)>),
    /// A value that cannot be known before apply or without an input that was not given.
    /// Rules that depend on it report "could not decide" with this reason.
    Unknown(String),
    /// A computed attribute of another resource in the model (`aws_kms_key.gold.arn`):
    /// its value is unknown until apply, but which resource it belongs to is known, which is
    /// all identity checks (same key? customer-managed key?) need.
    Ref {
        address: String,
        attribute: String,
    },
    /// JSON text (`jsonencode(...)`, a policy document's `json`) whose text is known only after
    /// apply because some leaves of the document are unknown, held as that document: a rule
    /// that reads only its known parts (a statement's `Effect` and `Condition`, not its
    /// `Resource` ARN) can still decide. Expressions treat it as the unknown it is.
    PartialJson(Box<Node>),
    /// A string template whose text is known only in part (`"logs-${random_pet.this.id}"`):
    /// its parts in order, each a known `Str`, a `Ref` (a computed attribute) or an `Unknown`.
    /// Expressions treat it as the unknown it is; a rule reading the words of a name can still
    /// use the parts the code spells out.
    PartialStr(Vec<Node>),
}

/// The attribute of a resource whose count or for_each is unknown: whether it exists at all is
/// unknown, for this reason.
pub const EXISTS_KEY: &str = "__exists";

/// Why a reference to a computed attribute has no value yet.
pub fn after_apply_reason(address: &str, attribute: &str) -> String {
    if attribute.is_empty() {
        format!("{address} is known only after apply")
    } else {
        format!("{address}.{attribute} is known only after apply")
    }
}

impl Node {
    pub fn new(value: Value, span: Option<Span>) -> Self {
        Node { value, span }
    }

    pub fn map(entries: Vec<(String, Node)>, span: Option<Span>) -> Self {
        Node::new(Value::Map(entries), span)
    }

    /// The entry `key` of a map node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match &mut self.value {
            Value::Map(entries) => entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Sets `key` in a map node, replacing an existing entry in place.
    pub fn insert(&mut self, key: &str, node: Node) {
        if let Value::Map(entries) = &mut self.value {
            match entries.iter_mut().find(|(k, _)| k == key) {
                Some((_, existing)) => *existing = node,
                None => entries.push((key.to_string(), node)),
            }
        }
    }

    /// Follows a dotted path; a list on the way is entered at its first element, because
    /// Terraform nested blocks are lists that nearly always hold one block. A `*` segment
    /// matches any element of a list: the first element under which the rest of the path
    /// exists is taken.
    pub fn path(&self, path: &str) -> Option<&Node> {
        let segments: Vec<&str> = path.split('.').filter(|s| !s.is_empty()).collect();
        self.find(&segments)
    }

    fn find(&self, segments: &[&str]) -> Option<&Node> {
        let Some((first, rest)) = segments.split_first() else { return Some(self) };
        if *first == "*" {
            return match &self.value {
                Value::List(items) => items.iter().find_map(|item| item.find(rest)),
                _ => self.find(rest),
            };
        }
        let node = self.first_if_list();
        let child = match (first.parse::<usize>(), &node.value) {
            (Ok(index), Value::List(items)) => items.get(index)?,
            _ => node.get(first)?,
        };
        child.find(rest)
    }

    /// The deepest node along `path` that exists, for pointing a finding at the closest
    /// attribute written in the source when the offending one is missing.
    pub fn deepest(&self, path: &str) -> &Node {
        let mut node = self;
        for segment in path.split('.').filter(|s| !s.is_empty() && *s != "*") {
            let next = node.first_if_list();
            match next.get(segment) {
                Some(child) => node = child,
                None => return next,
            }
        }
        node
    }

    fn first_if_list(&self) -> &Node {
        match &self.value {
            Value::List(items) if !items.is_empty() => &items[0],
            _ => self,
        }
    }

    /// The text of a scalar (`name: 123` is still a name), as YAML spells it.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.value, Value::Unknown(_))
    }

    /// Why this leaf has no value: an unknown's reason, a partly known string's first unknown
    /// part's; `None` for a known value.
    pub fn unknown_reason(&self) -> Option<String> {
        match &self.value {
            Value::Unknown(reason) => Some(reason.clone()),
            Value::Ref { address, attribute } => Some(after_apply_reason(address, attribute)),
            Value::PartialStr(parts) => parts.iter().find_map(Node::unknown_reason),
            _ => None,
        }
    }

    /// The first unknown leaf (or reference) below this node, depth first.
    pub fn first_unknown(&self) -> Option<&Node> {
        match &self.value {
            Value::Unknown(_) | Value::Ref { .. } => Some(self),
            Value::List(items) => items.iter().find_map(Node::first_unknown),
            Value::Map(entries) => entries.iter().find_map(|(_, v)| v.first_unknown()),
            Value::PartialJson(document) => document.first_unknown(),
            Value::PartialStr(parts) => parts.iter().find_map(Node::first_unknown),
            _ => None,
        }
    }

    /// Plain JSON for reports and CEL. Unknown values become `{"$unknown": reason}`,
    /// references `{"$ref": address, "attribute": name}` and partly known JSON text
    /// `{"$json": document}`, so nothing is silently turned into a known value.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map(J::Number).unwrap_or(J::Null),
            Value::Str(s) => J::String(s.clone()),
            Value::List(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(entries.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            Value::Unknown(reason) => serde_json::json!({ "$unknown": reason }),
            Value::Ref { address, attribute } => serde_json::json!({ "$ref": address, "attribute": attribute }),
            Value::PartialJson(document) => serde_json::json!({ "$json": document.to_json() }),
            Value::PartialStr(parts) => {
                serde_json::json!({ "$unknown": self.unknown_reason(), "$parts": parts.iter().map(Node::to_json).collect::<Vec<_>>() })
            }
        }
    }

    /// A JSON document (an API response) as a node tree. Its values carry no span: a live value
    /// comes from an API, and the resource's origin says which.
    pub fn from_json(json: serde_json::Value) -> Node {
        use serde_json::Value as J;
        let value = match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(b),
            J::Number(n) => n.as_i64().map_or_else(|| Value::Float(n.as_f64().unwrap_or(f64::NAN)), Value::Int),
            J::String(s) => Value::Str(s),
            J::Array(items) => Value::List(items.into_iter().map(Node::from_json).collect()),
            J::Object(entries) => Value::Map(entries.into_iter().map(|(k, v)| (k, Node::from_json(v))).collect()),
        };
        Node::new(value, None)
    }

    /// Every unknown value below this node, with its dotted path (list indices omitted),
    /// so the engine can tell whether a rule reads one. Paths are only built for unknowns.
    /// The unknown leaves of partly known JSON text are under the text's own path, as the
    /// document a rule parses from it has them.
    pub fn unknown_paths(&self) -> Vec<(String, &Node)> {
        let mut out = Vec::new();
        self.collect_unknowns(&mut Vec::new(), &mut out);
        out
    }

    fn collect_unknowns<'a>(&'a self, path: &mut Vec<&'a str>, out: &mut Vec<(String, &'a Node)>) {
        match &self.value {
            Value::Unknown(_) | Value::PartialStr(_) => out.push((path.join("."), self)),
            Value::List(items) => items.iter().for_each(|item| item.collect_unknowns(path, out)),
            Value::PartialJson(document) => document.collect_unknowns(path, out),
            Value::Map(entries) => {
                for (key, child) in entries {
                    path.push(key);
                    child.collect_unknowns(path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(v: Value) -> Node {
        Node::new(v, None)
    }

    #[test]
    fn path_enters_single_block_lists() {
        let algo = leaf(Value::Str("aws:kms".into()));
        let rule = Node::map(vec![("sse_algorithm".into(), algo)], None);
        let root = Node::map(vec![("rule".into(), leaf(Value::List(vec![rule])))], None);
        assert_eq!(root.path("rule.sse_algorithm").and_then(Node::as_str), Some("aws:kms"));
        assert!(root.path("rule.missing").is_none());
        // A missing attribute points at the closest block written in the source.
        let Value::List(blocks) = &root.get("rule").unwrap().value else { panic!("rule is a list") };
        assert!(std::ptr::eq(root.deepest("rule.missing.deeper"), &blocks[0]));
    }

    #[test]
    fn star_takes_the_first_element_that_has_the_rest() {
        let plain = Node::map(vec![("name".into(), leaf(Value::Str("A".into())))], None);
        let secret = Node::map(vec![("secretRef".into(), leaf(Value::Bool(true)))], None);
        let root = Node::map(vec![("env".into(), leaf(Value::List(vec![plain, secret])))], None);
        assert_eq!(root.path("env.*.secretRef").map(|n| &n.value), Some(&Value::Bool(true)));
        assert!(root.path("env.*.missing").is_none());
    }

    #[test]
    fn json_round_trips_without_spans() {
        let json = serde_json::json!({"b": [1, 2.5, "x", null, true], "a": {"big": u64::MAX}});
        let node = Node::from_json(json.clone());
        assert!(node.span.is_none());
        assert_eq!(
            node.path("b").map(|n| &n.value),
            Some(&Value::List(vec![leaf(Value::Int(1)), leaf(Value::Float(2.5)), leaf(Value::Str("x".into())), leaf(Value::Null), leaf(Value::Bool(true))]))
        );
        assert_eq!(node.path("a.big").map(|n| &n.value), Some(&Value::Float(u64::MAX as f64)));
        // Keys keep their order.
        let Value::Map(entries) = &node.value else { panic!("a map") };
        assert_eq!(entries.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(node.path("b").unwrap().to_json(), json["b"]);
    }

    #[test]
    fn unknown_paths_skip_list_indices() {
        let unknown = leaf(Value::Unknown("var.key has no value".into()));
        let item = Node::map(vec![("kms".into(), unknown)], None);
        let root = Node::map(vec![("rule".into(), leaf(Value::List(vec![item])))], None);
        let paths: Vec<String> = root.unknown_paths().into_iter().map(|(p, _)| p).collect();
        assert_eq!(paths, vec!["rule.kms".to_string()]);
    }
}
