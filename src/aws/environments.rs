//! The config's environments on live resources (`environments:`): which environment each
//! audited account is, and the name by which ENV-004 matches a resource of staging's account
//! with the same resource of production's.
//!
//! Live resources have no address two accounts share (an ARN names its account), so a
//! resource is matched by its type, region and name: its identifier (`identifier`, `name`,
//! `bucket`, ...) or else its `Name` tag, with the words that name its environment
//! (`prod`, `staging`, see [`crate::config::Environment::words`]) and its account id left
//! out. A resource with no name, or whose name another resource of its type shares in its
//! account, cannot be matched: ENV-004 could not decide on it, and says how to name it.

use super::ALL_TYPES;
use crate::config::Config;
use crate::model::{LiveOrigin, Model, Node, Resource, SourceKind, Span, Unseen, Value, ENVIRONMENT_KEY, MIRROR_KEY, MIRROR_RULE};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Attributes that name a live resource in its account, joined in this order when several
/// are set (an EKS node group is `cluster_name/node_group_name`).
const NAME_ATTRIBUTES: &[&str] = &[
    "cluster_name",
    "name",
    "identifier",
    "cluster_identifier",
    "bucket",
    "replication_group_id",
    "cluster_id",
    "node_group_name",
    "replicator_name",
    "domain_name",
];

/// The environments ENV-004 compares: production is mirrored by staging.
const MIRRORED: [&str; 2] = ["production", "staging"];

/// Names the environment of every live resource and unseen part of the audit whose account
/// the config's `environments:` names, and gives those resources the name ENV-004 matches
/// them by. `audited` are the accounts the audit reached: when it reached production's
/// account but not staging's (or the reverse), ENV-004 could not decide there.
pub fn name_environments(model: &mut Model, config: &Config, audited: &[String], anchor: &Span) {
    let names: BTreeMap<&str, &str> = config.environments.iter().filter_map(|(name, e)| Some((e.account.as_deref()?, name.as_str()))).collect();
    let named = |origin: &LiveOrigin| names.get(origin.scope.as_str()).map(|name| LiveOrigin { environment: Some(name.to_string()), ..origin.clone() });
    for resource in &mut model.resources {
        if let Some(origin) = resource.live.as_deref().and_then(named) {
            resource.attrs.insert(ENVIRONMENT_KEY, Node::new(Value::Str(origin.environment.clone().unwrap_or_default()), None));
            resource.live = Some(Arc::new(origin));
        }
    }
    for unseen in &mut model.unseen {
        if let Some(origin) = named(&unseen.origin) {
            unseen.origin = origin;
        }
    }
    mirror_names(&mut model.resources, config);
    model.unseen.extend(unaudited_counterparts(config, audited, anchor));
}

/// Sets [`MIRROR_KEY`] on every live resource of an environment.
fn mirror_names(resources: &mut [Resource], config: &Config) {
    let own: HashMap<&str, String> =
        resources.iter().filter(|r| environment_of(r).is_some() && !r.address.contains('#')).filter_map(|r| Some((r.address.as_str(), own_name(r)?))).collect();
    let mut keys: Vec<Option<Result<String, String>>> = Vec::with_capacity(resources.len());
    for resource in resources.iter() {
        let Some(environment) = environment_of(resource) else {
            keys.push(None);
            continue;
        };
        let words = config.environments.get(environment).map(|e| e.words(environment)).unwrap_or_default();
        let account = resource.live.as_deref().map_or("", |origin| origin.scope.as_str());
        let name = match resource.address.split_once('#') {
            Some((parent, part)) if !is_generated_id(part) => own.get(parent).cloned().or_else(|| arn_resource(parent)).map(|name| format!("{name}#{part}")),
            Some(_) => None,
            None => own.get(resource.address.as_str()).cloned(),
        };
        let unnamed = |address: &str| {
            format!(
                "{address} has no name to find it by in the other environment's account (no identifier, no Name tag): give it a Name tag that differs from the other environment's only by the environment's name"
            )
        };
        let region = resource.attrs.get("__region").and_then(Node::as_str).unwrap_or("*");
        let name = name.ok_or_else(|| unnamed(&resource.address)).and_then(|name| in_vpc(resource, &own, name).map_err(|vpc| unnamed(&vpc)));
        keys.push(Some(name.map(|name| format!("{} {region} {}", resource.rtype, neutral_name(&name, &words, account)))));
    }
    let mut counts: HashMap<(&str, &str), usize> = HashMap::new();
    for (resource, key) in resources.iter().zip(&keys) {
        if let (Some(environment), Some(Ok(key))) = (environment_of(resource), key) {
            *counts.entry((environment, key.as_str())).or_default() += 1;
        }
    }
    let keys: Vec<Option<Value>> = resources
        .iter()
        .zip(&keys)
        .map(|(resource, key)| match key.as_ref()? {
            Ok(key) if counts.get(&(environment_of(resource)?, key.as_str())).is_some_and(|n| *n > 1) => Some(Value::Unknown(format!(
                "{} shares its name with another {} of its account in its region: give them Name tags that tell them apart",
                resource.address, resource.rtype
            ))),
            Ok(key) => Some(Value::Str(key.clone())),
            Err(reason) => Some(Value::Unknown(reason.clone())),
        })
        .collect();
    for (resource, key) in resources.iter_mut().zip(keys) {
        if let Some(key) = key {
            resource.attrs.insert(MIRROR_KEY, Node::new(key, None));
        }
    }
}

