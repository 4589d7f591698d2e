//! KMS: customer-managed keys as `aws_kms_key` / `aws_kms_replica_key` with their key
//! policies, and the key index the other services use to name keys the way rules understand
//! them.

use super::attrs::{string_map, Attrs};
use super::call::Failure;
use super::Scope;
use crate::model::{Model, Value};
use futures::StreamExt;
use std::collections::HashMap;

/// The keys of one account × region, by every name a resource may use for them.
pub struct Keys {
    by_name: HashMap<String, Key>,
    /// Why the keys could not be listed: every key reference is then unknown.
    failure: Option<String>,
    account: String,
    region: String,
}

#[derive(Clone)]
struct Key {
    arn: String,
    customer_managed: bool,
    /// For AWS-managed keys, the alias ARN (`...:alias/aws/s3`), which is how rules recognise them.
    aws_alias: Option<String>,
}

impl Keys {
    /// How a resource's key (an id, key ARN, alias name or alias ARN; `None` when the resource
    /// names none) appears to rules: a customer-managed key as its key ARN, an AWS-managed key
    /// as its `alias/aws/...` ARN, a key of another account as written (only
    /// customer-managed keys can be shared across accounts). Unknown when the keys could not
    /// be listed or the key is not among them.
    pub fn reference(&self, written: Option<&str>) -> Value {
        let Some(written) = written.filter(|w| !w.is_empty()) else { return Value::Null };
        if written.starts_with("alias/aws/") || written.contains(":alias/aws/") {
            return Value::Str(written.to_string());
        }
        if let Some(key) = self.by_name.get(written).or_else(|| self.by_name.get(short_name(written))) {
            return Value::Str(match (&key.aws_alias, key.customer_managed) {
                (Some(alias), false) => alias.clone(),
                _ => key.arn.clone(),
            });
        }
        if let Some(failure) = &self.failure {
            return Value::Unknown(format!("whether KMS key {written} is customer-managed is unknown: {failure}"));
        }
        let foreign = written.starts_with("arn:") && !(written.contains(&format!(":{}:", self.account)) && written.contains(&format!(":{}:", self.region)));
        if foreign {
            return Value::Str(written.to_string());
        }
        Value::Unknown(format!("KMS key {written} is not among the keys of account {} in {}", self.account, self.region))
    }
}

/// `key/1234` or `alias/name` from an ARN; the text itself otherwise.
fn short_name(written: &str) -> &str {
    match written.starts_with("arn:") {
        true => written.splitn(6, ':').nth(5).unwrap_or(written),
        false => written,
    }
}

/// Lists and describes the region's keys. Customer-managed keys not pending deletion become
/// resources; every key goes into the index.
pub async fn collect(scope: &Scope) -> (Model, Keys) {
    let kms = aws_sdk_kms::Client::from_conf(aws_sdk_kms::config::Builder::from(&scope.config).interceptor(scope.counting.clone()).build());
    let mut model = Model::default();
    let mut keys = Keys { by_name: HashMap::new(), failure: None, account: scope.account.id.clone(), region: scope.region.clone() };
    let listed = kms.list_keys().into_paginator().items().send().collect::<Vec<_>>().await.into_iter().collect::<Result<Vec<_>, _>>();
    let listed = match listed {
        Ok(listed) => listed,
        Err(error) => {
            let failure = Failure::of("kms:ListKeys", &error);
            keys.failure = Some(failure.to_string());
            scope.unseen(&mut model, &failure, &["aws_kms_key", "aws_kms_replica_key"], "kms", ":key/*");
            return (model, keys);
        }
    };
    let aliases = kms.list_aliases().into_paginator().items().send().collect::<Vec<_>>().await.into_iter().collect::<Result<Vec<_>, _>>();
    let aliases = match aliases {
        Ok(aliases) => aliases,
        Err(error) => {
            // Keys are still known by id and ARN; only references by alias become unknown.
            let failure = Failure::of("kms:ListAliases", &error);
            model.diagnostics.push(crate::model::Diagnostic::incomplete(
                "",
                format!("{}: {failure}; keys named by alias could not be resolved", scope.arn("kms", "alias/*")),
            ));
            Vec::new()
        }
    };
    let described = futures::stream::iter(listed.iter().filter_map(|k| k.key_id()))
        .map(|id| describe(&kms, scope, id))
        .buffered(scope.concurrency)
        .collect::<Vec<_>>()
        .await;
    for (id, result) in listed.iter().filter_map(|k| k.key_id()).zip(described) {
        match result {
            Ok((key, resource)) => {
                keys.by_name.insert(id.to_string(), key.clone());
                keys.by_name.insert(format!("key/{id}"), key.clone());
                keys.by_name.insert(key.arn.clone(), key);
                model.resources.extend(resource);
            }
            Err(failure) => scope.unseen(&mut model, &failure, &["aws_kms_key", "aws_kms_replica_key"], "kms", &format!(":key/{id}")),
        }
    }
    for alias in &aliases {
        let (Some(name), Some(target)) = (alias.alias_name(), alias.target_key_id()) else { continue };
        let Some(mut key) = keys.by_name.get(target).cloned() else { continue };
        if name.starts_with("alias/aws/") {
            key.aws_alias = Some(scope.arn("kms", name));
        }
        keys.by_name.insert(name.to_string(), key.clone());
        keys.by_name.insert(scope.arn("kms", name), key.clone());
        if let Some(existing) = keys.by_name.get_mut(target) {
            existing.aws_alias = existing.aws_alias.take().or(key.aws_alias.clone());
        }
    }
    // An AWS-managed key without an alias in the list still must not read as customer-managed:
    // name it in the `alias/aws/` form rules recognise.
    for key in keys.by_name.values_mut().filter(|k| !k.customer_managed && k.aws_alias.is_none()) {
        let id = key.arn.rsplit('/').next().unwrap_or_default().to_string();
        key.aws_alias = Some(scope.arn("kms", &format!("alias/aws/(unaliased key {id})")));
    }
    (model, keys)
}

