//! Provider configurations as the resources that use them see them: where they create
//! (`region`), which account they may touch (`allowed_account_ids`), and the tags they add to
//! every resource (`default_tags`, less `ignore_tags`), which the AWS provider merges into
//! each resource's `tags_all`.

use super::eval::ops::known;
use crate::model::{Node, Resource, Value};
use std::rc::Rc;

/// A provider configuration, resolved for resources through `provider = aws.x`, aliases and
/// module `providers` maps.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// `provider.aws` or `provider.aws.dr`, with a module prefix when declared in one.
    pub address: String,
    pub region: Node,
    /// The evaluated provider block, shared by every resource that uses the configuration.
    config: Rc<Node>,
}

impl ProviderConfig {
    /// The configuration a `provider` block (evaluated as a resource) declares.
    pub fn of(provider: &Resource) -> Self {
        let region = provider.attrs.get("region").cloned().unwrap_or_else(|| Node::new(Value::Null, None));
        ProviderConfig { address: provider.address.clone(), region, config: Rc::new(provider.attrs.clone()) }
    }

    /// The one account `allowed_account_ids` allows, when it names exactly one.
    pub fn account(&self) -> Option<&Node> {
        match &self.config.get("allowed_account_ids")?.value {
            Value::List(accounts) if accounts.len() == 1 => Some(&accounts[0]),
            _ => None,
        }
    }

    /// `tags_all` for a resource with `tags`: the provider's default tags, the resource's own
    /// winning, less the keys `ignore_tags` names. `None` when the provider has no default tags
    /// (the resource's `tags` are then all it has).
    pub fn tags_all(&self, tags: Option<&Node>) -> Option<Node> {
        let defaults = self.config.path("default_tags.tags")?;
        let mut merged: Vec<(String, Node)> = match &defaults.value {
            Value::Map(entries) => entries.clone(),
            Value::Null => Vec::new(),
            _ => return Some(unknown_tags(defaults, "the provider's default_tags")),
        };
        match tags.map(|t| &t.value) {
            None | Some(Value::Null) => {}
            Some(Value::Map(own)) => {
                for (key, value) in own {
                    match merged.iter_mut().find(|(k, _)| k == key) {
                        Some(existing) => existing.1 = value.clone(),
                        None => merged.push((key.clone(), value.clone())),
                    }
                }
            }
            Some(_) => return tags.map(|t| unknown_tags(t, "the resource's tags")),
        }
        // `ignore_tags`: the keys it names (`keys`), and those starting with its `key_prefixes`.
        let (keys, prefixes) = (self.ignored("keys"), self.ignored("key_prefixes"));
        merged.retain(|(key, _)| !keys.contains(&key.as_str()) && !prefixes.iter().any(|p| key.starts_with(p)));
        Some(Node::map(merged, tags.and_then(|t| t.span.clone()).or_else(|| defaults.span.clone())))
    }

    /// The strings of the `ignore_tags` argument `argument`.
    fn ignored(&self, argument: &str) -> Vec<&str> {
        match self.config.path(&format!("ignore_tags.{argument}")).map(|n| &n.value) {
            Some(Value::List(items)) => items.iter().filter_map(Node::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

/// Tags that are not a known map: unknown, for that reason.
fn unknown_tags(tags: &Node, whose: &str) -> Node {
    let reason = match known(&tags.value) {
        Err(Value::Unknown(reason)) => reason,
        _ => format!("{whose} are not a map"),
    };
    Node::new(Value::Unknown(format!("tags_all merges {whose}, which are unknown: {reason}")), tags.span.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Node {
        Node::new(Value::Str(text.into()), None)
    }

    fn provider(block: &str) -> ProviderConfig {
        let model = crate::terraform::load_text("p.tf", block);
        ProviderConfig::of(model.resources.iter().find(|r| r.rtype == "provider.aws").expect("a provider"))
    }

    #[test]
    fn resource_tags_win_over_default_tags_and_ignored_keys_go() {
        let config = provider(
            "provider \"aws\" {\n  default_tags {\n    tags = { layer = \"bronze\", team = \"data\", \"kubernetes.io/x\" = \"1\" }\n  }\n  ignore_tags {\n    key_prefixes = [\"kubernetes.io/\"]\n  }\n}\n",
        );
        let own = Node::map(vec![("team".into(), s("ml"))], None);
        let merged = config.tags_all(Some(&own)).unwrap();
        assert_eq!(merged.get("layer").and_then(Node::as_str), Some("bronze"));
        assert_eq!(merged.get("team").and_then(Node::as_str), Some("ml"));
        assert!(merged.get("kubernetes.io/x").is_none());
        assert_eq!(merged.get("layer").and_then(|n| n.span.as_ref()).map(|s| s.start_line), Some(3), "a default tag points at the provider");
        let unknown = Node::new(Value::Unknown("var.tags has no value".into()), None);
        assert!(matches!(&config.tags_all(Some(&unknown)).unwrap().value, Value::Unknown(r) if r.contains("var.tags has no value")));
        assert!(provider("provider \"aws\" {}\n").tags_all(Some(&own)).is_none());
    }

    #[test]
    fn one_allowed_account_is_the_account() {
        assert_eq!(provider("provider \"aws\" {\n  allowed_account_ids = [\"111111111111\"]\n}\n").account().and_then(Node::as_str), Some("111111111111"));
        assert!(provider("provider \"aws\" {\n  allowed_account_ids = [\"1\", \"2\"]\n}\n").account().is_none());
    }
}
