//! Helper functions rules call from CEL. Each one fails (making the rule undecided) when it
//! meets an unknown value instead of guessing.

pub(super) mod calls;
pub(super) use calls::bind;
mod env;
mod infra;
mod k8s;
mod network;

use super::lookup::Lookup;
use super::values;
use super::values::{display, field, reference, string, unknown_reason, PARTS_KEY};
use crate::config::Config;
use crate::model::pattern::LazyRegex;
use cel::{Context, ExecutionError};
use regex::Regex;
use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

type Result = std::result::Result<cel::Value, ExecutionError>;

/// A group of helpers as the reference (`reference.yaml`, docs/helpers.md) presents them.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelperGroup {
    pub group: String,
    /// Where they are written.
    pub file: String,
    /// What holds for the whole group.
    #[serde(default)]
    pub note: Option<String>,
    pub helpers: Vec<HelperDoc>,
}

/// One helper: how it is called and what it gives.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelperDoc {
    pub call: String,
    pub doc: String,
}

impl HelperDoc {
    /// The function's name (`get` of `get(x, "a.b.c")`).
    pub fn name(&self) -> &str {
        self.call.split('(').next().unwrap_or_default()
    }
}

/// The helper reference, by group (`reference.yaml`, embedded).
pub fn helper_reference() -> Vec<HelperGroup> {
    let file: Arc<str> = Arc::from("src/engine/functions/reference.yaml");
    let documents = crate::yaml::load(&file, include_str!("reference.yaml"), &crate::yaml::Limits::default()).expect("reference.yaml is YAML");
    serde_json::from_value(documents[0].root.to_json()).expect("reference.yaml lists groups of helpers")
}

/// Tunables the functions share.
struct Tunables {
    config: Config,
    distributor_name: LazyRegex,
    trusted_registry: LazyRegex,
    digest: LazyRegex,
}

/// A helper's regular expression, compiled when first matched; a bad one (the configuration's
/// were checked when it loaded) is the calling helper's error.
fn regex<'p>(pattern: &'p LazyRegex, helper: &str) -> std::result::Result<&'p Regex, ExecutionError> {
    pattern.regex().map_err(|e| ExecutionError::function_error(helper, e))
}

/// A root context being given the helpers, and their names: a rule file that calls another
/// name is refused when it loads.
pub struct Helpers<'c, 'p, 'v> {
    ctx: &'c mut Context<'p, 'v>,
    pub names: Vec<&'static str>,
}

impl<'c, 'p, 'v> Helpers<'c, 'p, 'v> {
    pub fn new(ctx: &'c mut Context<'p, 'v>) -> Self {
        Helpers { ctx, names: Vec::new() }
    }

    pub fn add<Args>(&mut self, name: &'static str, function: impl calls::IntoHelper<Args>) -> anyhow::Result<()> {
        self.ctx.add_function(name, function.into_raw()).map_err(|e| anyhow::anyhow!("registering CEL function {name}: {e:?}"))?;
        self.names.push(name);
        Ok(())
    }
}

/// The names of every helper, for checking rule files as they load (registered once, with
/// the default configuration, on a context of their own).
pub fn helper_names() -> &'static HashSet<&'static str> {
    static NAMES: OnceLock<HashSet<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut ctx = Context::default();
        let mut helpers = Helpers::new(&mut ctx);
        let lookup = Arc::new(Lookup::new(&crate::model::Store::default()));
        register(&mut helpers, &Config::default(), &lookup).expect("the helpers register with the default configuration");
        helpers.names.into_iter().collect()
    })
}