/// A resource inside a VPC (a security group, a subnet, a route table) is named inside its
/// VPC's name: every VPC has a security group called `default` and a main route table. `Err`
/// with the VPC's address when the VPC has no name.
fn in_vpc(resource: &Resource, names: &HashMap<&str, String>, name: String) -> Result<String, String> {
    match resource.attrs.get("vpc_id").map(|node| &node.value) {
        Some(Value::Ref { address, .. }) if address.contains(":vpc/") => match names.get(address.as_str()) {
            Some(vpc) => Ok(format!("{vpc}/{name}")),
            None => Err(address.clone()),
        },
        _ => Ok(name),
    }
}

/// The resource part of an ARN (`registry` of `arn:aws:ecr:...:registry`), unless AWS
/// generated it.
fn arn_resource(arn: &str) -> Option<String> {
    let part = arn.strip_prefix("arn:")?.splitn(5, ':').nth(4)?;
    let generated = part.split(['/', ':']).any(is_generated_id);
    (!part.is_empty() && !generated).then(|| part.to_string())
}

fn environment_of(resource: &Resource) -> Option<&str> {
    resource.live.as_deref()?.environment.as_deref()
}

/// The resource's name in its account: its naming attributes, else its `Name` tag; the
/// default VPC and its subnets by what makes them default.
fn own_name(resource: &Resource) -> Option<String> {
    let text = |key: &str| resource.attrs.get(key).and_then(Node::as_str).filter(|s| !s.is_empty() && !is_generated_id(s));
    let parts: Vec<&str> = NAME_ATTRIBUTES.iter().filter_map(|key| text(key)).collect();
    if !parts.is_empty() {
        return Some(parts.join("/"));
    }
    if let Some(tag) = resource.attrs.get("tags").and_then(|tags| tags.get("Name")).and_then(Node::as_str).filter(|s| !s.is_empty()) {
        return Some(tag.to_string());
    }
    match resource.rtype.as_str() {
        "aws_default_vpc" => Some("default".into()),
        "aws_default_subnet" => text("availability_zone").map(|zone| format!("default {zone}")),
        "aws_default_route_table" => Some("main".into()),
        _ => None,
    }
}

