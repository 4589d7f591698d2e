//! Joins between resources for cross-resource rules: a reference (or an id/ARN string) to
//! the resource it names, and a resource to the resources that refer to it. Both are hash
//! indexes built once per scan, in time linear in the model.

use super::values::{field, reference, unknown_reason};
use crate::model::{Model, Node, Value};
use std::collections::HashMap;

pub struct Lookup {
    values: Vec<cel::Value>,
    types: Vec<String>,
    by_address: HashMap<String, usize>,
    /// Known `id` and `arn` attribute values (live resources refer to each other this way).
    by_identity: HashMap<String, usize>,
    /// Target address → (referring resource, attribute path of the reference).
    referrers: HashMap<String, Vec<(usize, String)>>,
}

impl Lookup {
    pub fn new(model: &Model, values: Vec<cel::Value>) -> Self {
        let mut lookup = Lookup {
            values,
            types: model.resources.iter().map(|r| r.rtype.clone()).collect(),
            by_address: HashMap::new(),
            by_identity: HashMap::new(),
            referrers: HashMap::new(),
        };
        for (i, resource) in model.resources.iter().enumerate() {
            lookup.by_address.insert(resource.address.clone(), i);
            for key in ["id", "arn"] {
                if let Some(identity) = resource.attrs.get(key).and_then(Node::as_str) {
                    lookup.by_identity.insert(identity.to_string(), i);
                }
            }
            collect_references(&resource.attrs, String::new(), &mut |address, path| {
                lookup.referrers.entry(address.to_string()).or_default().push((i, path));
            });
        }
        lookup
    }

    pub fn values(&self) -> &[cel::Value] {
        &self.values
    }

    /// The resource a reference or identity names, if it is in the model.
    pub fn resolve(&self, value: &cel::Value) -> Result<Option<&cel::Value>, String> {
        if let Some(reason) = unknown_reason(value) {
            return Err(format!("the referenced resource is unknown: {reason}"));
        }
        let index = match (reference(value), value) {
            (Some((address, _)), _) => self.by_address.get(address),
            (None, cel::Value::String(text)) => self.by_address.get(text.as_str()).or_else(|| self.by_identity.get(text.as_str())),
            _ => None,
        };
        Ok(index.map(|&i| &self.values[i]))
    }

    /// Resources of `rtype` that refer to `resource` (through `attribute` when given).
    pub fn referrers(&self, resource: &cel::Value, rtype: &str, attribute: Option<&str>) -> Vec<cel::Value> {
        let Some(cel::Value::String(address)) = field(resource, "__address") else { return Vec::new() };
        let mut found: Vec<usize> = self
            .referrers
            .get(address.as_str())
            .into_iter()
            .flatten()
            .filter(|(i, path)| self.types[*i] == rtype && attribute.is_none_or(|a| path == a || path.starts_with(&format!("{a}."))))
            .map(|(i, _)| *i)
            .collect();
        found.dedup();
        found.into_iter().map(|i| self.values[i].clone()).collect()
    }
}

/// Calls `found(address, path)` for every reference below `node` (list indices omitted).
fn collect_references(node: &Node, path: String, found: &mut impl FnMut(&str, String)) {
    match &node.value {
        Value::Ref { address, .. } => found(address, path),
        Value::List(items) => items.iter().for_each(|item| collect_references(item, path.clone(), found)),
        Value::Map(entries) => {
            for (key, child) in entries {
                let child_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                collect_references(child, child_path, found);
            }
        }
        _ => {}
    }
}
