//! Joins between resources for cross-resource rules: a reference (or an id/ARN string) to
//! the resource it names, and a resource to the resources that refer to it. Both are hash
//! indexes built once per scan, in time linear in the model.

use super::values::{field, maybe_present, reference, resource_value, unknown, unknown_reason, REF_SCOPE_KEY, SCOPE_KEY};
use crate::model::{SourceKind, Store, Stored, ENVIRONMENT_KEY, MIRROR_KEY, MIRROR_RULE};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

/// Resources whose join keys are decoded at once while the indexes are built.
const KEYS_AT_ONCE: usize = 8192;

pub struct Lookup {
    resources: Arc<Vec<Stored>>,
    /// The CEL value of each resource a join has returned, built the first time it is.
    values: Vec<OnceLock<cel::Value>>,
    /// Join scopes by name, numbered from 1; 0 is the scope of resources without one
    /// (Kubernetes objects, live resources).
    scopes: HashMap<String, u32>,
    /// Join scope → address → resource: a root module's references name its own resources,
    /// not another root module's of the same address.
    by_address: HashMap<u32, HashMap<String, usize>>,
    /// Known `id` and `arn` attribute values (live resources refer to each other this way).
    by_identity: HashMap<String, usize>,
    /// Resources of the config's environments by (environment, address, or for live
    /// resources their [`MIRROR_KEY`]): the same resource in another environment (ENV-004).
    by_environment: HashMap<(String, String), usize>,
    /// Live resources an audit could not read, by environment: (region, or `None` for every
    /// region; the resource types hidden; why).
    unseen_by_environment: HashMap<String, Vec<UnseenPart>>,
    /// Join scope → target address → (referring resource, attribute path of the reference).
    referrers: HashMap<u32, HashMap<String, Vec<(usize, String)>>>,
    /// Kubernetes objects by (kind, namespace), each list in address order: `Namespace`
    /// objects under their own name, other cluster-scoped objects under `""`.
    by_kind_namespace: HashMap<(String, String), Vec<usize>>,
    /// Kubernetes objects whose namespace is unknown, by kind.
    by_kind_unplaced: HashMap<String, Vec<usize>>,
    /// Kubernetes objects by kind, in address order.
    by_kind: HashMap<String, Vec<usize>>,
    /// (kind, namespace) a live cluster audit could not list (`*`: every namespace), with why:
    /// a rule that looks those objects up could not decide.
    unlisted: BTreeMap<(String, String), String>,
}

/// A part of an environment's account an audit could not read: the region (`None`: every
/// region), the resource types it hides, and why.
type UnseenPart = (Option<String>, Vec<String>, String);

/// What the indexes need of one resource's attributes.
struct JoinKeys {
    identities: Vec<String>,
    references: Vec<(String, String)>,
    /// For Kubernetes objects: the namespace they are listed under, `Err` with why it is
    /// unknown (rendered Helm output: the release's namespace).
    namespace: Option<Result<String, String>>,
    /// The environment of a resource of the config's `environments:`, and the key it is
    /// matched by in another environment.
    environment: Option<(String, String)>,
}

impl JoinKeys {
    fn of(resource: &Stored) -> Self {
        let text = |key: &str| resource.attr(&[key]).and_then(|node| node.as_str().map(str::to_string));
        let identities = ["id", "arn"].into_iter().filter_map(text).collect();
        let mut references = Vec::new();
        resource.references(&mut |address, path| references.push((address.to_string(), path)));
        let namespace = matches!(resource.source, SourceKind::K8s | SourceKind::Eks).then(|| {
            let key = if resource.rtype() == "Namespace" { "name" } else { "namespace" };
            match resource.attr(&[key]).and_then(|node| node.unknown_reason()) {
                Some(reason) => Err(reason),
                None => Ok(text(key).unwrap_or_default()),
            }
        });
        let mirror = text(MIRROR_KEY).unwrap_or_else(|| resource.address().to_string());
        let environment = text(ENVIRONMENT_KEY).map(|environment| (environment, mirror));
        JoinKeys { identities, references, namespace, environment }
    }
}

