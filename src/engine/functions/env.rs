//! Helpers for the rules that compare the config's environments (ENV-004, ENV-005): settings
//! that differ between an environment and production, and accounts of other environments
//! that a policy or a network connection reaches. Unknown values make them fail (the rule
//! cannot decide), never pass.

use super::{known, undecided, Helpers};
use crate::config::Config;
use crate::engine::values::{display, field, string, unknown_reason};
use cel::ExecutionError;
use std::collections::BTreeMap;
use std::sync::Arc;

type Result = std::result::Result<cel::Value, ExecutionError>;

pub fn register(helpers: &mut Helpers, config: &Config) -> anyhow::Result<()> {
    helpers.add("differences", |resource: cel::Value, other: cel::Value, paths: cel::Value| differences(&resource, &other, &paths))?;
    let accounts: Arc<BTreeMap<String, String>> =
        Arc::new(config.environments.iter().filter_map(|(name, e)| Some((e.account.clone()?, name.clone()))).collect());
    helpers.add("other_environment_accounts", move |value: cel::Value, own: Arc<String>| other_environment_accounts(&accounts, &value, &own))?;
    Ok(())
}

/// `differences(staging, production, ["instance_type", ...])`: for each dotted path whose
/// values differ, `path VALUE where production has VALUE`. Every element of a list on the way
/// is entered (a security group's `ingress` blocks), and the values found are compared as a
/// set: the same rules written in another order are the same rules. An unknown on either
/// side fails.
fn differences(resource: &cel::Value, other: &cel::Value, paths: &cel::Value) -> Result {
    let cel::Value::List(paths) = paths else { return Err(undecided("differences", format!("the paths are not a list: {}", display(paths)))) };
    let mut out = Vec::new();
    for path in paths.iter() {
        let cel::Value::String(path) = path else { continue };
        let (mine, theirs) = (values_at(resource, path)?, values_at(other, path)?);
        if mine != theirs {
            out.push(string(&format!("{path} {} where production has {}", shown(&mine), shown(&theirs))));
        }
    }
    Ok(cel::Value::List(Arc::new(out)))
}

/// Every value at a dotted path, lists entered, sorted and without repeats.
fn values_at(value: &cel::Value, path: &str) -> std::result::Result<Vec<cel::Value>, ExecutionError> {
    let mut found = vec![known(value, path)?.clone()];
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        let mut next = Vec::new();
        for item in found.iter().flat_map(elements) {
            if let Some(value) = field(known(item, path)?, segment) {
                next.push(value.clone());
            }
        }
        found = next;
    }
    let mut values = Vec::new();
    for item in found.iter().flat_map(elements) {
        values.push(known(item, path)?.clone());
    }
    values.retain(|v| *v != cel::Value::Null);
    values.sort_by_cached_key(display);
    values.dedup();
    Ok(values)
}

/// The elements of a list; anything else as itself.
fn elements(value: &cel::Value) -> Vec<&cel::Value> {
    match value {
        cel::Value::List(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn shown(values: &[cel::Value]) -> String {
    match values {
        [] => "not set".into(),
        [one] => display(one),
        many => format!("[{}]", many.iter().map(display).collect::<Vec<_>>().join(", ")),
    }
}

/// `other_environment_accounts(document_or_ids, "staging")`: the accounts of environments
/// other than `own` that a policy document's principals, or the given account ids and ARNs,
/// name, as `ACCOUNT (ENVIRONMENT)`. Accounts no environment names are not judged.
fn other_environment_accounts(accounts: &BTreeMap<String, String>, value: &cel::Value, own: &str) -> Result {
    let mut found = Vec::new();
    principal_accounts(value, &mut found)?;
    found.sort();
    found.dedup();
    let foreign = found.iter().filter_map(|account| accounts.get(account).filter(|env| env.as_str() != own).map(|env| string(&format!("{account} ({env})"))));
    Ok(cel::Value::List(Arc::new(foreign.collect())))
}

/// Account ids in a policy document's `Principal` entries, or in account ids and ARNs.
fn principal_accounts(value: &cel::Value, out: &mut Vec<String>) -> std::result::Result<(), ExecutionError> {
    if let Some(reason) = unknown_reason(value) {
        return Err(undecided("other_environment_accounts", format!("a principal is unknown: {reason}")));
    }
    match value {
        cel::Value::String(text) => out.extend(account_of(text)),
        cel::Value::List(items) => items.iter().try_for_each(|item| principal_accounts(item, out))?,
        cel::Value::Map(_) => {
            for key in ["Statement", "Principal", "AWS"] {
                if let Some(inner) = field(value, key) {
                    principal_accounts(inner, out)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// `123456789012`, or the account of `arn:aws:iam::123456789012:root` (any ARN).
fn account_of(text: &str) -> Option<String> {
    let is_account = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    if is_account(text) {
        return Some(text.to_string());
    }
    let account = text.strip_prefix("arn:")?.split(':').nth(3)?;
    is_account(account).then(|| account.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> cel::Value {
        cel::to_value(serde_json::from_str::<serde_json::Value>(text).unwrap()).unwrap()
    }

    #[test]
    fn principals_of_other_environments_are_named() {
        let accounts = BTreeMap::from([("111111111111".to_string(), "production".to_string()), ("222222222222".to_string(), "staging".to_string())]);
        let policy = json(
            r#"{"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::222222222222:role/ci", "333333333333"]}}, {"Principal": {"AWS": "arn:aws:iam::111111111111:root"}}, {"Principal": "*"}]}"#,
        );
        let found = other_environment_accounts(&accounts, &policy, "production").unwrap();
        assert_eq!(found, cel::Value::List(Arc::new(vec![string("222222222222 (staging)")])));
        let peer = cel::Value::List(Arc::new(vec![string("111111111111"), cel::Value::Null]));
        assert_eq!(other_environment_accounts(&accounts, &peer, "staging").unwrap(), cel::Value::List(Arc::new(vec![string("111111111111 (production)")])));
        let unknown = json(r#"{"Statement": [{"Principal": {"AWS": {"$unknown": "var.ci_account has no value"}}}]}"#);
        assert!(other_environment_accounts(&accounts, &unknown, "production").is_err());
    }

    #[test]
    fn differences_name_both_values() {
        let staging = json(r#"{"instance_type": "t3.small", "engine_version": "15.4", "broker_node_group_info": [{"instance_type": "kafka.m5.large"}]}"#);
        let production = json(r#"{"instance_type": "m6i.xlarge", "engine_version": "15.4", "broker_node_group_info": [{"instance_type": "kafka.m5.large"}]}"#);
        let paths = cel::Value::List(Arc::new(vec![
            string("instance_type"),
            string("engine_version"),
            string("broker_node_group_info.instance_type"),
            string("version"),
        ]));
        let found = differences(&staging, &production, &paths).unwrap();
        assert_eq!(found, cel::Value::List(Arc::new(vec![string("instance_type t3.small where production has m6i.xlarge")])));
    }
}
