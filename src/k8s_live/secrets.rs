//! Secrets without their values. SEC-003 needs to know that a Secret carries data and under
//! which keys; no rule needs a value, so none is ever kept: a listed Secret is deserialized
//! straight into this shape, which keeps the key names of `data` and `stringData` and drops
//! their values, and drops the `kubectl.kubernetes.io/last-applied-configuration` annotation
//! (a copy of the Secret as applied, values included) and `managedFields`. Nothing else of
//! the audit ever sees the values.

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt;

/// kubectl's copy of the applied object, which holds a Secret's values.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// A Secret list item, as kept.
#[derive(Deserialize)]
pub struct SecretWithoutValues {
    #[serde(default)]
    metadata: Metadata,
    #[serde(rename = "type", default)]
    secret_type: Option<String>,
    #[serde(default)]
    immutable: Option<bool>,
    #[serde(default, deserialize_with = "keys_only")]
    data: Option<Vec<String>>,
    #[serde(rename = "stringData", default, deserialize_with = "keys_only")]
    string_data: Option<Vec<String>>,
}

impl SecretWithoutValues {
    /// The Secret as a JSON object whose `data`/`stringData` map each key to null.
    pub fn into_object(self) -> Value {
        let keys = |keys: Vec<String>| Value::Object(keys.into_iter().map(|k| (k, Value::Null)).collect());
        let mut object = Map::new();
        object.insert("metadata".into(), Value::Object(self.metadata.0));
        if let Some(secret_type) = self.secret_type {
            object.insert("type".into(), Value::String(secret_type));
        }
        if let Some(immutable) = self.immutable {
            object.insert("immutable".into(), Value::Bool(immutable));
        }
        if let Some(data) = self.data {
            object.insert("data".into(), keys(data));
        }
        if let Some(string_data) = self.string_data {
            object.insert("stringData".into(), keys(string_data));
        }
        Value::Object(object)
    }
}

/// The key names of a map, its values skipped unread.
fn keys_only<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<String>>, D::Error> {
    let map: Option<std::collections::BTreeMap<String, IgnoredAny>> = Option::deserialize(deserializer)?;
    Ok(map.map(|m| m.into_keys().collect()))
}

/// Object metadata without `managedFields` and without the last-applied annotation.
#[derive(Default)]
struct Metadata(Map<String, Value>);

impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MapWithout { skipped: &["managedFields"], annotations: true }).map(Metadata)
    }
}

/// Reads a JSON object, skipping the values of `skipped` keys unread; with `annotations`, its
/// `annotations` entry is read as [`Annotations`].
struct MapWithout {
    skipped: &'static [&'static str],
    annotations: bool,
}

impl<'de> Visitor<'de> for MapWithout {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kept = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if self.skipped.contains(&key.as_str()) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value = match self.annotations && key == "annotations" {
                true => map.next_value::<Option<Annotations>>()?.map_or(Value::Null, |Annotations(kept)| Value::Object(kept)),
                false => map.next_value::<Value>()?,
            };
            kept.insert(key, value);
        }
        Ok(kept)
    }
}

/// Annotations, the last-applied one skipped unread.
struct Annotations(Map<String, Value>);

impl<'de> Deserialize<'de> for Annotations {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MapWithout { skipped: &[LAST_APPLIED], annotations: false }).map(Annotations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_never_survive_deserialization() {
        let listed = r#"{
            "metadata": {"name": "db", "namespace": "api", "uid": "1",
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"password\":\"c3VwZXJzZWNyZXQ=\"}}", "team": "core"},
                "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:data": {"f:password": {}}}}]},
            "type": "Opaque",
            "data": {"password": "c3VwZXJzZWNyZXQ=", "user": "YWRtaW4="}
        }"#;
        let secret: SecretWithoutValues = serde_json::from_str(listed).unwrap();
        let object = secret.into_object();
        let text = object.to_string();
        assert!(!text.contains("c3VwZXJzZWNyZXQ") && !text.contains("YWRtaW4") && !text.contains("last-applied"), "{text}");
        assert_eq!(object["data"], serde_json::json!({"password": null, "user": null}));
        assert_eq!(object["metadata"]["annotations"], serde_json::json!({"team": "core"}));
        assert!(object["metadata"].get("managedFields").is_none());
        assert_eq!(object["type"], "Opaque");
        assert!(object.get("stringData").is_none());
    }

    #[test]
    fn a_secret_without_data_or_annotations_stays_so() {
        let secret: SecretWithoutValues = serde_json::from_str(r#"{"metadata": {"name": "empty", "annotations": null}, "data": null}"#).unwrap();
        let object = secret.into_object();
        assert!(object.get("data").is_none());
        assert_eq!(object["metadata"]["annotations"], Value::Null);
    }
}