impl Lookup {
    pub fn new(store: &Store) -> Self {
        let resources = store.resources.clone();
        let mut lookup = Lookup {
            values: resources.iter().map(|_| OnceLock::new()).collect(),
            resources,
            scopes: HashMap::new(),
            by_address: HashMap::new(),
            by_identity: HashMap::new(),
            by_environment: HashMap::new(),
            unseen_by_environment: HashMap::new(),
            referrers: HashMap::new(),
            by_kind_namespace: HashMap::new(),
            by_kind_unplaced: HashMap::new(),
            by_kind: HashMap::new(),
            unlisted: BTreeMap::new(),
        };
        let hides_counterparts = |u: &&crate::model::Unseen| u.source == SourceKind::Aws && u.rule.as_deref().is_none_or(|rule| rule == MIRROR_RULE);
        for unseen in store.unseen.iter().filter(hides_counterparts) {
            if let Some(environment) = &unseen.origin.environment {
                let part = (unseen.origin.region.clone().filter(|r| r != "*"), unseen.resource_types.clone(), unseen.reason.clone());
                lookup.unseen_by_environment.entry(environment.clone()).or_default().push(part);
            }
        }
        for unseen in store.unseen.iter().filter(|u| u.source == SourceKind::Eks) {
            if let Some((namespace, kind, _)) = unseen.origin.cluster_path() {
                lookup.unlisted.insert((kind.to_string(), namespace.to_string()), unseen.reason.clone());
            }
        }
        // Decoded in parallel a slice at a time: the keys of every resource at once would
        // take more memory than the indexes built from them.
        for (chunk, resources) in store.resources.chunks(KEYS_AT_ONCE).enumerate() {
            let keys: Vec<JoinKeys> = resources.par_iter().map(JoinKeys::of).collect();
            for (offset, keys) in keys.into_iter().enumerate() {
                lookup.add(chunk * KEYS_AT_ONCE + offset, keys);
            }
        }
        let address = |i: &usize| store.resources[*i].address();
        for list in lookup.by_kind_namespace.values_mut().chain(lookup.by_kind.values_mut()).chain(lookup.by_kind_unplaced.values_mut()) {
            list.sort_by(|a, b| address(a).cmp(address(b)));
        }
        lookup
    }

    fn add(&mut self, i: usize, keys: JoinKeys) {
        let resources = self.resources.clone();
        let resource = &resources[i];
        let scope = resource.join_scope().map_or(0, |name| self.scope_number(name));
        self.by_address.entry(scope).or_default().insert(resource.address().to_string(), i);
        for identity in keys.identities {
            self.by_identity.insert(identity, i);
        }
        if let Some(environment) = keys.environment {
            self.by_environment.insert(environment, i);
        }
        for (address, path) in keys.references {
            self.referrers.entry(scope).or_default().entry(address).or_default().push((i, path));
        }
        match keys.namespace {
            Some(Ok(namespace)) => self.by_kind_namespace.entry((resource.rtype().to_string(), namespace)).or_default().push(i),
            Some(Err(_)) => self.by_kind_unplaced.entry(resource.rtype().to_string()).or_default().push(i),
            None => return,
        }
        self.by_kind.entry(resource.rtype().to_string()).or_default().push(i);
    }

    /// The resource of `environment` with the address of `resource` (for live resources, the
    /// same type, region and name; see [`MIRROR_KEY`]), `null` when there is none. Unknown
    /// when a live resource has no name to be matched by, or when what would match it in
    /// `environment` could not be read.
    pub fn counterpart(&self, resource: &cel::Value, environment: &str) -> cel::Value {
        let key = match field(resource, MIRROR_KEY).or_else(|| field(resource, "__address")) {
            Some(cel::Value::String(key)) => key,
            Some(unknown) => return unknown.clone(),
            None => return cel::Value::Null,
        };
        match self.by_environment.get(&(environment.to_string(), key.to_string())) {
            Some(&i) => self.value(i),
            None => self.unseen_counterpart(resource, environment).unwrap_or(cel::Value::Null),
        }
    }

    /// Unknown, when the part of `environment`'s account where the counterpart of live
    /// `resource` would be could not be read.
    fn unseen_counterpart(&self, resource: &cel::Value, environment: &str) -> Option<cel::Value> {
        let text = |key: &str| match field(resource, key) {
            Some(cel::Value::String(text)) => Some(text.as_str()),
            _ => None,
        };
        let (rtype, region) = (text("__type")?, text("__region")?);
        let parts = self.unseen_by_environment.get(environment)?;
        let (_, _, reason) = parts.iter().find(|(r, types, _)| r.as_deref().is_none_or(|r| r == region) && types.iter().any(|t| t == rtype))?;
        Some(unknown(&format!("whether {environment} has it is unknown: {reason}")))
    }

    /// The CEL value of resource `i`.
    fn value(&self, i: usize) -> cel::Value {
        self.values[i]
            .get_or_init(|| {
                let resource = &self.resources[i];
                resource_value(resource, &resource.attrs())
            })
            .clone()
    }

