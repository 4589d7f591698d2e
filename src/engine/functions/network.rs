//! Helpers for the network and EKS rules (NET-*, EKS-*): the tier of a subnet and version
//! comparison. Like the other helpers, they fail on unknown values instead of guessing.

use super::{known_string, undecided, Helpers};
use crate::config::Config;
use crate::engine::values::{display, field, reference, string, unknown_reason};
use crate::redact::vocabulary::Vocabulary;
use cel::ExecutionError;
use std::sync::Arc;

type Result = std::result::Result<cel::Value, ExecutionError>;

/// Registers `subnet_tier`, `version_at_least`, `is_alb_named`, `covers_port`,
/// `has_cidr_source`, `route_target`, `cannot_decide`, `node_group_role`,
/// `availability_zones` and `literal_secrets`.
pub fn register(helpers: &mut Helpers, config: &Config) -> anyhow::Result<()> {
    let tiers = Arc::new(Tiers::of(config)?);
    helpers.add("subnet_tier", move |subnet: cel::Value| subnet_tier(&tiers, &subnet))?;
    helpers.add("version_at_least", |version: cel::Value, minimum: Arc<String>| version_at_least(&version, &minimum))?;
    helpers.add("is_alb_named", |group: cel::Value| is_alb_named(&group))?;
    helpers.add("covers_port", |rule: cel::Value, port: i64| covers_port(&rule, port))?;
    helpers.add("has_cidr_source", |rule: cel::Value| has_cidr_source(&rule))?;
    helpers.add("route_target", |route: cel::Value| route_target(&route))?;
    let roles: Arc<Vec<String>> = Arc::new(config.node_groups.keys().cloned().collect());
    helpers.add("node_group_role", move |group: cel::Value| node_group_role(&roles, &group))?;
    helpers.add("availability_zones", |subnets: cel::Value| availability_zones(&subnets))?;
    let secrets = Arc::new(config.secrets.clone());
    helpers.add("literal_secrets", move |resource: cel::Value| literal_secrets(&secrets, &resource))?;
    helpers.add("cache_subnet_group_key", |resource: cel::Value| cache_subnet_group_key(&resource))?;
    Ok(())
}

/// A known string, null when absent; fails on unknowns and references.
fn text(value: Option<&cel::Value>, what: &str) -> std::result::Result<Option<String>, ExecutionError> {
    match value {
        None | Some(cel::Value::Null) => Ok(None),
        Some(value) => known_string(value, what).map(Some),
    }
}

/// The configuration's subnet tiers (`subnet_tiers`), their CIDR ranges parsed.
struct Tiers(Vec<(String, Vec<String>, Vec<ipnet::IpNet>)>);

impl Tiers {
    fn of(config: &Config) -> anyhow::Result<Self> {
        let mut tiers = Vec::new();
        for tier in &config.subnet_tiers {
            let cidrs = tier.cidrs.iter().map(|c| c.parse::<ipnet::IpNet>()).collect::<std::result::Result<_, _>>()?;
            tiers.push((tier.name.clone(), tier.words.iter().map(|w| w.to_ascii_lowercase()).collect(), cidrs));
        }
        Ok(Tiers(tiers))
    }

    /// The first tier (in the configuration's order) one of whose words `text` has.
    fn named_in(&self, text: &str) -> Option<&str> {
        let lower = text.to_ascii_lowercase();
        let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
        self.0.iter().find(|(_, names, _)| words.iter().any(|w| names.iter().any(|n| n == w))).map(|(tier, _, _)| tier.as_str())
    }

    /// The tier whose ranges hold the subnet `cidr`.
    fn of_cidr(&self, cidr: &str) -> Option<&str> {
        let subnet: ipnet::IpNet = cidr.parse().ok()?;
        self.0.iter().find(|(_, _, ranges)| ranges.iter().any(|range| range.contains(&subnet))).map(|(tier, _, _)| tier.as_str())
    }
}