/// Registers every helper on a root context.
pub fn register(helpers: &mut Helpers, config: &Config, lookup: &Arc<Lookup>) -> anyhow::Result<()> {
    register_joins(helpers, lookup)?;
    super::strict::register(helpers)?;
    // `cannot_decide("why")`: lets a rule say plainly that a case cannot be decided.
    helpers.add("cannot_decide", |reason: Arc<String>| -> Result { Err(undecided("cannot_decide", reason.to_string())) })?;
    infra::register(helpers, config)?;
    env::register(helpers, config)?;
    k8s::register(helpers, config, lookup)?;
    network::register(helpers, config)?;
    let t = Arc::new(Tunables {
        config: config.clone(),
        distributor_name: LazyRegex::new(&config.distributor_name_pattern),
        trusted_registry: LazyRegex::new(&config.trusted_registry),
        digest: LazyRegex::new(r"@sha256:[0-9a-f]{64}$"),
    });
    helpers.add("get", calls::get())?;
    helpers.add("setting", |resource: cel::Value, name: Arc<String>| setting(&resource, &name))?;
    helpers.add("join", |list: cel::Value, separator: Arc<String>| join(&list, &separator))?;
    // `after(text, "prefix")`: the text after `prefix`, null when it does not start with it
    // (CEL has no `substring` without its strings extension, whose `join` is ours).
    helpers.add("after", |text: cel::Value, prefix: Arc<String>| {
        known_string(&text, "text").map(|t| t.strip_prefix(prefix.as_str()).map_or(cel::Value::Null, string))
    })?;
    helpers.add("keys", |map: cel::Value| keys(&map))?;
    helpers.add("num", |value: cel::Value| num(&value))?;
    helpers.add("key_id", |value: cel::Value| key_id(&value))?;
    let l = lookup.clone();
    helpers.add("is_customer_managed_key", move |value: cel::Value| customer_managed_key(&l, &value))?;
    helpers.add("tag", |resource: cel::Value, name: Arc<String>| tag(&resource, &name))?;
    let tl = t.clone();
    helpers.add("data_layer", move |resource: cel::Value| data_layer(&tl, &resource))?;
    helpers.add("name_contains", |resource: cel::Value, needles: cel::Value| name_contains(&resource, &needles))?;
    let td = t.clone();
    helpers.add("distributor", move |resource: cel::Value| distributor(&td, &resource))?;
    let ti = t.clone();
    helpers
        .add("is_india_region", move |region: cel::Value| known_string(&region, "region").map(|r| cel::Value::Bool(ti.config.india_regions.contains(&r))))?;
    let tp = t.clone();
    helpers.add("is_digest_pinned", move |image: cel::Value| -> Result {
        let image = known_string(&image, "image")?;
        Ok(cel::Value::Bool(regex(&tp.digest, "is_digest_pinned")?.is_match(&image)))
    })?;
    helpers.add("image_tag", |image: cel::Value| known_string(&image, "image").map(|i| string(&image_tag(&i))))?;
    let tr = t;
    helpers.add("is_trusted_registry", move |image: cel::Value| -> Result {
        let image = known_string(&image, "image")?;
        Ok(cel::Value::Bool(regex(&tr.trusted_registry, "is_trusted_registry")?.is_match(&image)))
    })?;
    Ok(())
}

/// `lookup(ref)`: the resource a reference, address, id or ARN names (null when it is not in
/// the scanned code); `referrers(resource, "type")` and `referrers_via(resource, "type",
/// "attribute")`: the resources of a type that refer to this one.
fn register_joins(helpers: &mut Helpers, lookup: &Arc<Lookup>) -> anyhow::Result<()> {
    let l = lookup.clone();
    helpers.add("lookup", move |value: cel::Value| match l.resolve(&value) {
        Ok(found) => Ok(found.unwrap_or(cel::Value::Null)),
        Err(reason) => Err(undecided("lookup", reason)),
    })?;
    // `lookup_in_scan(ref, "route table")`: the same, but one the scan does not have is unknown
    // (it exists, in code that was not scanned) rather than absent.
    let l = lookup.clone();
    helpers.add("lookup_in_scan", move |value: cel::Value, what: Arc<String>| match l.resolve(&value) {
        Ok(Some(found)) => Ok(found),
        Ok(None) => {
            Ok(values::map([(values::UNKNOWN_KEY, string(&format!("{what} {} is not in the scanned code; scan the code that defines it", display(&value))))]))
        }
        Err(reason) => Err(undecided("lookup_in_scan", reason)),
    })?;
    let l = lookup.clone();
    helpers.add("counterpart", move |resource: cel::Value, environment: Arc<String>| l.counterpart(&resource, &environment))?;
    let l = lookup.clone();
    helpers.add("referrers", move |resource: cel::Value, rtype: Arc<String>| cel::Value::List(Arc::new(l.referrers(&resource, &rtype, None))))?;
    let l = lookup.clone();
    helpers.add("referrers_via", move |resource: cel::Value, rtype: Arc<String>, attribute: Arc<String>| {
        cel::Value::List(Arc::new(l.referrers(&resource, &rtype, Some(&attribute))))
    })?;
    Ok(())
}

