//! Secrets in trees of nodes: the model's resources, and YAML or JSON files parsed with their
//! positions (manifests, Helm output, `.tf.json`, plan JSON). One walk for both, so a value is
//! hidden from a frame of its file and scrubbed from messages about its resource alike.
//!
//! A scalar is a secret when:
//! - its key and value look like one as SEC-002 judges them (`DB_PASSWORD: hunter2`, a
//!   high-entropy literal under `SIGNING_KEY`, a PEM private key or an AWS key id under any
//!   key); a `value` (`default`, `constant_value`) is judged by its sibling `name`
//!   (container `env`, tag lists) or else by the key of its map (`db_password: {value: ...}`,
//!   as plan JSON and `.tf.json` nest them);
//! - it is a value of a Kubernetes Secret's `data` or `stringData`;
//! - Terraform says it is sensitive: `sensitive = true` beside `value`/`default`, a variable
//!   named like a secret (SEC-004's test), plan JSON's `sensitive_values`,
//!   `after_sensitive` and `before_sensitive`, and plan variables declared sensitive.

use super::is_secret;
use super::vocabulary::Vocabulary;
use crate::model::{Node, Value};
use base64::Engine as _;
use std::collections::HashSet;

/// Calls `visit(key, scalar, secret)` for every scalar below `root`, a document or a
/// resource's attributes.
pub fn walk<'n>(root: &'n Node, vocabulary: &Vocabulary, visit: &mut dyn FnMut(&'n str, &'n Node, bool)) {
    let sensitive_variables = plan_sensitive_variables(root);
    Walker { vocabulary, visit, sensitive_variables }.node(root, Place { key: "", under: "", context: Context::None, mirror: None });
}

/// The secret strings of a resource's attributes (and the secrets inside other strings: a
/// config file, an applied manifest kept in an annotation): what messages about it must not
/// repeat. `variable` resources are judged as SEC-004 judges them.
pub fn secret_values(rtype: &str, attrs: &Node, vocabulary: &Vocabulary) -> Vec<String> {
    let mut found = Vec::new();
    let mut keep = |_: &str, node: &Node, secret: bool| match (secret, node.as_str()) {
        (true, Some(text)) => found.push(text.to_string()),
        (false, Some(text)) => found.extend(super::lexical::scan(text, vocabulary).texts),
        _ => {}
    };
    let context = match rtype == "variable" && attrs.get("name").and_then(Node::as_str).is_some_and(|name| vocabulary.variable_name(name)) {
        true => Context::Variable,
        false => Context::None,
    };
    Walker { vocabulary, visit: &mut keep, sensitive_variables: HashSet::new() }.node(attrs, Place { key: "", under: "", context, mirror: None });
    found
}

/// The text a base64 value encodes, when it is text.
fn decoded(text: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()?;
    String::from_utf8(bytes).ok().filter(|t| !t.trim().is_empty())
}

/// Why the scalars below a key are secrets whatever their own keys say.
#[derive(Clone, Copy)]
enum Context {
    None,
    /// Every non-empty scalar is a secret (Secret data, sensitive values).
    Always,
    /// A Terraform variable that is a secret: its `default` and `value` are.
    Variable,
}

/// Where the walk is: the key a node is judged under (a pair's name for its value), the key
/// it is written under, why it may be secret, and its mirror in plan JSON's sensitivity
/// marks, if any.
#[derive(Clone, Copy)]
struct Place<'n> {
    key: &'n str,
    under: &'n str,
    context: Context,
    mirror: Option<&'n Node>,
}

/// Keys whose value is named by a sibling (`{name: DB_PASSWORD, value: ...}`), or else by
/// the key of their map.
const PAIR_NAMES: &[&str] = &["name", "Name", "key", "Key", "ParameterName"];
const PAIR_VALUES: &[&str] = &["value", "Value", "ParameterValue", "default", "constant_value"];

/// Plan JSON keeps the sensitivity of `X` in a sibling: `X_sensitive`, or `sensitive_values`
/// beside `values`.
fn mirror_key(key: &str) -> Option<String> {
    match key {
        "values" => Some("sensitive_values".into()),
        "before" | "after" => Some(format!("{key}_sensitive")),
        _ => None,
    }
}

struct Walker<'v, 'n> {
    vocabulary: &'v Vocabulary,
    visit: &'v mut dyn FnMut(&'n str, &'n Node, bool),
    /// Root variables a plan declares sensitive (`configuration.root_module.variables`).
    sensitive_variables: HashSet<&'n str>,
}

