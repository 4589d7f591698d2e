//! Data sources whose result the configuration alone decides, read as the AWS provider would
//! read them: policy documents rendered, the region, partition and account from the provider
//! configuration, AWS-managed keys recognised by their `alias/aws/` names. Every other data
//! source, and every attribute these do not decide, stays a reference known only after apply.

use super::policy_document;
use super::providers::ProviderConfig;
use crate::model::{Node, Value};

/// Data sources evaluated here.
const READ: &[&str] = &["aws_iam_policy_document", "aws_region", "aws_caller_identity", "aws_partition", "aws_kms_key", "aws_kms_alias"];

/// Data sources that are also resources of the model (rtype `data.<type>`), so that rules can
/// join to them: a key found through `data "aws_kms_key"` is customer-managed or not.
const JOINED: &[&str] = &["aws_kms_key", "aws_kms_alias"];

/// Whether charterguard reads data sources of this type.
pub fn is_read(rtype: &str) -> bool {
    READ.contains(&rtype)
}

/// Whether data sources of this type are resources of the model too.
pub fn is_joined(rtype: &str) -> bool {
    JOINED.contains(&rtype)
}

/// The attributes a data source of type `rtype` has, given its evaluated arguments and its
/// provider configuration (when one reaches it): the arguments, then what the provider would
/// compute from them. `Err` when the provider would fail to read it.
pub fn read(rtype: &str, config: &Node, provider: Option<&ProviderConfig>) -> Result<Node, String> {
    let computed = match rtype {
        "aws_iam_policy_document" => policy_document::render(config)?,
        "aws_region" => region(config, provider),
        "aws_caller_identity" => caller_identity(provider),
        "aws_partition" => partition(provider),
        "aws_kms_key" => key_manager(config.get("key_id")),
        "aws_kms_alias" => key_manager(config.get("name")),
        _ => Vec::new(),
    };
    let mut attributes = config.clone();
    for (name, value) in computed {
        attributes.insert(&name, value);
    }
    Ok(attributes)
}

/// `aws_region`: the region asked for (`region`, or `name` before provider v6), else the
/// provider's.
fn region(config: &Node, provider: Option<&ProviderConfig>) -> Vec<(String, Node)> {
    let asked = ["region", "name"].iter().find_map(|a| config.get(a).filter(|n| n.value != Value::Null)).cloned();
    let Some(region) = asked.or_else(|| provider.map(|p| p.region.clone())).filter(|r| r.value != Value::Null) else { return Vec::new() };
    let mut out = vec![("name".to_string(), region.clone()), ("region".to_string(), region.clone()), ("id".to_string(), region.clone())];
    if let Some(name) = region.as_str() {
        out.push(("endpoint".into(), Node::new(Value::Str(format!("ec2.{name}.{}", dns_suffix(name))), region.span.clone())));
    }
    out
}

/// `aws_caller_identity`: the account, when the provider allows exactly one.
fn caller_identity(provider: Option<&ProviderConfig>) -> Vec<(String, Node)> {
    match provider.and_then(ProviderConfig::account) {
        Some(account) => vec![("account_id".into(), account.clone()), ("id".into(), account.clone())],
        None => Vec::new(),
    }
}

/// `aws_partition` of the provider's region.
fn partition(provider: Option<&ProviderConfig>) -> Vec<(String, Node)> {
    let Some(region) = provider.map(|p| &p.region) else { return Vec::new() };
    let Some(name) = region.as_str() else { return Vec::new() };
    let at = |text: String| Node::new(Value::Str(text), region.span.clone());
    let partition = partition_of(name);
    vec![
        ("partition".into(), at(partition.to_string())),
        ("id".into(), at(partition.to_string())),
        ("dns_suffix".into(), at(dns_suffix(name).to_string())),
        ("reverse_dns_prefix".into(), at(dns_suffix(name).split('.').rev().collect::<Vec<_>>().join("."))),
    ]
}

/// The partition a region belongs to (the live AWS audit builds ARNs with it too).
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

fn dns_suffix(region: &str) -> &'static str {
    if partition_of(region) == "aws-cn" {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

/// `key_manager` of a key named by `key`: `AWS` for an `alias/aws/...` name (only AWS creates
/// those), `CUSTOMER` for any other alias (an alias cannot name an AWS-managed key); a key id or
/// ARN alone does not say.
fn key_manager(key: Option<&Node>) -> Vec<(String, Node)> {
    let Some(name) = key.and_then(Node::as_str) else { return Vec::new() };
    let alias = name.rsplit_once(":alias/").map_or(name.strip_prefix("alias/"), |(_, alias)| Some(alias));
    let manager = match alias {
        Some(alias) if alias.starts_with("aws/") => "AWS",
        Some(_) => "CUSTOMER",
        None => return Vec::new(),
    };
    vec![("key_manager".into(), Node::new(Value::Str(manager.into()), key.and_then(|k| k.span.clone())))]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Node {
        Node::new(Value::Str(text.into()), None)
    }

    #[test]
    fn aws_managed_keys_are_known_by_name() {
        let managed = |key: &str| read("aws_kms_key", &Node::map(vec![("key_id".into(), s(key))], None), None).unwrap();
        assert_eq!(managed("alias/aws/s3").get("key_manager").and_then(Node::as_str), Some("AWS"));
        assert_eq!(managed("arn:aws:kms:ap-south-1:111111111111:alias/aws/rds").get("key_manager").and_then(Node::as_str), Some("AWS"));
        assert_eq!(managed("alias/altscore-gold").get("key_manager").and_then(Node::as_str), Some("CUSTOMER"));
        assert!(managed("1234abcd-12ab-34cd-56ef-1234567890ab").get("key_manager").is_none());
        assert_eq!(managed("alias/aws/s3").get("key_id").and_then(Node::as_str), Some("alias/aws/s3"), "arguments are attributes too");
    }

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(partition_of("ap-south-1"), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(dns_suffix("cn-north-1"), "amazonaws.com.cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
        assert!(partition(None).is_empty());
    }
}