/// `subnet_tier(subnet)`: the subnet's tier (`subnet_tiers`: public, app, data or db by
/// default) from the `Tier` tag, else the `Name` tag, else the Terraform resource name, else
/// the CIDR plan; null when nothing says. Fails when the deciding value is unknown.
fn subnet_tier(tiers: &Tiers, subnet: &cel::Value) -> Result {
    let tags = field(subnet, "tags");
    let tag = |name: &str| -> std::result::Result<Option<String>, ExecutionError> {
        let Some(tags) = tags else { return Ok(None) };
        if let Some(reason) = unknown_reason(tags) {
            return Err(undecided("subnet_tier", format!("tags are unknown: {reason}")));
        }
        let cel::Value::Map(map) = tags else { return Ok(None) };
        let found = map.map.iter().find(|(k, _)| matches!(k, cel::objects::Key::String(k) if k.eq_ignore_ascii_case(name)));
        text(found.map(|(_, v)| v), &format!("tag {name}"))
    };
    if let Some(tier) = tag("Tier")? {
        return Ok(tiers.named_in(&tier).map(string).unwrap_or(cel::Value::Null));
    }
    if let Some(tier) = tag("Name")?.as_deref().and_then(|name| tiers.named_in(name)) {
        return Ok(string(tier));
    }
    let address = match field(subnet, "__address") {
        Some(cel::Value::String(a)) => a.to_string(),
        _ => String::new(),
    };
    // The resource name and instance key: `aws_subnet.data["ap-south-1a"]` → `data ap-south-1a`.
    let name = address.rsplit_once("aws_subnet.").map(|(_, n)| n.to_string()).unwrap_or_default();
    if let Some(tier) = tiers.named_in(&name) {
        return Ok(string(tier));
    }
    let cidr = text(field(subnet, "cidr_block"), "cidr_block")?;
    Ok(cidr.as_deref().and_then(|cidr| tiers.of_cidr(cidr)).map(string).unwrap_or(cel::Value::Null))
}

/// `is_alb_named(group)`: the security group's `name`, `name_prefix` or `Name` tag has the
/// word `alb` (null → false).
fn is_alb_named(group: &cel::Value) -> Result {
    let mut texts = vec![text(field(group, "name"), "name")?, text(field(group, "name_prefix"), "name_prefix")?];
    if let Some(cel::Value::Map(tags)) = field(group, "tags") {
        let found = tags.map.iter().find(|(k, _)| matches!(k, cel::objects::Key::String(k) if k.eq_ignore_ascii_case("name")));
        texts.push(text(found.map(|(_, v)| v), "tag Name")?);
    }
    let alb = texts.into_iter().flatten().any(|t| t.to_ascii_lowercase().split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w == "alb"));
    Ok(cel::Value::Bool(alb))
}

/// A number written as int, float or numeric string; null when absent.
fn number(value: Option<&cel::Value>, what: &str) -> std::result::Result<Option<f64>, ExecutionError> {
    match text(value, what)? {
        None => Ok(None),
        Some(t) => t.trim().parse::<f64>().map(Some).map_err(|_| undecided(what, format!("{what} `{t}` is not a number"))),
    }
}

/// `covers_port(rule, 5432)`: a security group rule (inline block, `aws_security_group_rule`
/// or `aws_vpc_security_group_*_rule`) admits TCP `port`: protocol `-1`/`all` (every port),
/// or tcp/6 with `from_port <= port <= to_port`.
fn covers_port(rule: &cel::Value, port: i64) -> Result {
    // Traffic among the group's own members (`self = true` alone) serves no other tier.
    if admits_only_itself(rule)? {
        return Ok(cel::Value::Bool(false));
    }
    let protocol = text(field(rule, "protocol").or_else(|| field(rule, "ip_protocol")), "protocol")?.unwrap_or_default().to_ascii_lowercase();
    if protocol == "-1" || protocol == "all" {
        return Ok(cel::Value::Bool(true));
    }
    if protocol != "tcp" && protocol != "6" {
        return Ok(cel::Value::Bool(false));
    }
    let from = number(field(rule, "from_port"), "from_port")?;
    let to = number(field(rule, "to_port"), "to_port")?.or(from);
    let port = port as f64;
    Ok(cel::Value::Bool(matches!((from, to), (Some(f), Some(t)) if f <= port && port <= t)))
}

