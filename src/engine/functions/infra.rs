//! Helpers for the infrastructure rules (RES-003/004, TLS-005, BAK-004): JSON documents
//! written as strings (bucket and lifecycle policies) and the region a resource or ARN is in.
//! Like the other helpers, they fail (the rule cannot decide) on unknown values and
//! references instead of guessing.

use super::{undecided, Helpers};
use crate::config::Config;
use crate::engine::values::{display, field, map, reference, unknown_reason, JSON_KEY};
use cel::ExecutionError;

type Result = std::result::Result<cel::Value, ExecutionError>;

pub fn register(helpers: &mut Helpers, _config: &Config) -> anyhow::Result<()> {
    helpers.add("json_parse", |value: cel::Value| json_parse(&value))?;
    helpers.add("region_of", |value: cel::Value| region_of(&value))?;
    helpers.add("azure_location", |value: cel::Value| azure_location(&value))?;
    helpers.add("denies_insecure_transport", |value: cel::Value| denies_insecure_transport(&value))?;
    helpers.add("lifecycle_rules", |value: cel::Value| lifecycle_rules(&value))?;
    helpers.add("days_until", |value: cel::Value| days_until(&value))?;
    Ok(())
}

/// `days_until("2027-01-31T12:00:00Z")`: whole days from today (UTC) to the date of an
/// RFC 3339 timestamp, negative when it is past. Fails on null (no date known) and on text
/// that is not a timestamp.
fn days_until(value: &cel::Value) -> Result {
    if let Some(reason) = unknown_reason(value) {
        return Err(undecided("days_until", format!("the date is unknown: {reason}")));
    }
    let cel::Value::String(text) = value else {
        return Err(undecided("days_until", format!("no date is known (got {})", display(value))));
    };
    let date = text.get(..10).and_then(crate::model::Date::parse).ok_or_else(|| undecided("days_until", format!("`{text}` is not an RFC 3339 timestamp")))?;
    let today = crate::model::Date::today();
    Ok(cel::Value::Float((date.days_since_epoch() - today.days_since_epoch()) as f64))
}

/// `json_parse(x)`: a JSON document written as a string (`jsonencode(...)`, a heredoc, a
/// `policy` argument) as a CEL value; maps and lists are returned as they are, null stays null.
/// JSON text known only in part (`{"$json": document}`, say a `jsonencode` whose `Resource` is an
/// ARN known after apply) gives its document, unknown leaves included: reading one of those
/// fails. Fails on unknown values, references and text that is not JSON.
fn json_parse(value: &cel::Value) -> Result {
    if let Some(document) = field(value, JSON_KEY) {
        return Ok(document.clone());
    }
    if let Some((address, attribute)) = reference(value) {
        return Err(undecided("json_parse", format!("the document is {address}.{attribute}, which cannot be read before apply")));
    }
    if let Some(reason) = unknown_reason(value) {
        return Err(undecided("json_parse", format!("the document is unknown: {reason}")));
    }
    match value {
        cel::Value::String(text) => {
            let json: serde_json::Value = serde_json::from_str(text).map_err(|e| undecided("json_parse", format!("the document is not JSON: {e}")))?;
            cel::to_value(json).map_err(|e| undecided("json_parse", format!("the document cannot be read: {e}")))
        }
        other => Ok(other.clone()),
    }
}