/// One key: its index entry, and the resource when it is customer-managed and live.
async fn describe(kms: &aws_sdk_kms::Client, scope: &Scope, id: &str) -> Result<(Key, Option<crate::model::Resource>), Failure> {
    let answer = kms.describe_key().key_id(id).send().await.map_err(|e| Failure::of("kms:DescribeKey", &e))?;
    let Some(meta) = answer.key_metadata() else { return Err(Failure::new("kms:DescribeKey", "the answer has no key metadata")) };
    let arn = meta.arn().map(str::to_string).unwrap_or_else(|| scope.arn("kms", &format!("key/{id}")));
    let customer_managed = meta.key_manager().map(|m| m.as_str()) == Some("CUSTOMER");
    let key = Key { arn: arn.clone(), customer_managed, aws_alias: None };
    let state = meta.key_state().map(|s| s.as_str()).unwrap_or_default();
    if !customer_managed || state.starts_with("Pending") {
        return Ok((key, None));
    }
    let spec = meta.key_spec().map(|s| s.as_str().to_string());
    let symmetric = spec.as_deref().is_none_or(|s| s == "SYMMETRIC_DEFAULT");
    let rotation = match symmetric && meta.origin().map(|o| o.as_str()) != Some("EXTERNAL") {
        true => scope
            .setting(&arn, "kms:GetKeyRotationStatus", kms.get_key_rotation_status().key_id(id).send().await, &[])
            .map(|r| r.map(|r| Value::Bool(r.key_rotation_enabled()))),
        false => Ok(Some(Value::Bool(false))),
    };
    let tags = scope
        .setting(&arn, "kms:ListResourceTags", kms.list_resource_tags().key_id(id).send().await, &[])
        .map(|t| t.map(|t| string_map(t.tags().iter().map(|tag| (tag.tag_key(), tag.tag_value())))));
    // Every key has exactly one policy, named `default`.
    let policy = scope
        .setting(&arn, "kms:GetKeyPolicy", kms.get_key_policy().key_id(id).policy_name("default").send().await, &[])
        .map(|p| p.and_then(|p| p.policy().map(Value::from)));
    let multi_region = meta.multi_region_configuration();
    let replica = multi_region.and_then(|m| m.multi_region_key_type()).map(|t| t.as_str()) == Some("REPLICA");
    let attrs = Attrs::new()
        .set("id", id)
        .set("key_id", id)
        .set("arn", arn.as_str())
        .opt("description", meta.description())
        .opt("key_usage", meta.key_usage().map(|u| u.as_str()))
        .opt("customer_master_key_spec", spec.clone())
        .opt("key_spec", spec)
        .opt("origin", meta.origin().map(|o| o.as_str()))
        .opt("custom_key_store_id", meta.custom_key_store_id())
        .set("is_enabled", meta.enabled())
        .set("multi_region", meta.multi_region().unwrap_or(false))
        .opt("primary_key_arn", multi_region.and_then(|m| m.primary_key()).and_then(|p| p.arn()).filter(|_| replica))
        .setting("enable_key_rotation", rotation)
        .setting("policy", policy)
        .setting("tags", tags);
    let rtype = if replica { "aws_kms_replica_key" } else { "aws_kms_key" };
    Ok((key, Some(scope.resource(rtype, arn, attrs))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        let customer = Key { arn: "arn:aws:kms:ap-south-1:111122223333:key/c1".into(), customer_managed: true, aws_alias: None };
        let managed = Key {
            arn: "arn:aws:kms:ap-south-1:111122223333:key/a1".into(),
            customer_managed: false,
            aws_alias: Some("arn:aws:kms:ap-south-1:111122223333:alias/aws/s3".into()),
        };
        let mut by_name = HashMap::new();
        for (name, key) in [("c1", &customer), ("key/c1", &customer), ("alias/gold", &customer), ("a1", &managed), ("key/a1", &managed)] {
            by_name.insert(name.to_string(), key.clone());
        }
        by_name.insert(customer.arn.clone(), customer.clone());
        Keys { by_name, failure: None, account: "111122223333".into(), region: "ap-south-1".into() }
    }

    #[test]
    fn references_name_customer_keys_by_arn_and_aws_keys_by_alias() {
        let keys = keys();
        let customer = Value::Str("arn:aws:kms:ap-south-1:111122223333:key/c1".into());
        assert_eq!(keys.reference(Some("c1")), customer);
        assert_eq!(keys.reference(Some("alias/gold")), customer);
        assert_eq!(keys.reference(Some("arn:aws:kms:ap-south-1:111122223333:alias/gold")), customer);
        assert_eq!(keys.reference(Some("arn:aws:kms:ap-south-1:111122223333:key/a1")), Value::Str("arn:aws:kms:ap-south-1:111122223333:alias/aws/s3".into()));
        assert_eq!(keys.reference(None), Value::Null);
        // Another account's key can only be customer-managed; one of ours that is missing is unknown.
        assert_eq!(keys.reference(Some("arn:aws:kms:ap-south-1:444455556666:key/x")), Value::Str("arn:aws:kms:ap-south-1:444455556666:key/x".into()));
        assert!(matches!(keys.reference(Some("arn:aws:kms:ap-south-1:111122223333:key/gone")), Value::Unknown(_)));
        let failed = Keys { failure: Some("kms:ListKeys failed: AccessDenied".into()), ..keys };
        assert!(matches!(failed.reference(Some("zz")), Value::Unknown(r) if r.contains("AccessDenied")));
    }
}