/// Turns a registration failure into an error naming the function.
/// The error a helper returns when it cannot decide; the engine reports `message`.
pub(super) fn undecided(function: &str, message: String) -> ExecutionError {
    ExecutionError::function_error(function, message)
}

/// Fails on unknown markers; otherwise the value as is.
pub(super) fn known<'v>(value: &'v cel::Value, what: &str) -> std::result::Result<&'v cel::Value, ExecutionError> {
    match unknown_reason(value) {
        Some(reason) => Err(undecided(what, format!("`{what}` is unknown: {reason}"))),
        None => Ok(value),
    }
}

pub(super) fn known_string(value: &cel::Value, what: &str) -> std::result::Result<String, ExecutionError> {
    if let Some((address, attribute)) = reference(value) {
        return Err(undecided(what, format!("{what} is {address}.{attribute}, known only after apply")));
    }
    match known(value, what)? {
        cel::Value::String(s) => Ok(s.to_string()),
        cel::Value::Null => Ok(String::new()),
        other => Ok(display(other)),
    }
}

/// `setting(resource, "versioning")`: one S3 bucket setting wherever the code wrote it. For a
/// bucket, its `versioning` block (inline, or the split `aws_s3_bucket_versioning` joined to
/// it); for a split setting resource of that kind, the resource itself; null when absent.
fn setting(resource: &cel::Value, name: &str) -> Result {
    if matches!(field(resource, "__type"), Some(cel::Value::String(t)) if t.strip_prefix("aws_s3_bucket_") == Some(name)) {
        return Ok(resource.clone());
    }
    match field(resource, name) {
        None => Ok(cel::Value::Null),
        Some(value) => Ok(first_if_list(known(value, name)?).clone()),
    }
}

fn first_if_list(value: &cel::Value) -> &cel::Value {
    match value {
        cel::Value::List(items) if !items.is_empty() => &items[0],
        other => other,
    }
}

/// `join(list, ", ")`: the elements as text, for messages.
fn join(list: &cel::Value, separator: &str) -> Result {
    match list {
        cel::Value::List(items) => Ok(string(&items.iter().map(display).collect::<Vec<_>>().join(separator))),
        other => Ok(string(&display(other))),
    }
}

/// `keys(map)`: the keys of a map, sorted. A CEL map is a hash map whose order changes from
/// run to run, so a message built with `map.map(k, k)` would differ between identical scans.
fn keys(map: &cel::Value) -> Result {
    match known(map, "map")? {
        cel::Value::Map(map) => {
            let mut keys: Vec<cel::Value> = map.map.keys().map(|key| cel::Value::from(key.clone())).collect();
            keys.sort_by_cached_key(display);
            Ok(cel::Value::List(Arc::new(keys)))
        }
        other => Err(undecided("keys", format!("{} is not a map", display(other)))),
    }
}

/// `num(v)`: a number as a double (null counts as 0), so rules compare numbers written as
/// ints, floats or numeric strings alike.
fn num(value: &cel::Value) -> Result {
    match known(value, "number")? {
        cel::Value::Null => Ok(cel::Value::Float(0.0)),
        cel::Value::Int(i) => Ok(cel::Value::Float(*i as f64)),
        cel::Value::UInt(u) => Ok(cel::Value::Float(*u as f64)),
        cel::Value::Float(f) => Ok(cel::Value::Float(*f)),
        cel::Value::String(s) => s.trim().parse::<f64>().map(cel::Value::Float).map_err(|_| undecided("num", format!("`{s}` is not a number"))),
        other => Err(undecided("num", format!("{} is not a number", display(other)))),
    }
}