impl<'n> Walker<'_, 'n> {
    fn node(&mut self, node: &'n Node, place: Place<'n>) {
        let place = match place.mirror.map(|m| &m.value) {
            Some(Value::Bool(true)) => Place { context: Context::Always, ..place },
            _ => place,
        };
        match &node.value {
            Value::Map(entries) => self.map(entries, place),
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    let mirror = place.mirror.and_then(|m| match &m.value {
                        Value::List(mirrors) => mirrors.get(i),
                        _ => None,
                    });
                    self.node(item, Place { mirror, ..place });
                }
            }
            Value::PartialJson(document) => self.node(document, place),
            // The parts of a string known in part that the code spells out.
            Value::PartialStr(parts) => parts.iter().for_each(|part| self.node(part, place)),
            Value::Str(text) => (self.visit)(place.key, node, secret_text(self.vocabulary, place, text)),
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => (self.visit)(place.key, node, matches!(place.context, Context::Always)),
            Value::Null | Value::Unknown(_) | Value::Ref { .. } => {}
        }
    }

    fn map(&mut self, entries: &'n [(String, Node)], place: Place<'n>) {
        let get = |key: &str| entries.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let secret_object = get("kind").and_then(Node::as_str) == Some("Secret");
        let sensitive = matches!(get("sensitive").map(|n| &n.value), Some(Value::Bool(true)));
        let pair_name = PAIR_NAMES.iter().find_map(|k| get(k)?.as_str());
        for (key, child) in entries {
            let context = self.context_of(key, place, secret_object, sensitive);
            let judged_as = if PAIR_VALUES.contains(&key.as_str()) { pair_name.unwrap_or(place.under) } else { key };
            let mirror = match place.mirror {
                Some(mirror) => mirror.get(key),
                None => mirror_key(key).and_then(|k| get(&k)),
            };
            self.binary_or_node(key, child, Place { key: judged_as, under: key, context, mirror });
        }
    }

    /// Why an entry of a map at `place` may be a secret.
    fn context_of(&self, key: &str, place: Place, secret_object: bool, sensitive: bool) -> Context {
        let variable = matches!(place.under, "variable" | "variables") && (self.vocabulary.variable_name(key) || self.sensitive_variables.contains(key));
        let holds_value = matches!(key, "value" | "default");
        match place.context {
            Context::Always => Context::Always,
            _ if (sensitive || matches!(place.context, Context::Variable)) && holds_value => Context::Always,
            _ if secret_object && matches!(key, "data" | "stringData") => Context::Always,
            _ if variable => Context::Variable,
            _ => Context::None,
        }
    }

    /// ConfigMap `binaryData` holds base64: its entries are judged by what they encode, as
    /// SEC-002 judges them.
    fn binary_or_node(&mut self, key: &'n str, node: &'n Node, place: Place<'n>) {
        let Value::Map(entries) = &node.value else { return self.node(node, place) };
        if key != "binaryData" {
            return self.node(node, place);
        }
        for (name, value) in entries {
            let secret = value.as_str().is_some_and(|text| is_secret(self.vocabulary, name, &decoded(text).unwrap_or_default()));
            match secret {
                true => (self.visit)(name, value, true),
                false => self.node(value, Place { key: name, under: key, ..place }),
            }
        }
    }
}

fn secret_text(vocabulary: &Vocabulary, place: Place, text: &str) -> bool {
    match place.context {
        Context::Always => !text.trim().is_empty(),
        Context::None | Context::Variable => is_secret(vocabulary, place.key, text),
    }
}