/// `name` with the environment's words and the account id replaced, so that
/// `altscore-prod-scores` and `altscore-staging-scores` are one name.
fn neutral_name(name: &str, words: &[String], account: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if words.iter().any(|w| w.eq_ignore_ascii_case(word)) {
            out.push_str("{environment}");
        } else if !account.is_empty() && word == account {
            out.push_str("{account}");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// An identifier EC2 generated (`sg-0a1b2c3d4e5f60718`, `rtbassoc-0123abcd`: 8 or 17 hex
/// digits): it names the resource in one account only.
fn is_generated_id(text: &str) -> bool {
    let Some((prefix, id)) = text.split_once('-') else { return false };
    !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_lowercase()) && matches!(id.len(), 8 | 17) && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// When the audit reached one of production's and staging's accounts but not the other:
/// what ENV-004 would compare with is unseen.
fn unaudited_counterparts(config: &Config, audited: &[String], anchor: &Span) -> Vec<Unseen> {
    let account = |name: &str| config.environments.get(name).and_then(|e| e.account.clone());
    let [Some(production), Some(staging)] = MIRRORED.map(account) else { return Vec::new() };
    let reached = |account: &String| audited.contains(account);
    let (missing, name, other) = match (reached(&production), reached(&staging)) {
        (true, false) => (staging, "staging", "production"),
        (false, true) => (production, "production", "staging"),
        _ => return Vec::new(),
    };
    let origin = LiveOrigin { id: format!("arn:aws:*:*:{missing}:*"), scope: missing.clone(), region: None, managed_by: None, environment: Some(name.into()) };
    vec![Unseen {
        source: SourceKind::Aws,
        origin,
        resource_types: ALL_TYPES.iter().map(|t| t.to_string()).collect(),
        rule: Some(MIRROR_RULE.into()),
        reason: format!("{name}'s account {missing} was not audited, so {other}'s resources cannot be compared with it: audit both accounts in one run (--org, or a --role-arn for each)"),
        span: anchor.clone(),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::attrs::{string_map, Attrs};

    fn live(rtype: &str, address: &str, account: &str, attrs: Attrs) -> Resource {
        let origin = LiveOrigin { id: address.into(), scope: account.into(), region: Some("ap-south-1".into()), managed_by: None, environment: None };
        Resource {
            source: SourceKind::Aws,
            rtype: rtype.into(),
            address: address.into(),
            span: Span::new("charterguard.yaml".into(), 1, 1, 1, 1),
            attrs: attrs.set("__region", "ap-south-1").node(),
            template: None,
            render: None,
            call_chain: Vec::new(),
            live: Some(Arc::new(origin)),
            join_scope: None,
        }
    }

    fn config() -> Config {
        let text = "environments:\n  production: {account: \"111111111111\"}\n  staging: {account: \"222222222222\", names: [stg, staging]}\n";
        Config::parse("charterguard.yaml", text).unwrap()
    }

    fn mirror(model: &Model, address: &str) -> Value {
        let resource = model.resources.iter().find(|r| r.address == address).unwrap();
        resource.attrs.get(MIRROR_KEY).unwrap().value.clone()
    }

    #[test]
    fn staging_and_production_resources_share_a_name_without_their_environment() {
        let mut model = Model::default();
        let db = |account: &str, id: &str| {
            live("aws_db_instance", &format!("arn:aws:rds:ap-south-1:{account}:db:{id}"), account, Attrs::new().set("identifier", id))
        };
        model.resources.push(db("111111111111", "altscore-prod-scores"));
        model.resources.push(db("222222222222", "altscore-STG-scores"));
        let bucket =
            |account: &str| live("aws_s3_bucket", &format!("arn:aws:s3:::logs-{account}"), account, Attrs::new().set("bucket", format!("logs-{account}")));
        model.resources.push(bucket("111111111111"));
        let tagged = Attrs::new().set("id", "i-0123456789abcdef0").set("tags", string_map([("Name", "scoring-production")]));
        model.resources.push(live("aws_instance", "arn:aws:ec2:ap-south-1:111111111111:instance/i-0123456789abcdef0", "111111111111", tagged));
        let vpc = "arn:aws:ec2:ap-south-1:111111111111:vpc/vpc-0123456789abcdef0";
        let named_vpc = Attrs::new().set("id", "vpc-0123456789abcdef0").set("tags", string_map([("Name", "altscore-prd")]));
        model.resources.push(live("aws_vpc", vpc, "111111111111", named_vpc));
        let group = Attrs::new().set("name", "default").set("vpc_id", crate::aws::attrs::reference(vpc, "id"));
        model.resources.push(live("aws_security_group", "arn:aws:ec2:ap-south-1:111111111111:security-group/sg-0123456789abcdef0", "111111111111", group));
        name_environments(&mut model, &config(), &["111111111111".into(), "222222222222".into()], &Span::new("c".into(), 1, 1, 1, 1));
        let group = mirror(&model, "arn:aws:ec2:ap-south-1:111111111111:security-group/sg-0123456789abcdef0");
        assert_eq!(group, Value::Str("aws_security_group ap-south-1 altscore-{environment}/default".into()));
        let expected = Value::Str("aws_db_instance ap-south-1 altscore-{environment}-scores".into());
        assert_eq!(mirror(&model, "arn:aws:rds:ap-south-1:111111111111:db:altscore-prod-scores"), expected);
        assert_eq!(mirror(&model, "arn:aws:rds:ap-south-1:222222222222:db:altscore-STG-scores"), expected);
        assert_eq!(mirror(&model, "arn:aws:s3:::logs-111111111111"), Value::Str("aws_s3_bucket ap-south-1 logs-{account}".into()));
        let instance = mirror(&model, "arn:aws:ec2:ap-south-1:111111111111:instance/i-0123456789abcdef0");
        assert_eq!(instance, Value::Str("aws_instance ap-south-1 scoring-{environment}".into()));
        let environment = model.resources[1].attrs.get(ENVIRONMENT_KEY).and_then(Node::as_str);
        assert_eq!(environment, Some("staging"));
    }

    #[test]
    fn unnamed_and_ambiguous_resources_cannot_be_matched() {
        let mut model = Model::default();
        let group = |id: &str| {
            live(
                "aws_security_group",
                &format!("arn:aws:ec2:ap-south-1:111111111111:security-group/{id}"),
                "111111111111",
                Attrs::new().set("id", id).set("name", "default"),
            )
        };
        model.resources.push(group("sg-0123456789abcdef0"));
        model.resources.push(group("sg-0fedcba9876543210"));
        let table = Attrs::new().set("id", "rtb-0123456789abcdef0");
        model.resources.push(live("aws_route_table", "arn:aws:ec2:ap-south-1:111111111111:route-table/rtb-0123456789abcdef0", "111111111111", table));
        model.resources.push(live(
            "aws_route_table_association",
            "arn:aws:ec2:ap-south-1:111111111111:route-table/rtb-0123456789abcdef0#rtbassoc-0123456789abcdef0",
            "111111111111",
            Attrs::new(),
        ));
        name_environments(&mut model, &config(), &["111111111111".into()], &Span::new("c".into(), 1, 1, 1, 1));
        for resource in &model.resources {
            let key = resource.attrs.get(MIRROR_KEY).unwrap();
            assert!(key.is_unknown(), "{}: {key:?}", resource.address);
        }
        let unseen = &model.unseen[0];
        assert_eq!(
            (unseen.rule.as_deref(), unseen.origin.scope.as_str(), unseen.origin.environment.as_deref()),
            (Some("ENV-004"), "222222222222", Some("staging"))
        );
    }
}