/// `key_id(v)`: what identifies a KMS key, whether written as a reference to a key in the
/// same code (its address) or as an ARN, id or alias string.
fn key_id(value: &cel::Value) -> Result {
    if let Some((address, _)) = reference(value) {
        return Ok(string(address));
    }
    match known(value, "KMS key")? {
        cel::Value::Null => Ok(cel::Value::Null),
        cel::Value::String(s) => Ok(string(s)),
        other => Ok(string(&display(other))),
    }
}

/// Resource types whose keys the customer manages.
const CUSTOMER_KEY_TYPES: &[&str] = &["aws_kms_key", "aws_kms_replica_key", "aws_kms_external_key", "aws_kms_replica_external_key"];

/// Data sources that find a key (resources of the model as `data.<type>`, see
/// `terraform::data_sources`), whose `key_manager` says who manages it when their name does.
const KEY_DATA_SOURCES: &[&str] = &["data.aws_kms_key", "data.aws_kms_alias"];

/// `is_customer_managed_key(v)`: true for a key defined in the code or named by key ARN, id
/// or customer alias; false for no key or an AWS-managed alias (`alias/aws/...`), also when a
/// `data "aws_kms_key"` or `data "aws_kms_alias"` finds it by such a name.
fn customer_managed_key(lookup: &Lookup, value: &cel::Value) -> Result {
    if let Some((address, attribute)) = reference(value) {
        let resource_type = resource_type_of(address);
        if CUSTOMER_KEY_TYPES.contains(&resource_type) || resource_type == "aws_kms_alias" {
            return Ok(cel::Value::Bool(true));
        }
        let manager = KEY_DATA_SOURCES.contains(&resource_type).then(|| lookup.resolve(value).ok().flatten()).flatten();
        return match manager.as_ref().and_then(|found| field(found, "key_manager")) {
            Some(cel::Value::String(manager)) => Ok(cel::Value::Bool(manager.as_str() == "CUSTOMER")),
            _ => Err(undecided("is_customer_managed_key", format!("the key comes from {address}.{attribute}, which cannot be checked before apply"))),
        };
    }
    match known(value, "KMS key")? {
        cel::Value::Null => Ok(cel::Value::Bool(false)),
        cel::Value::String(s) if s.is_empty() => Ok(cel::Value::Bool(false)),
        cel::Value::String(s) => Ok(cel::Value::Bool(!is_aws_managed_alias(s))),
        other => Err(undecided("is_customer_managed_key", format!("unexpected KMS key value {}", display(other)))),
    }
}

fn is_aws_managed_alias(key: &str) -> bool {
    key.starts_with("alias/aws/") || key.contains(":alias/aws/")
}

/// `aws_kms_key` for `module.x.aws_kms_key.k["a"]`; data sources keep their `data.` prefix
/// (`data.aws_kms_key`).
fn resource_type_of(address: &str) -> &str {
    let mut rest = address;
    while let Some(after) = rest.strip_prefix("module.") {
        rest = after.split_once('.').map_or("", |(_, r)| r);
    }
    let end = match rest.strip_prefix("data.") {
        Some(after) => 5 + after.find('.').unwrap_or(after.len()),
        None => rest.find('.').unwrap_or(rest.len()),
    };
    &rest[..end]
}

/// `tag(resource, "name")`: the tag value (name matched case-insensitively) or null. `tags_all`
/// (the provider's default tags merged under the resource's own) comes first when there is one.
fn tag(resource: &cel::Value, name: &str) -> Result {
    for tags_field in ["tags_all", "tags"] {
        let Some(tags) = field(resource, tags_field) else { continue };
        let cel::Value::Map(tags) = known(tags, "tags")? else { continue };
        let mut entries: Vec<_> = tags.map.iter().collect();
        entries.sort_by_key(|(k, _)| format!("{k:?}"));
        for (key, value) in entries {
            if matches!(key, cel::objects::Key::String(k) if k.eq_ignore_ascii_case(name)) {
                return Ok(known(value, &format!("tag {name}"))?.clone());
            }
        }
    }
    Ok(cel::Value::Null)
}

