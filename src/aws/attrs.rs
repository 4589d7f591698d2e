//! Building the attributes of live resources: Terraform-shaped maps whose values carry no
//! source span (a live value comes from the API, and the resource's origin says which).

use crate::model::{Node, Value};

/// A map of attributes under construction, in insertion order.
#[derive(Default)]
pub struct Attrs(Vec<(String, Node)>);

impl Attrs {
    pub fn new() -> Self {
        Attrs::default()
    }

    /// Sets `key` to `value`.
    pub fn set(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.push((key.to_string(), Node::new(value.into(), None)));
        self
    }

    /// Sets `key` to `value`, or to null when the API left it out.
    pub fn opt(self, key: &str, value: Option<impl Into<Value>>) -> Self {
        match value {
            Some(value) => self.set(key, value),
            None => self.set(key, Value::Null),
        }
    }

    /// Sets `key` to a one-element block list (Terraform's shape for a nested block), or
    /// leaves it out when there is no block.
    pub fn block(self, key: &str, block: Option<Attrs>) -> Self {
        match block {
            Some(block) => self.set(key, Value::List(vec![block.node()])),
            None => self,
        }
    }

    /// Sets `key` to a list of blocks.
    pub fn blocks(self, key: &str, blocks: impl IntoIterator<Item = Attrs>) -> Self {
        let list = blocks.into_iter().map(Attrs::node).collect();
        self.set(key, Value::List(list))
    }

    /// Sets `key` to what a call that feeds it returned: the value, absent (not configured),
    /// or unknown with the reason the call failed.
    pub fn setting(self, key: &str, setting: Result<Option<Value>, String>) -> Self {
        match setting {
            Ok(Some(value)) => self.set(key, value),
            Ok(None) => self,
            Err(reason) => self.set(key, Value::Unknown(reason)),
        }
    }

    pub fn node(self) -> Node {
        Node::map(self.0, None)
    }

    pub fn value(self) -> Value {
        Value::Map(self.0)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::Str(s.clone())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i.into())
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<Attrs> for Value {
    fn from(attrs: Attrs) -> Self {
        attrs.value()
    }
}

/// A list of strings.
pub fn strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Value {
    Value::List(items.into_iter().map(|s| Node::new(Value::Str(s.as_ref().to_string()), None)).collect())
}

/// A string map (tags).
pub fn string_map<K: AsRef<str>, V: AsRef<str>>(entries: impl IntoIterator<Item = (K, V)>) -> Value {
    let mut entries: Vec<(String, Node)> = entries.into_iter().map(|(k, v)| (k.as_ref().to_string(), Node::new(Value::Str(v.as_ref().to_string()), None))).collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.dedup_by(|a, b| a.0 == b.0);
    Value::Map(entries)
}

/// A reference to another live resource by its address (ARN), so rules can join the two
/// (`lookup`, `referrers_via`) as they join Terraform resources.
pub fn reference(address: &str, attribute: &str) -> Value {
    Value::Ref { address: address.to_string(), attribute: attribute.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_values_absent_or_unknown() {
        let node = Attrs::new()
            .set("name", "b")
            .opt("kms", None::<String>)
            .setting("policy", Ok(None))
            .setting("tags", Err("s3:GetBucketTagging failed: AccessDenied".into()))
            .block("versioning", Some(Attrs::new().set("status", "Enabled")))
            .node();
        assert_eq!(node.get("name").and_then(Node::as_str), Some("b"));
        assert_eq!(node.get("kms").map(|n| &n.value), Some(&Value::Null));
        assert!(node.get("policy").is_none());
        assert!(node.get("tags").is_some_and(Node::is_unknown));
        assert_eq!(node.path("versioning.status").and_then(Node::as_str), Some("Enabled"));
    }

    #[test]
    fn tag_maps_are_sorted_and_unique() {
        let Value::Map(entries) = string_map([("b", "2"), ("a", "1"), ("b", "3")]) else { panic!("a map") };
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
    }
}