/// Whether a rule's only source is the group itself (`self = true`, no CIDR range, group or
/// prefix list).
fn admits_only_itself(rule: &cel::Value) -> std::result::Result<bool, ExecutionError> {
    if !matches!(field(rule, "self"), Some(cel::Value::Bool(true))) {
        return Ok(false);
    }
    let names = |key: &str| match field(rule, key) {
        None | Some(cel::Value::Null) => false,
        Some(cel::Value::List(items)) => !items.is_empty(),
        Some(_) => true,
    };
    let other_groups = ["source_security_group_id", "security_groups", "prefix_list_ids", "referenced_security_group_id"].iter().any(|key| names(key));
    Ok(!other_groups && has_cidr_source(rule)? == cel::Value::Bool(false))
}

/// `has_cidr_source(rule)`: the rule admits CIDR ranges (`cidr_blocks`,
/// `ipv6_cidr_blocks`, `cidr_ipv4`, `cidr_ipv6`), not only security groups.
fn has_cidr_source(rule: &cel::Value) -> Result {
    for key in ["cidr_blocks", "ipv6_cidr_blocks", "cidr_ipv4", "cidr_ipv6"] {
        let Some(value) = field(rule, key) else { continue };
        if let Some(reason) = unknown_reason(value) {
            return Err(undecided("has_cidr_source", format!("`{key}` is unknown: {reason}")));
        }
        match value {
            cel::Value::Null => {}
            cel::Value::List(items) if items.is_empty() => {}
            cel::Value::String(s) if s.is_empty() => {}
            _ => return Ok(cel::Value::Bool(true)),
        }
    }
    Ok(cel::Value::Bool(false))
}

/// `aws_internet_gateway` for `module.x.aws_internet_gateway.main[0]`, and for a data source
/// `data.aws_internet_gateway.shared` (a gateway found is still that kind of gateway).
fn type_of_address(address: &str) -> &str {
    let mut parts = address.split('.').peekable();
    while parts.peek() == Some(&"module") {
        parts.next();
        parts.next();
    }
    if parts.peek() == Some(&"data") {
        parts.next();
    }
    parts.next().unwrap_or("")
}

/// `route_target(route)`: where a route (inline `route` block or `aws_route`) sends traffic:
/// "igw" (internet gateway, also egress-only for IPv6), "nat" (NAT gateway), else "other";
/// judged by the referenced resource's type or the id prefix (`igw-`, `eigw-`, `nat-`).
fn route_target(route: &cel::Value) -> Result {
    let kind = |value: Option<&cel::Value>, what: &str| -> std::result::Result<Option<&'static str>, ExecutionError> {
        let Some(value) = value else { return Ok(None) };
        if let Some((address, _)) = reference(value) {
            return Ok(match type_of_address(address) {
                "aws_internet_gateway" | "aws_egress_only_internet_gateway" => Some("igw"),
                "aws_nat_gateway" => Some("nat"),
                _ => Some("other"),
            });
        }
        Ok(text(Some(value), what)?.filter(|t| !t.is_empty()).map(|t| {
            if t.starts_with("igw-") || t.starts_with("eigw-") {
                "igw"
            } else if t.starts_with("nat-") {
                "nat"
            } else {
                "other"
            }
        }))
    };
    for key in ["gateway_id", "egress_only_gateway_id", "nat_gateway_id"] {
        match kind(field(route, key), key)? {
            Some("other") | None => {}
            Some(found) => return Ok(string(found)),
        }
    }
    // `nat_gateway_id` is only ever a NAT gateway, whatever it is written as.
    if kind(field(route, "nat_gateway_id"), "nat_gateway_id")?.is_some() {
        return Ok(string("nat"));
    }
    Ok(string("other"))
}

/// `node_group_role(group)`: the role (a key of `node_groups`: api, ml or system by default)
/// a word of `node_group_name` names, else of `node_group_name_prefix`, else of the
/// Terraform resource name; null otherwise.
fn node_group_role(roles: &[String], group: &cel::Value) -> Result {
    let address = match field(group, "__address") {
        Some(cel::Value::String(a)) => a.rsplit_once("aws_eks_node_group.").map(|(_, n)| n.to_string()),
        _ => None,
    };
    let name = match text(field(group, "node_group_name"), "node_group_name")? {
        Some(name) => Some(name),
        None => text(field(group, "node_group_name_prefix"), "node_group_name_prefix")?,
    };
    let role = |t: &str| -> Option<&str> {
        let lower = t.to_ascii_lowercase();
        let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).collect();
        roles.iter().map(String::as_str).find(|role| words.contains(role))
    };
    // The name decides when it is written; the address only when no name is.
    let found = match &name {
        Some(name) => role(name),
        None => address.as_deref().and_then(role),
    };
    Ok(found.map(string).unwrap_or(cel::Value::Null))
}