/// The name a resource goes by: bucket name, else the Kubernetes/Terraform name.
fn resource_name(resource: &cel::Value) -> Option<&cel::Value> {
    ["bucket", "name"].iter().find_map(|k| field(resource, k))
}

/// The last label of the address (`bronze` in `aws_s3_bucket.bronze["dst-1"]`).
fn address_name(resource: &cel::Value) -> String {
    match field(resource, "__address") {
        Some(cel::Value::String(address)) => address.to_string(),
        _ => String::new(),
    }
}

/// `data_layer(resource)`: bronze/silver/gold/audit from the layer tag, else from a word of
/// the bucket name, else from the Terraform address; null when none says.
fn data_layer(t: &Tunables, resource: &cel::Value) -> Result {
    let layers = &t.config.layers;
    if let cel::Value::String(value) = tag(resource, &t.config.layer_tag)? {
        let value = value.to_ascii_lowercase();
        return Ok(if layers.contains(&value) { string(&value) } else { cel::Value::Null });
    }
    let name = match resource_name(resource) {
        Some(name) if unknown_reason(name).is_none() && reference(name).is_none() => display(name),
        _ => String::new(),
    };
    for text in [name, address_name(resource)] {
        if let Some(layer) = word_in(&text, layers) {
            return Ok(string(&layer));
        }
    }
    match resource_name(resource) {
        Some(name) if unknown_reason(name).is_some() => layer_of_partial_name(layers, name),
        _ => Ok(cel::Value::Null),
    }
}

/// `name_contains(bucket, ["mlflow", "model-artifact"])`: whether the resource's name holds
/// one of the texts (case-insensitively). A name known in part is judged by the words the code
/// spells out, as [`data_layer`] judges it: a part computed at apply (a `random_pet` id) is
/// a generated id, which names nothing; a part from a variable without a value could say
/// anything, so the helper fails.
fn name_contains(resource: &cel::Value, needles: &cel::Value) -> Result {
    let cel::Value::List(needles) = needles else { return Err(undecided("name_contains", format!("the texts are not a list: {}", display(needles)))) };
    let needles: Vec<String> = needles.iter().filter_map(|n| if let cel::Value::String(n) = n { Some(n.to_ascii_lowercase()) } else { None }).collect();
    let holds = |text: &str| needles.iter().any(|n| text.to_ascii_lowercase().contains(n.as_str()));
    // A bucket is named by `bucket`, or by the `bucket_prefix` its generated name starts with.
    let Some(name) = ["bucket", "bucket_prefix", "name"].iter().find_map(|k| field(resource, k)) else { return Ok(cel::Value::Bool(false)) };
    if let cel::Value::String(text) = name {
        return Ok(cel::Value::Bool(holds(text)));
    }
    let unknown = || undecided("name_contains", format!("the name is unknown: {}", unknown_reason(name).unwrap_or_default()));
    let Some(cel::Value::List(parts)) = field(name, PARTS_KEY) else {
        return if reference(name).is_some() { Ok(cel::Value::Bool(false)) } else { Err(unknown()) };
    };
    if parts.iter().any(|part| matches!(part, cel::Value::String(text) if holds(text))) {
        return Ok(cel::Value::Bool(true));
    }
    match parts.iter().any(|part| reference(part).is_none() && unknown_reason(part).is_some()) {
        true => Err(unknown()),
        false => Ok(cel::Value::Bool(false)),
    }
}

/// The layer of a name known only in part. The words the code spells out, and the names of
/// resources whose computed attributes fill the rest (`aws_s3_bucket.gold.id`), may name a
/// layer; a value computed at apply (a `random_pet` id, an account id) never names one, but a
/// variable without a value might.
fn layer_of_partial_name(layers: &[String], name: &cel::Value) -> Result {
    let unknown = || undecided("data_layer", format!("the layer is not tagged and the name is unknown: {}", unknown_reason(name).unwrap_or_default()));
    let Some(cel::Value::List(parts)) = field(name, PARTS_KEY) else { return Err(unknown()) };
    for part in parts.iter() {
        let text = match (part, reference(part)) {
            (cel::Value::String(text), _) => text.to_string(),
            (_, Some((address, _))) => address.to_string(),
            _ => continue,
        };
        if let Some(layer) = word_in(&text, layers) {
            return Ok(string(&layer));
        }
    }
    match parts.iter().any(|part| unknown_reason(part).is_some()) {
        true => Err(unknown()),
        false => Ok(cel::Value::Null),
    }
}