    /// Kubernetes objects of `kind` in `namespace` (`"*"`: any namespace; a `Namespace`
    /// object is found under its own name), in address order. An error when a live audit
    /// could not list them: an empty list would be a guess.
    pub fn objects(&self, kind: &str, namespace: &str) -> Result<Vec<cel::Value>, String> {
        if let Some(reason) = self.unlisted_reason(kind, namespace) {
            return Err(format!("the {kind} objects of namespace {namespace} could not be listed: {reason}"));
        }
        let found = match namespace {
            "*" => self.by_kind.get(kind),
            _ => self.by_kind_namespace.get(&(kind.to_string(), namespace.to_string())),
        };
        let known = found.into_iter().flatten().map(|&i| self.value(i));
        // Objects whose namespace is unknown may be in this one: each one, unknown.
        let unplaced = match namespace {
            "*" => None,
            _ => self.by_kind_unplaced.get(kind),
        };
        let maybe = unplaced.into_iter().flatten().map(|&i| {
            let resource = &self.resources[i];
            let why = resource.attr(&["namespace"]).and_then(|node| node.unknown_reason()).unwrap_or_default();
            maybe_present(&format!("{} may be in namespace {namespace}: {why}", resource.address()))
        });
        Ok(known.chain(maybe).collect())
    }

    fn unlisted_reason(&self, kind: &str, namespace: &str) -> Option<&String> {
        let everywhere = self.unlisted.get(&(kind.to_string(), "*".to_string()));
        everywhere.or_else(|| match namespace {
            "*" => self.unlisted.iter().find(|((k, _), _)| k == kind).map(|(_, reason)| reason),
            _ => self.unlisted.get(&(kind.to_string(), namespace.to_string())),
        })
    }

    /// The resource a reference or identity names, if it is in the model.
    pub fn resolve(&self, value: &cel::Value) -> Result<Option<cel::Value>, String> {
        if let Some(reason) = unknown_reason(value) {
            return Err(format!("the referenced resource is unknown: {reason}"));
        }
        let index = match (reference(value), value) {
            (Some((address, _)), _) => self.scope_of(value, REF_SCOPE_KEY).and_then(|scope| self.by_address.get(&scope)?.get(address)),
            (None, cel::Value::String(text)) => self.by_address.get(&0).and_then(|own| own.get(text.as_str())).or_else(|| self.by_identity.get(text.as_str())),
            _ => None,
        };
        Ok(index.map(|&i| self.value(i)))
    }

    /// The number of the join scope `name`, given the next one when it is new.
    fn scope_number(&mut self, name: &str) -> u32 {
        if let Some(&number) = self.scopes.get(name) {
            return number;
        }
        let number = self.scopes.len() as u32 + 1;
        self.scopes.insert(name.to_string(), number);
        number
    }

    /// The number of the join scope named under `key` of a reference or resource value (0 when
    /// it names none); `None` for a scope no resource is in.
    fn scope_of(&self, value: &cel::Value, key: &str) -> Option<u32> {
        match field(value, key) {
            Some(cel::Value::String(name)) => self.scopes.get(name.as_str()).copied(),
            _ => Some(0),
        }
    }

    /// Resources of `rtype` that refer to `resource` (through `attribute` when given).
    pub fn referrers(&self, resource: &cel::Value, rtype: &str, attribute: Option<&str>) -> Vec<cel::Value> {
        let Some(cel::Value::String(address)) = field(resource, "__address") else { return Vec::new() };
        let Some(scope) = self.scope_of(resource, SCOPE_KEY) else { return Vec::new() };
        let mut found: Vec<usize> = self
            .referrers
            .get(&scope)
            .and_then(|addresses| addresses.get(address.as_str()))
            .into_iter()
            .flatten()
            .filter(|(i, path)| self.resources[*i].rtype() == rtype && attribute.is_none_or(|a| path == a || path.starts_with(&format!("{a}."))))
            .map(|(i, _)| *i)
            .collect();
        found.dedup();
        found.into_iter().map(|i| self.maybe_value(i)).collect()
    }