/// The root variables a plan's configuration declares `sensitive = true`.
fn plan_sensitive_variables(root: &Node) -> HashSet<&str> {
    let Some(Value::Map(variables)) = root.path("configuration.root_module.variables").map(|n| &n.value) else { return HashSet::new() };
    variables.iter().filter(|(_, v)| matches!(v.get("sensitive").map(|n| &n.value), Some(Value::Bool(true)))).map(|(k, _)| k.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn secrets_of(yaml: &str) -> Vec<String> {
        let docs = crate::yaml::load(&Arc::from("t.yaml"), yaml, &crate::yaml::Limits::default()).expect("valid YAML");
        let mut found = Vec::new();
        for doc in &docs {
            walk(&doc.root, Vocabulary::charter(), &mut |_, node, secret| {
                if secret {
                    found.push(node.as_str().map_or_else(|| format!("{:?}", node.value), str::to_string));
                }
            });
        }
        found
    }

    #[test]
    fn secret_objects_hide_every_data_value_whatever_its_key() {
        let found = secrets_of("kind: Secret\nmetadata: {name: db}\ndata:\n  config.json: eyJhIjoxfQ==\nstringData:\n  port: 5432\n  user: app\n");
        assert_eq!(found, ["eyJhIjoxfQ==", "Int(5432)", "app"]);
        assert!(secrets_of("kind: ConfigMap\ndata:\n  config.json: plain\n").is_empty());
    }

    #[test]
    fn keys_pairs_and_shapes_are_judged_as_sec_002_judges_them() {
        let yaml = "env:\n  - name: API_TOKEN\n    value: tok-123456\n  - name: LOG_LEVEL\n    value: info\n  - name: PASSWORD_FILE\n    value: /mnt/pw\ndata:\n  SIGNING_KEY: q8Zr2LxP0vW7nK4tYb9sHc3m\n  CACHE_KEY: score-cache\n  aws: AKIAIOSFODNN7EXAMPLE\n";
        assert_eq!(secrets_of(yaml), ["tok-123456", "q8Zr2LxP0vW7nK4tYb9sHc3m", "AKIAIOSFODNN7EXAMPLE"]);
        let binary = format!("binaryData:\n  DB_PASSWORD: {}\n  logo.png: {}\n", base64_of("hunter2"), base64_of("png"));
        assert_eq!(secrets_of(&binary), [base64_of("hunter2")]);
    }

    #[test]
    fn values_nested_under_a_secret_name_are_secret_but_descriptions() {
        let json = r#"{"variable": {"db_password": {"default": "pw-in-json", "description": "the password"}, "region": {"default": "ap-south-1"}},
                       "expressions": {"api_token": {"constant_value": "tok-in-json"}, "enabled": {"constant_value": true}},
                       "secretObjects": [{"secretName": "synced", "type": "Opaque"}],
                       "privateKey": {"algorithm": "RSA", "size": 4096}}"#;
        assert_eq!(secrets_of(json), ["pw-in-json", "tok-in-json"]);
    }

    #[test]
    fn plan_sensitivity_marks_secrets_whatever_their_names() {
        let plan = r#"{"format_version": "1.2",
          "variables": {"blob": {"value": "var-blob-value"}, "region": {"value": "ap-south-1"}},
          "planned_values": {"outputs": {"conn": {"sensitive": true, "value": "out-conn-value"}},
            "root_module": {"resources": [{"values": {"name": "p", "value": "ssm-param-value", "tags": {"a": "b"}},
                                           "sensitive_values": {"value": true, "tags": {}}}]}},
          "resource_changes": [{"change": {"after": {"value": "after-value", "list": ["x", "list-secret"]},
                                            "after_sensitive": {"list": [false, true]}}}],
          "configuration": {"root_module": {"variables": {"blob": {"sensitive": true}, "region": {}}}}}"#;
        assert_eq!(secrets_of(plan), ["var-blob-value", "out-conn-value", "ssm-param-value", "list-secret"]);
    }

    #[test]
    fn resources_give_their_secret_strings() {
        let attrs = |yaml: &str| crate::yaml::load(&Arc::from("t.yaml"), yaml, &crate::yaml::Limits::default()).unwrap().remove(0).root;
        let secret = attrs(&format!("kind: Secret\ndata:\n  pw: {}\n", base64_of("decoded-secret")));
        assert_eq!(secret_values("Secret", &secret, Vocabulary::charter()), [base64_of("decoded-secret")]);
        let variable = attrs("name: signing_key\ndefault: abc\nvalue: def\n");
        assert_eq!(secret_values("variable", &variable, Vocabulary::charter()), ["abc", "def"]);
        let other = attrs("name: region\ndefault: ap-south-1\n");
        assert!(secret_values("variable", &other, Vocabulary::charter()).is_empty());
        let applied = attrs("metadata:\n  annotations:\n    last-applied: '{\"stringData\":{\"password\":\"older-value\"}}'\n");
        assert!(secret_values("ConfigMap", &applied, Vocabulary::charter()).contains(&"older-value".to_string()));
    }

    #[test]
    fn the_spelled_out_parts_of_a_string_known_in_part_are_judged() {
        let part = |value: Value| Node::new(value, None);
        let password = part(Value::PartialStr(vec![part(Value::Str("pre-hunter2-".into())), part(Value::Unknown("known after apply".into()))]));
        let attrs = Node::map(vec![("password".into(), password)], None);
        assert_eq!(secret_values("aws_db_instance", &attrs, Vocabulary::charter()), ["pre-hunter2-"]);
    }

    fn base64_of(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }
}