/// The first of `words` that appears in `text` as a whole word (split on non-alphanumerics).
fn word_in(text: &str, words: &[String]) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    lower.split(|c: char| !c.is_ascii_alphanumeric()).find(|w| words.iter().any(|x| x == w)).map(str::to_string)
}

/// `distributor(resource)`: the distributor tag, else the id the name pattern finds in the
/// bucket name or address; null when neither says.
fn distributor(t: &Tunables, resource: &cel::Value) -> Result {
    if let value @ cel::Value::String(_) = tag(resource, &t.config.distributor_tag)? {
        return Ok(value);
    }
    let name = resource_name(resource).filter(|n| unknown_reason(n).is_none()).map(display).unwrap_or_default();
    let pattern = regex(&t.distributor_name, "distributor")?;
    for text in [name, address_name(resource)] {
        if let Some(found) = pattern.captures(&text.to_ascii_lowercase()).and_then(|c| c.get(1)) {
            return Ok(string(found.as_str()));
        }
    }
    Ok(cel::Value::Null)
}

/// The tag of an image reference: `""` when it has none (digest-only references count as
/// untagged only when they carry no digest either; callers check digests separately).
pub fn image_tag(image: &str) -> String {
    let without_digest = image.split('@').next().unwrap_or("");
    let last_segment = without_digest.rsplit('/').next().unwrap_or("");
    match last_segment.split_once(':') {
        Some((_, tag)) => tag.to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    /// Rule authors learn the helpers from the reference: every registered one is there, once,
    /// and nothing else.
    #[test]
    fn the_reference_lists_every_helper_once() {
        let listed: Vec<String> = super::helper_reference().iter().flat_map(|g| g.helpers.iter().map(|h| h.name().to_string())).collect();
        let unique: std::collections::BTreeSet<&str> = listed.iter().map(String::as_str).collect();
        assert_eq!(unique.len(), listed.len(), "a helper listed twice: {listed:?}");
        let registered: std::collections::BTreeSet<&str> = super::helper_names().iter().copied().filter(|n| !n.starts_with("strict.")).collect();
        assert_eq!(unique, registered, "reference.yaml and the registry differ");
    }

    use super::*;

    #[test]
    fn keys_are_sorted_whatever_the_map_order() {
        let map = super::super::values::map([("b", cel::Value::Int(1)), ("c", cel::Value::Int(2)), ("a", cel::Value::Int(3))]);
        assert_eq!(display(&keys(&map).unwrap()), "[a, b, c]");
        assert!(keys(&cel::Value::Int(1)).is_err());
    }

    #[test]
    fn image_tags_ignore_registry_ports() {
        assert_eq!(image_tag("nginx"), "");
        assert_eq!(image_tag("nginx:1.25"), "1.25");
        assert_eq!(image_tag("registry:5000/team/app"), "");
        assert_eq!(image_tag("registry:5000/team/app:latest"), "latest");
        assert_eq!(image_tag("app@sha256:abc"), "");
    }

    #[test]
    fn resource_types_skip_module_path() {
        assert_eq!(resource_type_of("module.a.module.b.aws_kms_key.k[\"x\"]"), "aws_kms_key");
        assert_eq!(resource_type_of("aws_kms_alias.a"), "aws_kms_alias");
        assert_eq!(resource_type_of("module.a.data.aws_kms_key.s3[0]"), "data.aws_kms_key");
    }

    #[test]
    fn aws_managed_aliases_are_not_customer_keys() {
        assert!(is_aws_managed_alias("alias/aws/s3"));
        assert!(is_aws_managed_alias("arn:aws:kms:ap-south-1:111122223333:alias/aws/s3"));
        assert!(!is_aws_managed_alias("alias/altscore-gold"));
    }
}