/// `availability_zones(subnets)`: the distinct `availability_zone` (or
/// `availability_zone_id`) values of subnets looked up with `lookup`; fails when a subnet is
/// not in the scanned code (null) or its zone is unknown or not written.
fn availability_zones(subnets: &cel::Value) -> Result {
    let cel::Value::List(items) = subnets else {
        if let Some(reason) = unknown_reason(subnets) {
            return Err(undecided("availability_zones", format!("the subnets are unknown: {reason}")));
        }
        return Err(undecided("availability_zones", format!("the subnets are not a list: {}", display(subnets))));
    };
    let mut zones: Vec<String> = Vec::new();
    for subnet in items.iter() {
        if matches!(subnet, cel::Value::Null) {
            return Err(undecided("availability_zones", "a subnet is not in the scanned code, so its availability zone is unknown".into()));
        }
        let zone = match text(field(subnet, "availability_zone"), "availability_zone")? {
            Some(zone) => Some(zone),
            None => text(field(subnet, "availability_zone_id"), "availability_zone_id")?,
        };
        let Some(zone) = zone else {
            let address = field(subnet, "__address").map(display).unwrap_or_default();
            return Err(undecided("availability_zones", format!("{address} sets no availability_zone: AWS picks one at apply")));
        };
        if !zones.contains(&zone) {
            zones.push(zone);
        }
    }
    zones.sort();
    Ok(cel::Value::List(Arc::new(zones.iter().map(|z| string(z)).collect())))
}

/// A known, non-empty string: a literal written in the code (tfvars included).
fn literal(value: Option<&cel::Value>) -> bool {
    matches!(value, Some(cel::Value::String(s)) if !s.is_empty())
}

/// `literal_secrets(resource)`: the attributes of a resource that hold a secret written as
/// a literal: DB master passwords, cache auth tokens, secret strings, provider access keys,
/// and the default or given value of a secret-named variable. References, unknown values
/// (inputs not in the code) and empty strings are not literals. Never returns the values.
fn literal_secrets(vocabulary: &Vocabulary, resource: &cel::Value) -> Result {
    let rtype = match field(resource, "__type") {
        Some(cel::Value::String(t)) => t.to_string(),
        _ => String::new(),
    };
    let attributes: &[&str] = match rtype.as_str() {
        "aws_db_instance" => &["password"],
        "aws_rds_cluster" => &["master_password"],
        "aws_elasticache_replication_group" | "aws_elasticache_user" => &["auth_token", "passwords"],
        "aws_secretsmanager_secret_version" => &["secret_string"],
        "provider.aws" => &["access_key", "secret_key", "token"],
        "variable" => {
            let name = field(resource, "name").map(display).unwrap_or_default();
            if vocabulary.variable_name(&name) {
                &["default", "value"]
            } else {
                &[]
            }
        }
        _ => &[],
    };
    let found: Vec<cel::Value> = attributes
        .iter()
        .filter(|a| {
            let value = field(resource, a);
            literal(value) || matches!(value, Some(cel::Value::List(items)) if items.iter().any(|i| literal(Some(i))))
        })
        .map(|a| string(a))
        .collect();
    Ok(cel::Value::List(Arc::new(found)))
}

/// `cache_subnet_group_key(resource)`: joins ElastiCache subnet groups to caches by name:
/// the group's `name`, a cache's `subnet_group_name`, else the address (joins nothing).
/// Fails when the name is unknown, so an unknown group name joins nothing either.
fn cache_subnet_group_key(resource: &cel::Value) -> Result {
    let rtype = field(resource, "__type").map(display).unwrap_or_default();
    let key = match rtype.as_str() {
        "aws_elasticache_subnet_group" => text(field(resource, "name"), "name")?,
        "aws_elasticache_cluster" | "aws_elasticache_replication_group" => text(field(resource, "subnet_group_name"), "subnet_group_name")?,
        _ => None,
    };
    Ok(string(&key.unwrap_or_else(|| format!("{rtype} {}", field(resource, "__address").map(display).unwrap_or_default()))))
}