    /// Resource `i`, or when its count is unknown an element that may not be there.
    fn maybe_value(&self, i: usize) -> cel::Value {
        let resource = &self.resources[i];
        match resource.attr(&[crate::model::EXISTS_KEY]).and_then(|node| node.unknown_reason()) {
            Some(reason) => maybe_present(&format!("{} may not exist: {reason}", resource.address())),
            None => self.value(i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LiveOrigin, Model, Node, Resource, Span, Unseen, Value};

    fn object(kind: &str, name: &str, namespace: Option<&str>) -> Resource {
        let span = Span::new("k.yaml".into(), 1, 1, 1, 1);
        let text = |s: &str| Node::new(Value::Str(s.into()), None);
        let mut entries = vec![("name".to_string(), text(name))];
        entries.push(("namespace".to_string(), namespace.map(text).unwrap_or_else(|| Node::new(Value::Null, None))));
        let address = match namespace {
            Some(ns) => format!("{kind} {ns}/{name}"),
            None => format!("{kind} {name}"),
        };
        Resource {
            source: SourceKind::K8s,
            rtype: kind.into(),
            address,
            span: span.clone(),
            attrs: Node::map(entries, Some(span)),
            template: None,
            render: None,
            call_chain: Vec::new(),
            live: None,
            join_scope: None,
        }
    }

    #[test]
    fn objects_by_kind_and_namespace_in_address_order() {
        let resources = vec![
            object("ResourceQuota", "b", Some("api")),
            object("ResourceQuota", "a", Some("api")),
            object("ResourceQuota", "c", Some("ml")),
            object("Namespace", "api", None),
        ];
        let lookup = Lookup::new(&Model { resources, ..Model::default() }.into());
        let names = |found: Vec<cel::Value>| found.iter().map(|v| super::super::values::display(field(v, "name").unwrap())).collect::<Vec<_>>();
        assert_eq!(names(lookup.objects("ResourceQuota", "api").unwrap()), ["a", "b"]);
        assert_eq!(names(lookup.objects("ResourceQuota", "*").unwrap()), ["a", "b", "c"]);
        assert_eq!(names(lookup.objects("Namespace", "api").unwrap()), ["api"]);
        assert!(lookup.objects("ResourceQuota", "data").unwrap().is_empty());
    }

    #[test]
    fn objects_a_live_audit_could_not_list_are_an_error() {
        let unseen = |namespace: &str, kind: &str| Unseen {
            source: SourceKind::Eks,
            origin: LiveOrigin::cluster_object("arn:aws:eks:ap-south-1:1:cluster/prod", namespace, kind, "*", None),
            resource_types: vec![kind.to_string()],
            rule: None,
            reason: format!("listing {kind} was forbidden"),
            span: Span::new("charterguard.yaml".into(), 1, 1, 1, 1),
        };
        let resources = vec![object("NetworkPolicy", "deny", Some("api"))];
        let model = Model { resources, unseen: vec![unseen("ml", "NetworkPolicy"), unseen("*", "PrometheusRule")], ..Model::default() };
        let lookup = Lookup::new(&model.into());
        assert_eq!(lookup.objects("NetworkPolicy", "api").unwrap().len(), 1);
        let denied = lookup.objects("NetworkPolicy", "ml").unwrap_err();
        assert!(denied.contains("namespace ml") && denied.contains("listing NetworkPolicy was forbidden"), "{denied}");
        assert!(lookup.objects("NetworkPolicy", "*").is_err(), "some namespace is missing from every namespace");
        assert!(lookup.objects("PrometheusRule", "altscore-monitoring").is_err());
        assert!(lookup.objects("ResourceQuota", "ml").unwrap().is_empty());
    }

    #[test]
    fn references_resolve_within_their_root_module() {
        let tf = |root: &str, rtype: &str, name: &str, attrs: Vec<(String, Node)>| Resource {
            source: SourceKind::Tf,
            rtype: rtype.into(),
            address: format!("{rtype}.{name}"),
            span: Span::new(format!("{root}/main.tf").into(), 1, 1, 1, 1),
            attrs: Node::map(attrs, None),
            template: None,
            render: None,
            call_chain: Vec::new(),
            live: None,
            join_scope: Some(root.into()),
        };
        let cidr = |text: &str| vec![("cidr_block".to_string(), Node::new(Value::Str(text.into()), None))];
        let to_vpc = vec![("vpc_id".to_string(), Node::new(Value::Ref { address: "aws_vpc.main".into(), attribute: "id".into() }, None))];
        let resources = vec![
            tf("envs/dev", "aws_vpc", "main", cidr("10.0.0.0/16")),
            tf("envs/dev", "aws_vpc_endpoint", "s3", to_vpc),
            tf("envs/prod", "aws_vpc", "main", cidr("10.1.0.0/16")),
        ];
        let store: Store = Model { resources, ..Model::default() }.into();
        let lookup = Lookup::new(&store);
        let value = |i: usize| lookup.value(i);
        let endpoint_vpc = field(&value(1), "vpc_id").cloned().unwrap();
        let vpc = lookup.resolve(&endpoint_vpc).unwrap().expect("dev's own VPC");
        assert_eq!(field(&vpc, "cidr_block"), Some(&cel::Value::String(Arc::new("10.0.0.0/16".into()))));
        assert_eq!(lookup.referrers(&value(0), "aws_vpc_endpoint", Some("vpc_id")).len(), 1);
        assert!(lookup.referrers(&value(2), "aws_vpc_endpoint", Some("vpc_id")).is_empty(), "prod's VPC has no endpoint");
    }
}
