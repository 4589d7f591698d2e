//! Model nodes as CEL values. Unknowns and references keep their meaning as marker maps
//! (`{"$unknown": reason}`, `{"$ref": address, "attribute": name}`, with `"$scope"` naming
//! the root module the address is in): reading a field of them fails, so a rule that touches
//! one cannot decide instead of guessing. JSON text known only in part is `{"$json":
//! document}`, which `json_parse` opens.

use crate::model::{Node, Stored, Value};
use cel::objects::{Key, Map};
use std::collections::HashMap;
use std::sync::Arc;

pub const UNKNOWN_KEY: &str = "$unknown";
pub const REF_KEY: &str = "$ref";
/// Marks an unknown that stands for something that may not be there at all (an element of a
/// list whose length is therefore unknown).
pub const MAYBE_KEY: &str = "$maybe";

/// Marks an unknown that a helper's failure made (a rule variable it could not compute): a
/// check that reads it could not decide in the helper's words.
pub const FAILED_KEY: &str = "$failed";

/// What a helper that could not decide gave a rule variable.
pub fn failed(reason: &str) -> cel::Value {
    map([(UNKNOWN_KEY, string(reason)), (FAILED_KEY, cel::Value::Bool(true))])
}

/// A value unknown for `reason`.
pub fn unknown(reason: &str) -> cel::Value {
    map([(UNKNOWN_KEY, string(reason))])
}

/// Marks the fields known of an unknown object (`{"$unknown": reason, "$known": {...}}`):
/// reading or testing one of them decides, any other field is unknown.
pub const KNOWN_FIELDS_KEY: &str = "$known";

/// An object unknown for `reason` but for the `known` fields.
pub fn partly_known<'a>(reason: &str, known: impl IntoIterator<Item = (&'a str, cel::Value)>) -> cel::Value {
    map([(UNKNOWN_KEY, string(reason)), (KNOWN_FIELDS_KEY, map(known))])
}

/// An element that may not exist, for `reason`.
pub fn maybe_present(reason: &str) -> cel::Value {
    map([(UNKNOWN_KEY, string(reason)), (MAYBE_KEY, cel::Value::Bool(true))])
}

/// The parts of a string known only in part, beside its `$unknown` reason.
pub const PARTS_KEY: &str = "$parts";
/// JSON text known only in part, as the document it encodes.
pub const JSON_KEY: &str = "$json";
/// The join scope of a reference (see [`crate::model::Resource::join_scope`]).
pub const REF_SCOPE_KEY: &str = "$scope";
/// The join scope of a resource value.
pub const SCOPE_KEY: &str = "__scope";

/// `node` as a CEL value; its references resolve in `scope`.
pub fn to_cel(node: &Node, scope: Option<&str>) -> cel::Value {
    match &node.value {
        Value::Null => cel::Value::Null,
        Value::Bool(b) => cel::Value::Bool(*b),
        Value::Int(i) => cel::Value::Int(*i),
        Value::Float(f) => cel::Value::Float(*f),
        Value::Str(s) => cel::Value::String(Arc::new(s.clone())),
        Value::List(items) => cel::Value::List(Arc::new(items.iter().map(|item| to_cel(item, scope)).collect())),
        Value::Map(entries) => map(entries.iter().map(|(k, v)| (k.as_str(), to_cel(v, scope)))),
        Value::Unknown(reason) => unknown(reason),
        Value::Ref { address, attribute } => {
            let marker = [(REF_KEY, string(address)), ("attribute", string(attribute))];
            map(marker.into_iter().chain(scope.map(|scope| (REF_SCOPE_KEY, string(scope)))))
        }
        Value::PartialJson(document) => map([(JSON_KEY, to_cel(document, scope))]),
        Value::PartialStr(parts) => {
            let reason = node.unknown_reason().unwrap_or_default();
            map([(UNKNOWN_KEY, string(&reason)), (PARTS_KEY, cel::Value::List(Arc::new(parts.iter().map(|p| to_cel(p, scope)).collect())))])
        }
    }
}

/// A resource as rules see it: its attributes with its address, type, source and join scope
/// added under `__address`, `__type`, `__source` and `__scope` (for messages and helpers), and
/// for rendered Helm output the template it came from under `__template`.
pub fn resource_value(resource: &Stored, attrs: &Node) -> cel::Value {
    let mut value = to_cel(attrs, resource.join_scope());
    if let cel::Value::Map(map) = &mut value {
        let entries = Arc::make_mut(&mut map.map);
        entries.insert(Key::from("__address"), string(resource.address()));
        entries.insert(Key::from("__type"), string(resource.rtype()));
        entries.insert(Key::from("__source"), string(resource.source.as_str()));
        if let Some(scope) = resource.join_scope() {
            entries.insert(Key::from(SCOPE_KEY), string(scope));
        }
        if let Some(template) = resource.template() {
            entries.insert(Key::from("__template"), string(template));
        }
    }
    value
}