/// `version_at_least("1.30", "1.29")`: numeric comparison of dotted versions; null (no
/// version written) cannot be decided.
fn version_at_least(version: &cel::Value, minimum: &str) -> Result {
    let Some(version) = text(Some(version), "version")? else {
        return Err(undecided("version_at_least", "no version is written: AWS picks its current default at creation, and it changes".into()));
    };
    let parse = |v: &str| -> Option<Vec<u64>> { v.trim().trim_start_matches('v').split('.').map(|p| p.parse().ok()).collect() };
    match (parse(&version), parse(minimum)) {
        (Some(have), Some(want)) => Ok(cel::Value::Bool(have >= want)),
        _ => Err(undecided("version_at_least", format!("`{version}` is not a version number"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_from_words_and_cidr_plan() {
        let tiers = Tiers::of(&Config::default()).unwrap();
        assert_eq!(tiers.named_in("altscore-prod-db-a"), Some("db"));
        assert_eq!(tiers.named_in("private-app-1a"), Some("app"));
        assert_eq!(tiers.named_in("ml"), Some("data"));
        assert_eq!(tiers.named_in("public"), Some("public"));
        assert_eq!(tiers.named_in("misc"), None);
        assert_eq!(tiers.of_cidr("10.0.21.0/24"), Some("data"));
        assert_eq!(tiers.of_cidr("10.0.30.0/24"), Some("db"));
        assert_eq!(tiers.of_cidr("10.0.0.0/24"), Some("public"));
        assert_eq!(tiers.of_cidr("10.0.11.128/25"), Some("app"));
        assert_eq!(tiers.of_cidr("172.16.0.0/24"), None);
        // A plan of the user's own.
        let text = "subnet_tiers:\n  - {name: db, words: [rds], cidrs: [172.16.8.0/22]}\n";
        let own = Tiers::of(&Config::parse("charterguard.yaml", text).unwrap()).unwrap();
        assert_eq!((own.of_cidr("172.16.9.0/24"), own.named_in("rds-a"), own.named_in("db-a")), (Some("db"), Some("db"), None));
    }

    #[test]
    fn alb_groups_by_name_word() {
        let group = |name: &str| values_map(&[("name", string(name))]);
        assert_eq!(is_alb_named(&group("prod-alb-sg")).unwrap(), cel::Value::Bool(true));
        assert_eq!(is_alb_named(&group("albatross")).unwrap(), cel::Value::Bool(false));
        assert_eq!(is_alb_named(&cel::Value::Null).unwrap(), cel::Value::Bool(false));
    }

    fn values_map(entries: &[(&str, cel::Value)]) -> cel::Value {
        let map: std::collections::HashMap<cel::objects::Key, cel::Value> = entries.iter().map(|(k, v)| (cel::objects::Key::from(*k), v.clone())).collect();
        cel::Value::Map(cel::objects::Map { map: Arc::new(map) })
    }

    #[test]
    fn ports_and_cidr_sources() {
        let rule = values_map(&[
            ("protocol", string("tcp")),
            ("from_port", cel::Value::Int(5000)),
            ("to_port", cel::Value::Int(6000)),
            ("cidr_blocks", cel::Value::List(Arc::new(vec![string("10.0.0.0/16")]))),
        ]);
        assert_eq!(covers_port(&rule, 5432).unwrap(), cel::Value::Bool(true));
        assert_eq!(covers_port(&rule, 6379).unwrap(), cel::Value::Bool(false));
        assert_eq!(has_cidr_source(&rule).unwrap(), cel::Value::Bool(true));
        let all = values_map(&[("ip_protocol", string("-1")), ("referenced_security_group_id", string("sg-1"))]);
        assert_eq!(covers_port(&all, 9092).unwrap(), cel::Value::Bool(true));
        assert_eq!(has_cidr_source(&all).unwrap(), cel::Value::Bool(false));
    }

    #[test]
    fn route_targets() {
        let reference = |address: &str| values_map(&[("$ref", string(address)), ("attribute", string("id"))]);
        assert_eq!(route_target(&values_map(&[("gateway_id", reference("module.vpc.aws_internet_gateway.this[0]"))])).unwrap(), string("igw"));
        assert_eq!(route_target(&values_map(&[("gateway_id", reference("data.aws_internet_gateway.shared"))])).unwrap(), string("igw"));
    }

    #[test]
    fn traffic_from_the_group_itself_serves_no_tier() {
        let all = |extra: &[(&str, cel::Value)]| {
            let mut entries =
                vec![("protocol", string("-1")), ("from_port", cel::Value::Int(0)), ("to_port", cel::Value::Int(0)), ("self", cel::Value::Bool(true))];
            entries.extend_from_slice(extra);
            values_map(&entries)
        };
        assert_eq!(covers_port(&all(&[]), 5432).unwrap(), cel::Value::Bool(false));
        assert_eq!(covers_port(&all(&[("cidr_blocks", cel::Value::List(Arc::new(vec![string("10.0.0.0/8")])))]), 5432).unwrap(), cel::Value::Bool(true));
        assert_eq!(covers_port(&all(&[("source_security_group_id", string("sg-1"))]), 5432).unwrap(), cel::Value::Bool(true));
        assert_eq!(route_target(&values_map(&[("nat_gateway_id", string("nat-0abc"))])).unwrap(), string("nat"));
        assert_eq!(route_target(&values_map(&[("gateway_id", string("local"))])).unwrap(), string("other"));
        assert_eq!(route_target(&values_map(&[("transit_gateway_id", string("tgw-1"))])).unwrap(), string("other"));
    }

    #[test]
    fn literal_secrets_name_attributes_not_values() {
        let db = values_map(&[("__type", string("aws_db_instance")), ("password", string("hunter2")), ("username", string("admin"))]);
        assert_eq!(literal_secrets(Vocabulary::charter(), &db).unwrap(), cel::Value::List(Arc::new(vec![string("password")])));
        let managed = values_map(&[("__type", string("aws_db_instance")), ("manage_master_user_password", cel::Value::Bool(true))]);
        assert_eq!(literal_secrets(Vocabulary::charter(), &managed).unwrap(), cel::Value::List(Arc::new(vec![])));
        let var = values_map(&[("__type", string("variable")), ("name", string("region")), ("default", string("ap-south-1"))]);
        assert_eq!(literal_secrets(Vocabulary::charter(), &var).unwrap(), cel::Value::List(Arc::new(vec![])));
    }

    fn roles() -> Vec<String> {
        Config::default().node_groups.keys().cloned().collect()
    }

    #[test]
    fn node_group_roles_and_zones() {
        let group = values_map(&[("__address", string("aws_eks_node_group.main")), ("node_group_name", string("api-nodes"))]);
        assert_eq!(node_group_role(&roles(), &group).unwrap(), string("api"));
        let unnamed = values_map(&[("__address", string("aws_eks_node_group.system"))]);
        assert_eq!(node_group_role(&roles(), &unnamed).unwrap(), string("system"));
        let subnet = |az: &str| values_map(&[("availability_zone", string(az))]);
        let zones = availability_zones(&cel::Value::List(Arc::new(vec![subnet("ap-south-1a"), subnet("ap-south-1b"), subnet("ap-south-1a")]))).unwrap();
        assert_eq!(zones, cel::Value::List(Arc::new(vec![string("ap-south-1a"), string("ap-south-1b")])));
        assert!(availability_zones(&cel::Value::List(Arc::new(vec![cel::Value::Null]))).is_err());
    }

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(version_at_least(&string("1.30"), "1.29").unwrap(), cel::Value::Bool(true));
        assert_eq!(version_at_least(&string("1.9"), "1.29").unwrap(), cel::Value::Bool(false));
        assert_eq!(version_at_least(&string("1.29"), "1.29").unwrap(), cel::Value::Bool(true));
        assert!(version_at_least(&cel::Value::Null, "1.29").is_err());
        assert!(version_at_least(&string("latest"), "1.29").is_err());
    }
}