/// `region_of(x)`: the region a resource is created in (its `__region`), or the region field
/// of an ARN string. Fails when there is none to be known statically: a reference to something
/// outside the scanned code, an unknown region, a provider without a region, or an ARN without
/// a region (S3 bucket ARNs carry none).
fn region_of(value: &cel::Value) -> Result {
    if let Some((address, attribute)) = reference(value) {
        return Err(undecided("region_of", format!("{address}.{attribute} is not in the scanned code, so its region is unknown")));
    }
    if let Some(reason) = unknown_reason(value) {
        return Err(undecided("region_of", format!("the value is unknown: {reason}")));
    }
    match value {
        cel::Value::Null => Err(undecided("region_of", "the resource is not in the scanned code, so its region is unknown".into())),
        cel::Value::Map(_) => {
            let address = field(value, "__address").map(display).unwrap_or_else(|| "the resource".into());
            match field(value, "__region") {
                Some(region) if unknown_reason(region).is_some() => {
                    Err(undecided("region_of", format!("the region of {address} is unknown: {}", unknown_reason(region).unwrap_or_default())))
                }
                Some(region) if reference(region).is_some() => {
                    Err(undecided("region_of", format!("the region of {address} is {}, known only after apply", display(region))))
                }
                Some(cel::Value::String(region)) if !region.is_empty() => Ok(cel::Value::String(region.clone())),
                _ => Err(undecided("region_of", format!("{address} has no region in code: its provider takes it from the environment at run time"))),
            }
        }
        cel::Value::String(text) => match arn_region(text) {
            Some(region) => Ok(cel::Value::String(std::sync::Arc::new(region.to_string()))),
            None if text.starts_with("arn:") => Err(undecided("region_of", format!("the ARN {text} names no region"))),
            None => Err(undecided("region_of", format!("`{text}` is not an ARN, so its region is unknown"))),
        },
        other => Err(undecided("region_of", format!("{} is neither a resource nor an ARN", display(other)))),
    }
}

/// The region field of `arn:partition:service:region:account:resource`, when not empty.
fn arn_region(text: &str) -> Option<&str> {
    let mut parts = text.splitn(6, ':');
    (parts.next() == Some("arn")).then_some(())?;
    let region = parts.nth(2)?;
    (!region.is_empty() && parts.next().is_some()).then_some(region)
}

/// `azure_location(x)`: an Azure location in its short form (`Central India` and
/// `centralindia` alike give `centralindia`).
fn azure_location(value: &cel::Value) -> Result {
    if let Some((address, attribute)) = reference(value) {
        return Err(undecided("azure_location", format!("the location is {address}.{attribute}, known only after apply")));
    }
    if let Some(reason) = unknown_reason(value) {
        return Err(undecided("azure_location", format!("the location is unknown: {reason}")));
    }
    match value {
        cel::Value::String(text) => Ok(string(&text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase())),
        other => Ok(other.clone()),
    }
}

fn string(text: &str) -> cel::Value {
    cel::Value::String(std::sync::Arc::new(text.to_string()))
}

/// `denies_insecure_transport(policy)`: whether an IAM policy document (JSON text or parsed)
/// has a `Deny` statement conditioned on `aws:SecureTransport` being false (`Bool` or
/// `BoolIfExists`; the value as a string, a bool or a list holding one). Only a statement's
/// `Effect` and `Condition` are read: a document whose other parts are unknown still decides.
/// A statement whose effect or condition is unknown makes it undecided unless another statement
/// denies for certain.
fn denies_insecure_transport(value: &cel::Value) -> Result {
    let document = json_parse(value)?;
    let statements = field(&document, "Statement");
    if let Some(reason) = statements.and_then(not_known) {
        return Err(undecided("denies_insecure_transport", format!("the policy's statements are unknown: {reason}")));
    }
    let statements = match statements {
        Some(cel::Value::List(items)) => items.iter().cloned().collect::<Vec<_>>(),
        Some(single @ cel::Value::Map(_)) => vec![single.clone()],
        _ => Vec::new(),
    };
    let mut unknown = None;
    for statement in &statements {
        match statement_denies_insecure_transport(statement) {
            Ok(true) => return Ok(cel::Value::Bool(true)),
            Ok(false) => {}
            Err(reason) => unknown = unknown.or(Some(reason)),
        }
    }
    match unknown {
        Some(reason) => Err(undecided("denies_insecure_transport", reason)),
        None => Ok(cel::Value::Bool(false)),
    }
}

/// Why a value of a document is not known: an unknown leaf, or a reference to a computed
/// attribute (known only after apply).
fn not_known(value: &cel::Value) -> Option<String> {
    match reference(value) {
        Some((address, attribute)) => Some(format!("{address}.{attribute} is known only after apply")),
        None => unknown_reason(value).map(str::to_string),
    }
}

