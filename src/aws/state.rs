//! Terraform state (`--tfstate`): which live resources Terraform manages (ENV-003 reports
//! those none does: a manual console change), and the address of the managing resource, so
//! live findings can point at its `.tf` block.
//!
//! Reads a raw state file (`terraform.tfstate`, format version 4) and the JSON of
//! `terraform show -json` (a state or a plan's `prior_state`).

use crate::model::{LiveOrigin, Model, Node, Resource, SourceKind, Value as ModelValue};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Live identities (ARN, id) to the Terraform address of the resource that manages them.
#[derive(Debug, Default)]
pub struct States {
    /// ARN or id -> (address, resource type).
    by_identity: HashMap<String, (String, String)>,
    /// Files read, for the summary.
    pub files: usize,
}

impl States {
    /// The address of the resource that manages a live resource: the state resource with
    /// its ARN, else one of the same type with its id (ids are unique only within a type).
    pub fn manager(&self, arn: &str, id: Option<&str>, rtype: &str) -> Option<&str> {
        let same_type = |state_type: &str| state_type == rtype || state_type.replace("aws_default_", "aws_") == rtype.replace("aws_default_", "aws_");
        self.by_identity
            .get(arn)
            .or_else(|| id.and_then(|id| self.by_identity.get(id)).filter(|(_, state_type)| same_type(state_type)))
            .map(|(address, _)| address.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.files == 0
    }

    /// Adds one state document; `name` is how errors name the file.
    pub fn add(&mut self, name: &str, text: &str) -> Result<(), String> {
        let document: Value = serde_json::from_str(text).map_err(|e| format!("{name}:{}:{}: not JSON: {e}", e.line(), e.column()))?;
        if let Some(resources) = document.get("resources").and_then(Value::as_array) {
            self.add_raw(resources);
        } else if let Some(root) = document.pointer("/values/root_module").or_else(|| document.pointer("/prior_state/values/root_module")) {
            self.add_module(root);
        } else if document.get("version").is_some() && document.get("terraform_version").is_some() {
            // An empty raw state: no resources yet.
        } else {
            return Err(format!("{name}: neither a Terraform state (`resources`) nor `terraform show -json` output (`values.root_module`)"));
        }
        self.files += 1;
        Ok(())
    }

    /// Raw state: `resources[]` with `module`, `mode`, `type`, `name`, `instances[]`.
    fn add_raw(&mut self, resources: &[Value]) {
        for resource in resources.iter().filter(|r| r.get("mode").and_then(Value::as_str) == Some("managed")) {
            let (Some(rtype), Some(name)) = (resource.get("type").and_then(Value::as_str), resource.get("name").and_then(Value::as_str)) else { continue };
            let module = resource.get("module").and_then(Value::as_str).map(|m| format!("{m}.")).unwrap_or_default();
            for instance in resource.get("instances").and_then(Value::as_array).into_iter().flatten() {
                let index = match instance.get("index_key") {
                    Some(Value::String(key)) => format!("[{}]", serde_json::to_string(key).unwrap_or_default()),
                    Some(Value::Number(n)) => format!("[{n}]"),
                    _ => String::new(),
                };
                let address = format!("{module}{rtype}.{name}{index}");
                if let Some(attributes) = instance.get("attributes") {
                    self.add_identities(&address, rtype, attributes);
                }
            }
        }
    }

    /// `terraform show -json`: `resources[]` with `address`, `mode`, `values`, and
    /// `child_modules[]`.
    fn add_module(&mut self, module: &Value) {
        for resource in module.get("resources").and_then(Value::as_array).into_iter().flatten() {
            if resource.get("mode").and_then(Value::as_str) != Some("managed") {
                continue;
            }
            let rtype = resource.get("type").and_then(Value::as_str).unwrap_or_default();
            if let (Some(address), Some(values)) = (resource.get("address").and_then(Value::as_str), resource.get("values")) {
                self.add_identities(address, rtype, values);
            }
        }
        for child in module.get("child_modules").and_then(Value::as_array).into_iter().flatten() {
            self.add_module(child);
        }
    }

    fn add_identities(&mut self, address: &str, rtype: &str, attributes: &Value) {
        for key in ["arn", "id"] {
            if let Some(identity) = attributes.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()) {
                self.by_identity.entry(identity.to_string()).or_insert_with(|| (address.to_string(), rtype.to_string()));
            }
        }
    }
}

/// Marks every live AWS resource with the Terraform resource that manages it: its origin's
/// `managed_by` and the `__managed_by` attribute ENV-003 reads (null when the states given
/// manage it nowhere; left out when no state was given). When the Terraform code is in
/// `code`, the resource points at its block, and every attribute the code writes at the
/// line that writes it, so a live finding shows the code to change.
pub fn annotate(model: &mut Model, states: &States, code: &Model) {
    let blocks: HashMap<&str, &Resource> = code.resources.iter().filter(|r| r.source == SourceKind::Tf).map(|r| (r.address.as_str(), r)).collect();
    for resource in model.resources.iter_mut().filter(|r| r.source == SourceKind::Aws) {
        if states.is_empty() {
            continue;
        }
        let id = resource.attrs.get("id").and_then(Node::as_str).map(str::to_string);
        let manager = states.manager(&resource.address, id.as_deref(), &resource.rtype).map(str::to_string);
        let managed = Node::new(manager.clone().map_or(ModelValue::Null, ModelValue::Str), None);
        resource.attrs.insert("__managed_by", managed);
        let Some(manager) = manager else { continue };
        if let Some(origin) = &resource.live {
            resource.live = Some(Arc::new(LiveOrigin { managed_by: Some(manager.clone()), ..LiveOrigin::clone(origin) }));
        }
        if let Some(block) = blocks.get(manager.as_str()).or_else(|| blocks.get(without_index(&manager))) {
            resource.span = block.span.clone();
            resource.call_chain = block.call_chain.clone();
            graft_spans(&mut resource.attrs, &block.attrs);
        }
    }
}