pub fn string(s: &str) -> cel::Value {
    cel::Value::String(Arc::new(s.to_string()))
}

/// A CEL map from string keys.
pub fn map<'a>(entries: impl IntoIterator<Item = (&'a str, cel::Value)>) -> cel::Value {
    let map: HashMap<Key, cel::Value> = entries.into_iter().map(|(k, v)| (Key::from(k), v)).collect();
    cel::Value::Map(Map { map: Arc::new(map) })
}

/// The field `key` of a CEL map.
pub fn field<'v>(value: &'v cel::Value, key: &str) -> Option<&'v cel::Value> {
    match value {
        cel::Value::Map(map) => map.map.get(&Key::from(key)),
        _ => None,
    }
}

/// The reason, when `value` is an unknown marker.
pub fn unknown_reason(value: &cel::Value) -> Option<&str> {
    match field(value, UNKNOWN_KEY) {
        Some(cel::Value::String(reason)) => Some(reason),
        _ => None,
    }
}

/// `(address, attribute)` when `value` is a reference marker.
pub fn reference(value: &cel::Value) -> Option<(&str, &str)> {
    match (field(value, REF_KEY), field(value, "attribute")) {
        (Some(cel::Value::String(address)), Some(cel::Value::String(attribute))) => Some((address, attribute)),
        _ => None,
    }
}

/// A CEL value as message text: strings bare, references by address, others as CEL prints.
pub fn display(value: &cel::Value) -> String {
    if let Some((address, attribute)) = reference(value) {
        return format!("{address}.{attribute}");
    }
    if let Some(reason) = unknown_reason(value) {
        return format!("(unknown: {reason})");
    }
    match value {
        cel::Value::String(s) => s.to_string(),
        cel::Value::Int(i) => i.to_string(),
        cel::Value::UInt(u) => u.to_string(),
        cel::Value::Float(f) => f.to_string(),
        cel::Value::Bool(b) => b.to_string(),
        cel::Value::Null => "null".into(),
        cel::Value::List(items) => format!("[{}]", items.iter().map(display).collect::<Vec<_>>().join(", ")),
        // Sorted: a CEL map's own (hash) order changes from run to run.
        cel::Value::Map(map) => {
            let mut entries: Vec<String> = map.map.iter().map(|(k, v)| format!("{}: {}", display(&k.into()), display(v))).collect();
            entries.sort();
            format!("{{{}}}", entries.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// The same readings on CEL's own values (`dyn Val`), for helpers that read their arguments
/// where they lie instead of copying them (see `functions::calls`).
pub mod native {
    use super::{REF_KEY, UNKNOWN_KEY};
    use cel::common::types::{CelList, CelString};
    use cel::common::value::{CowVal, Val};

    /// The entry `key` of a map (or of anything indexed by strings).
    pub fn field<'b, 'v>(value: &'b (dyn Val + 'v), key: &str) -> Option<&'b (dyn Val + 'v)> {
        match value.as_indexer()?.get(&CelString::from(key)) {
            Ok(CowVal::Borrowed(found)) => Some(found),
            _ => None,
        }
    }

    /// Whether `value` has fields read by name: a map (or a rule's variables), not a list.
    pub fn has_fields(value: &dyn Val) -> bool {
        value.as_indexer().is_some() && list(value).is_none()
    }

    /// The text of a string value.
    pub fn text(value: &dyn Val) -> Option<&str> {
        value.downcast_ref::<CelString>().map(CelString::inner)
    }

    /// The reason, when `value` is an unknown marker.
    pub fn unknown_reason(value: &dyn Val) -> Option<&str> {
        text(field(value, UNKNOWN_KEY)?)
    }

    /// `(address, attribute)` when `value` is a reference marker.
    pub fn reference(value: &dyn Val) -> Option<(&str, &str)> {
        Some((text(field(value, REF_KEY)?)?, text(field(value, "attribute")?)?))
    }

    /// The elements, when `value` is a list.
    pub fn list<'b, 'v>(value: &'b (dyn Val + 'v)) -> Option<&'b [Box<dyn Val + 'v>]> {
        value.downcast_ref::<CelList>().map(CelList::inner)
    }
}