/// One statement of [`denies_insecure_transport`]; `Err` names the unknown part it needed.
fn statement_denies_insecure_transport(statement: &cel::Value) -> std::result::Result<bool, String> {
    let known = |value: Option<&cel::Value>, what: &str| match value.and_then(not_known) {
        Some(reason) => Err(format!("a statement's {what} is unknown: {reason}")),
        None => Ok(()),
    };
    known(Some(statement), "content")?;
    let effect = field(statement, "Effect");
    known(effect, "Effect")?;
    if !matches!(effect, Some(cel::Value::String(e)) if e.as_str() == "Deny") {
        return Ok(false);
    }
    let condition = field(statement, "Condition");
    known(condition, "Condition")?;
    for operator in ["Bool", "BoolIfExists"] {
        let tests = condition.and_then(|c| field(c, operator));
        known(tests, operator)?;
        let Some(cel::Value::Map(tests)) = tests else { continue };
        for (key, value) in tests.map.iter() {
            if !matches!(key, cel::objects::Key::String(k) if k.eq_ignore_ascii_case("aws:SecureTransport")) {
                continue;
            }
            known(Some(value), "aws:SecureTransport value")?;
            let is_false = |v: &cel::Value| match v {
                cel::Value::Bool(false) => true,
                cel::Value::String(s) => s.eq_ignore_ascii_case("false"),
                _ => false,
            };
            let denies = match value {
                cel::Value::List(items) => items.len() == 1 && is_false(&items[0]),
                other => is_false(other),
            };
            if denies {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// `lifecycle_rules(bucket)`: the bucket's enabled lifecycle rules, from the split
/// `aws_s3_bucket_lifecycle_configuration` (joined as `lifecycle_configuration`, `rule`
/// blocks with `status = "Enabled"`) and the inline v3 `lifecycle_rule` blocks (`enabled =
/// true`), each as `{"transitions": [{"days": n, "storage_class": s}], "expiration_days": n,
/// "expiration_date": d}` (null when the rule does not expire current objects that way).
fn lifecycle_rules(bucket: &cel::Value) -> Result {
    let known = |v: &cel::Value, what: &str| -> std::result::Result<(), ExecutionError> {
        if let Some(reason) = unknown_reason(v) {
            return Err(undecided("lifecycle_rules", format!("{what} is unknown: {reason}")));
        }
        if let Some((address, attribute)) = reference(v) {
            return Err(undecided("lifecycle_rules", format!("{what} is {address}.{attribute}, known only after apply")));
        }
        Ok(())
    };
    let list = |v: Option<&cel::Value>, what: &str| -> std::result::Result<Vec<cel::Value>, ExecutionError> {
        match v {
            None | Some(cel::Value::Null) => Ok(Vec::new()),
            Some(v) => {
                known(v, what)?;
                match v {
                    cel::Value::List(items) => Ok(items.iter().cloned().collect()),
                    other => Ok(vec![other.clone()]),
                }
            }
        }
    };
    let mut rules = Vec::new();
    let split = list(field(bucket, "lifecycle_configuration"), "lifecycle_configuration")?;
    let mut candidates = Vec::new();
    for configuration in &split {
        for rule in list(field(configuration, "rule"), "lifecycle_configuration.rule")? {
            candidates.push((rule, "status"));
        }
    }
    for rule in list(field(bucket, "lifecycle_rule"), "lifecycle_rule")? {
        candidates.push((rule, "enabled"));
    }
    for (rule, switch) in candidates {
        let on = field(&rule, switch).cloned().unwrap_or(cel::Value::Null);
        known(&on, switch)?;
        let enabled = match (&on, switch) {
            (cel::Value::String(s), "status") => s.as_str() == "Enabled",
            (cel::Value::Bool(b), "enabled") => *b,
            _ => false,
        };
        if !enabled {
            continue;
        }
        let mut transitions = Vec::new();
        for transition in list(field(&rule, "transition"), "transition")? {
            let days = field(&transition, "days").cloned().unwrap_or(cel::Value::Null);
            let class = field(&transition, "storage_class").cloned().unwrap_or(cel::Value::Null);
            known(&days, "transition.days")?;
            known(&class, "transition.storage_class")?;
            transitions.push(map(vec![("days", days), ("storage_class", class)]));
        }
        // Expiration by age or on a date; `expired_object_delete_marker` alone expires nothing.
        let (mut expiration_days, mut expiration_date) = (cel::Value::Null, cel::Value::Null);
        for expiration in list(field(&rule, "expiration"), "expiration")? {
            for (key, found) in [("days", &mut expiration_days), ("date", &mut expiration_date)] {
                if let Some(value) = field(&expiration, key) {
                    known(value, &format!("expiration.{key}"))?;
                    *found = value.clone();
                }
            }
        }
        let transitions = cel::Value::List(std::sync::Arc::new(transitions));
        rules.push(map(vec![("transitions", transitions), ("expiration_days", expiration_days), ("expiration_date", expiration_date)]));
    }
    Ok(cel::Value::List(std::sync::Arc::new(rules)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn s(text: &str) -> cel::Value {
        cel::Value::String(Arc::new(text.to_string()))
    }

    fn eval(expr: &str) -> std::result::Result<cel::Value, ExecutionError> {
        let mut ctx = cel::Context::default();
        register(&mut Helpers::new(&mut ctx), &Config::default()).unwrap();
        cel::Program::compile(expr).unwrap().execute(&ctx)
    }

    #[test]
    fn arn_regions() {
        assert_eq!(arn_region("arn:aws:backup:ap-south-2:111122223333:backup-vault:dr"), Some("ap-south-2"));
        assert_eq!(arn_region("arn:aws:s3:::altscore-replica"), None);
        assert_eq!(arn_region("alias/x"), None);
        assert_eq!(region_of(&s("arn:aws:kms:eu-west-1:111122223333:key/abc")).unwrap(), s("eu-west-1"));
        assert!(region_of(&s("arn:aws:s3:::bucket")).is_err());
        assert!(region_of(&cel::Value::Null).is_err());
    }

    #[test]
    fn regions_of_resources() {
        assert_eq!(eval(r#"region_of({"__address": "aws_kms_replica_key.r", "__region": "ap-south-2"})"#).unwrap(), s("ap-south-2"));
        assert!(eval(r#"region_of({"__address": "aws_kms_replica_key.r", "__region": null})"#).is_err());
        assert!(eval(r#"region_of({"__region": {"$unknown": "var.region has no value"}})"#).is_err());
        assert!(eval(r#"region_of({"$ref": "aws_s3_bucket.b", "attribute": "arn"})"#).is_err());
    }

    #[test]
    fn azure_locations() {
        assert_eq!(eval(r#"azure_location("Central India")"#).unwrap(), s("centralindia"));
        assert!(eval(r#"azure_location({"$unknown": "var.location has no value"})"#).is_err());
    }

    #[test]
    fn secure_transport_denials() {
        let deny = r#"denies_insecure_transport("{\"Statement\": [{\"Effect\": \"Deny\", \"Action\": \"s3:*\", \"Condition\": {\"Bool\": {\"aws:SecureTransport\": \"false\"}}}]}")"#;
        assert_eq!(eval(deny).unwrap(), cel::Value::Bool(true));
        let single = r#"denies_insecure_transport({"Statement": {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": [false]}}}})"#;
        assert_eq!(eval(single).unwrap(), cel::Value::Bool(true));
        let allow = r#"denies_insecure_transport({"Statement": [{"Effect": "Allow", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})"#;
        assert_eq!(eval(allow).unwrap(), cel::Value::Bool(false));
        assert!(eval(r#"denies_insecure_transport({"$unknown": "jsonencode of a reference"})"#).is_err());
    }

    #[test]
    fn partly_known_policies_decide_on_their_known_parts() {
        let arn = r#"{"$ref": "aws_s3_bucket.b", "attribute": "arn"}"#;
        let deny = format!(
            r#"{{"$json": {{"Statement": [{{"Effect": "Deny", "Resource": [{arn}], "Condition": {{"Bool": {{"aws:SecureTransport": "false"}}}}}}]}}}}"#
        );
        assert_eq!(eval(&format!("denies_insecure_transport({deny})")).unwrap(), cel::Value::Bool(true));
        let allow = format!(r#"{{"$json": {{"Statement": [{{"Effect": "Allow", "Resource": {arn}}}]}}}}"#);
        assert_eq!(eval(&format!("denies_insecure_transport({allow})")).unwrap(), cel::Value::Bool(false));
        // The effect itself unknown: no guess, unless another statement denies for certain.
        let unknown = r#"{"Effect": {"$unknown": "var.effect has no value"}, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}"#;
        let undecided = eval(&format!(r#"denies_insecure_transport({{"$json": {{"Statement": [{unknown}]}}}})"#)).unwrap_err();
        assert!(undecided.to_string().contains("var.effect has no value"), "{undecided}");
        let certain = r#"{"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": false}}}"#;
        assert_eq!(eval(&format!(r#"denies_insecure_transport({{"$json": {{"Statement": [{unknown}, {certain}]}}}})"#)).unwrap(), cel::Value::Bool(true));
        assert_eq!(eval(&format!("json_parse({deny}).Statement[0].Effect")).unwrap(), s("Deny"));
        // A reference is as unknown as an unknown leaf.
        let by_reference = format!(
            r#"denies_insecure_transport({{"$json": {{"Statement": [{{"Effect": {arn}, "Condition": {{"Bool": {{"aws:SecureTransport": "false"}}}}}}]}}}})"#
        );
        assert!(eval(&by_reference).unwrap_err().to_string().contains("aws_s3_bucket.b.arn is known only after apply"));
    }

    #[test]
    fn lifecycle_rules_from_both_styles() {
        let split = r#"lifecycle_rules({"lifecycle_configuration": [{"rule": [
            {"status": "Enabled", "transition": [{"days": 730, "storage_class": "GLACIER"}], "expiration": [{"days": 2555}]},
            {"status": "Disabled", "expiration": [{"days": 1}]}]}]})"#;
        assert_eq!(eval(&format!("{split}.size()")).unwrap(), cel::Value::Int(1));
        assert_eq!(eval(&format!("{split}[0].expiration_days")).unwrap(), cel::Value::Int(2555));
        let inline = r#"lifecycle_rules({"lifecycle_rule": [{"enabled": true, "transition": [{"days": 730, "storage_class": "DEEP_ARCHIVE"}]}]})"#;
        assert_eq!(eval(&format!("{inline}[0].transitions[0].storage_class")).unwrap(), s("DEEP_ARCHIVE"));
        assert_eq!(eval(&format!("{inline}[0].expiration_days")).unwrap(), cel::Value::Null);
        let dated = r#"lifecycle_rules({"lifecycle_rule": [{"enabled": true, "expiration": [{"date": "2030-01-01"}]}]})"#;
        assert_eq!(eval(&format!("{dated}[0].expiration_date")).unwrap(), s("2030-01-01"));
        assert!(eval(r#"lifecycle_rules({"lifecycle_configuration": {"$unknown": "bucket unknown"}})"#).is_err());
        assert_eq!(eval(r#"lifecycle_rules({"bucket": "x"}).size()"#).unwrap(), cel::Value::Int(0));
    }

    #[test]
    fn json_documents() {
        assert_eq!(eval(r#"json_parse("{\"rules\": [{\"selection\": {\"countNumber\": 90}}]}").rules[0].selection.countNumber"#).unwrap(), cel::Value::Int(90));
        assert_eq!(eval(r#"json_parse(null)"#).unwrap(), cel::Value::Null);
        assert_eq!(eval(r#"json_parse({"a": 1}).a"#).unwrap(), cel::Value::Int(1));
        assert!(eval(r#"json_parse("not json")"#).is_err());
        assert!(eval(r#"json_parse({"$ref": "data.aws_iam_policy_document.p", "attribute": "json"})"#).is_err());
        assert!(eval(r#"json_parse({"$unknown": "var.policy has no value"})"#).is_err());
    }
}