/// Without a state, which live resources Terraform manages is unknown: ENV-003 could not
/// decide, once per account (not once per resource, which would bury the report).
pub fn unmanaged_undecidable(accounts: &[String], anchor: &crate::model::Span) -> Vec<crate::model::Unseen> {
    accounts
        .iter()
        .map(|account| crate::model::Unseen {
            source: SourceKind::Aws,
            origin: LiveOrigin { id: format!("arn:aws:*:*:{account}:*"), scope: account.clone(), region: None, managed_by: None, environment: None },
            resource_types: super::ALL_TYPES.iter().map(|t| t.to_string()).collect(),
            rule: Some("ENV-003".to_string()),
            reason: "no --tfstate was given, so which live resources Terraform manages is unknown".to_string(),
            span: anchor.clone(),
        })
        .collect()
}

/// `aws_s3_bucket.b` for `aws_s3_bucket.b["x"]`: a code block written once for every instance.
fn without_index(address: &str) -> &str {
    match address.strip_suffix(']') {
        Some(rest) => rest.rfind('[').map_or(address, |i| &rest[..i]),
        None => address,
    }
}

/// Gives each live attribute the span of the same attribute in the code (lists pair up by
/// position), so findings point at the line that writes it.
fn graft_spans(live: &mut Node, code: &Node) {
    if live.span.is_none() {
        live.span = code.span.clone();
    }
    match (&mut live.value, &code.value) {
        (ModelValue::Map(entries), ModelValue::Map(_)) => {
            for (key, child) in entries.iter_mut() {
                if let Some(code_child) = code.get(key) {
                    graft_spans(child, code_child);
                }
            }
        }
        (ModelValue::List(items), ModelValue::List(code_items)) => {
            for (item, code_item) in items.iter_mut().zip(code_items) {
                graft_spans(item, code_item);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_state_addresses_with_modules_and_keys() {
        let raw = r#"{"version": 4, "terraform_version": "1.9.0", "resources": [
            {"module": "module.lake[\"dst-001\"]", "mode": "managed", "type": "aws_s3_bucket", "name": "bronze",
             "instances": [{"attributes": {"id": "altscore-bronze", "arn": "arn:aws:s3:::altscore-bronze"}}]},
            {"mode": "managed", "type": "aws_kms_key", "name": "k", "instances": [
             {"index_key": 0, "attributes": {"id": "k0", "arn": "arn:aws:kms:ap-south-1:1:key/k0"}},
             {"index_key": "b", "attributes": {"id": "kb"}}]},
            {"mode": "data", "type": "aws_caller_identity", "name": "me", "instances": [{"attributes": {"id": "123"}}]}]}"#;
        let mut states = States::default();
        states.add("prod.tfstate", raw).unwrap();
        assert_eq!(states.manager("arn:aws:s3:::altscore-bronze", None, "aws_s3_bucket"), Some("module.lake[\"dst-001\"].aws_s3_bucket.bronze"));
        assert_eq!(states.manager("nope", Some("k0"), "aws_kms_key"), Some("aws_kms_key.k[0]"));
        assert_eq!(states.manager("nope", Some("kb"), "aws_kms_key"), Some("aws_kms_key.k[\"b\"]"));
        assert_eq!(states.manager("nope", Some("kb"), "aws_s3_bucket"), None, "ids are unique only within a type");
        assert_eq!(states.manager("nope", Some("123"), "aws_caller_identity"), None, "data sources manage nothing");
    }

    #[test]
    fn show_json_and_errors() {
        let shown = r#"{"format_version": "1.0", "values": {"root_module": {"resources": [
            {"address": "aws_vpc.main", "mode": "managed", "type": "aws_vpc", "values": {"id": "vpc-1"}}],
            "child_modules": [{"resources": [{"address": "module.net.aws_subnet.a", "mode": "managed", "type": "aws_subnet", "values": {"id": "subnet-1"}}]}]}}}"#;
        let mut states = States::default();
        states.add("state.json", shown).unwrap();
        assert_eq!(states.manager("x", Some("subnet-1"), "aws_subnet"), Some("module.net.aws_subnet.a"));
        assert!(states.add("bad.json", "{").unwrap_err().starts_with("bad.json:1:"));
        assert!(states.add("other.json", "{\"a\": 1}").is_err());
    }

    #[test]
    fn index_is_dropped_for_code_blocks() {
        assert_eq!(without_index("module.m[\"a\"].aws_s3_bucket.b[\"x\"]"), "module.m[\"a\"].aws_s3_bucket.b");
        assert_eq!(without_index("aws_s3_bucket.b"), "aws_s3_bucket.b");
    }
}
