//! A read-only, watched copy of the cluster's objects of the kinds rules look up
//! (`objects("NetworkPolicy", ...)`: a namespace's default-deny policy and quota, the
//! mesh-wide PeerAuthentication, HorizontalPodAutoscalers), for judging one object at
//! admission the way the nightly audit judges it among all the others.
//!
//! Each kind is listed once (page by page, as the audit lists it), then kept current by a
//! watch from the list's `resourceVersion`; a watch that ends is resumed, and one the API
//! refuses as too old (410 Gone) or that fails is replaced by a new list. kube-runtime's
//! reflector does the same loop, but brings 19 crates (4 of them proc-macros) into a cold
//! build for it.
//!
//! Until a kind is listed, and while it cannot be (denied, the cluster does not serve it),
//! the rules that look it up could not decide: never a pass, and at admission never a denial.

use super::call::{Api, Failure};
use super::kinds::{self, ApiKind};
use super::objects;
use crate::model::{Resource, Span, Unseen};
use futures::TryStreamExt;
use kube::api::WatchParams;
use kube::core::WatchEvent;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Objects per list call while the cache fills.
const PAGE_SIZE: u32 = 500;
/// How long the API server keeps one watch open before the cache resumes it.
const WATCH_SECONDS: u32 = 290;
/// A connection silent for longer than a watch lasts is dead: the client's read timeout.
pub const READ_TIMEOUT: Duration = Duration::from_secs(WATCH_SECONDS as u64 + 10);
/// The wait before listing a kind again after a failure (doubled up to [`MAX_RETRY_WAIT`]).
const FIRST_RETRY_WAIT: Duration = Duration::from_millis(500);
const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// The watched objects, by kind.
pub struct Cache {
    cluster: String,
    /// Where findings about what the cache could not see point.
    anchor: Span,
    kinds: RwLock<HashMap<String, Kind>>,
}

/// One kind's objects, by (namespace, name), and whether they can be trusted.
struct Kind {
    state: State,
    objects: BTreeMap<(String, String), Arc<Resource>>,
}

/// Where a kind's copy stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Not listed yet.
    Syncing,
    /// Listed, and watched since.
    Synced,
    /// Cannot be listed: why (denied, failing, not served by the cluster).
    Unavailable(String),
}

impl Cache {
    /// An empty cache of `kinds`, each [`State::Syncing`].
    pub fn new(cluster: &str, kinds: impl IntoIterator<Item = String>, anchor: Span) -> Self {
        let kinds = kinds.into_iter().map(|kind| (kind, Kind { state: State::Syncing, objects: BTreeMap::new() })).collect();
        Cache { cluster: cluster.to_string(), anchor, kinds: RwLock::new(kinds) }
    }

    /// The cluster's name in addresses and findings.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// Where findings on admitted objects and on what the cache cannot see point.
    pub fn anchor(&self) -> &Span {
        &self.anchor
    }

    /// The `kind` objects of one namespace, unseen for `reason`.
    pub fn unseen_in(&self, kind: &str, namespace: &str, reason: String) -> Unseen {
        objects::unseen(&self.cluster, kind, Some(namespace), reason, &self.anchor)
    }

    /// Replaces every object of `kind` (a new list) and marks it synced. The objects are as
    /// the API serves them, with `apiVersion` and `kind`.
    pub fn replace(&self, kind: &str, objects: Vec<Value>) {
        let resources: BTreeMap<(String, String), Arc<Resource>> = objects.into_iter().filter_map(|object| self.keyed(object)).collect();
        self.with_kind(kind, |entry| {
            entry.objects = resources;
            entry.state = State::Synced;
        });
    }

    /// Adds or replaces one object of `kind`.
    pub fn upsert(&self, kind: &str, object: Value) {
        if let Some((key, resource)) = self.keyed(object) {
            self.with_kind(kind, |entry| {
                entry.objects.insert(key, resource);
            });
        }
    }

    /// Removes one object of `kind`.
    pub fn remove(&self, kind: &str, object: &Value) {
        let key = key_of(object);
        self.with_kind(kind, |entry| {
            entry.objects.remove(&key);
        });
    }

    /// Marks `kind` as not listable, for `reason`, keeping nothing of it.
    pub fn set_unavailable(&self, kind: &str, reason: String) {
        self.with_kind(kind, |entry| {
            entry.objects.clear();
            entry.state = State::Unavailable(reason);
        });
    }

    /// Every kind with its state, by name.
    pub fn states(&self) -> BTreeMap<String, State> {
        self.read().iter().map(|(kind, entry)| (kind.clone(), entry.state.clone())).collect()
    }

    /// Where `kind`'s copy stands; `None` for a kind the cache does not hold.
    pub fn state(&self, kind: &str) -> Option<State> {
        self.read().get(kind).map(|entry| entry.state.clone())
    }

    /// The objects of `kinds` to judge with, each kind in the namespaces given (`None`: in every
    /// namespace; a Namespace object counts as in its own), and what is unseen of them (not yet
    /// synced, not listable, or a kind the cache does not hold): the rules looking those up
    /// could not decide. Only what a rule may look up is copied: a cluster with a namespace
    /// per distributor holds thousands of policies, and a review needs one namespace's.
    pub fn snapshot(&self, kinds: &BTreeMap<String, Option<BTreeSet<String>>>) -> (Vec<Resource>, Vec<Unseen>) {
        let held = self.read();
        let (mut resources, mut unseen) = (Vec::new(), Vec::new());
        for (kind, namespaces) in kinds {
            let reason = match held.get(kind).map(|entry| (&entry.state, entry)) {
                Some((State::Synced, entry)) => {
                    resources.extend(in_namespaces(&entry.objects, namespaces.as_ref()).map(|resource| Resource::clone(resource)));
                    continue;
                }
                Some((State::Syncing, _)) => format!("the admission server's copy of the {kind} objects is not synced yet (listing them)"),
                Some((State::Unavailable(why), _)) => why.clone(),
                None => format!("the admission server does not watch {kind} objects"),
            };
            unseen.push(objects::unseen(&self.cluster, kind, None, reason, &self.anchor));
        }
        (resources, unseen)
    }

    fn keyed(&self, object: Value) -> Option<((String, String), Arc<Resource>)> {
        let key = key_of(&object);
        let resource = objects::admitted_resource(&self.cluster, object, &self.anchor).ok()?;
        Some((key, Arc::new(resource)))
    }

    fn with_kind(&self, kind: &str, change: impl FnOnce(&mut Kind)) {
        let mut kinds = self.kinds.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(entry) = kinds.get_mut(kind) {
            change(entry);
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Kind>> {
        self.kinds.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The objects (keyed by namespace and name) in `namespaces`, or all of them.
fn in_namespaces<'o>(
    objects: &'o BTreeMap<(String, String), Arc<Resource>>,
    namespaces: Option<&'o BTreeSet<String>>,
) -> Box<dyn Iterator<Item = &'o Arc<Resource>> + 'o> {
    let Some(namespaces) = namespaces else { return Box::new(objects.values()) };
    Box::new(namespaces.iter().flat_map(move |namespace| {
        let within = objects.range((namespace.clone(), String::new())..).take_while(move |((ns, _), _)| ns == namespace);
        // A Namespace is keyed by its name, outside any namespace.
        let itself = objects.get(&(String::new(), namespace.clone()));
        within.map(|(_, resource)| resource).chain(itself)
    }))
}

fn key_of(object: &Value) -> (String, String) {
    let text = |key: &str| object["metadata"][key].as_str().unwrap_or_default().to_string();
    (text("namespace"), text("name"))
}

/// Keeps every kind of `cache` current until `stop` resolves: the built-in kinds at once, the
/// custom ones as discovery finds them. A kind charterguard does not list is unavailable.
pub async fn watch(api: Arc<Api>, cache: Arc<Cache>, stop: impl std::future::Future<Output = ()>) {
    let wanted: BTreeSet<String> = cache.states().into_keys().collect();
    let known = |kind: &String| kinds::built_in().iter().any(|k| &k.kind == kind) || kinds::CUSTOM.iter().any(|c| c.kind == kind);
    for kind in wanted.iter().filter(|kind| !known(kind)) {
        cache.set_unavailable(kind, format!("charterguard does not list {kind} objects"));
    }
    let built_in = kinds::built_in().into_iter().filter(|k| wanted.contains(&k.kind)).map(|kind| keep_current(api.clone(), cache.clone(), kind));
    let custom = watch_discovered(api.clone(), cache.clone(), &wanted);
    tokio::select! {
        _ = futures::future::join(futures::future::join_all(built_in), custom) => {}
        _ = stop => {}
    }
}

/// The custom kinds of `wanted`, each watched once discovery finds where the cluster serves
/// it. A kind the cluster does not serve is unavailable; discovery that fails (denied, the API
/// server not answering yet) is tried again, with backoff, until it answers for every kind.
async fn watch_discovered(api: Arc<Api>, cache: Arc<Cache>, wanted: &BTreeSet<String>) {
    let mut pending: BTreeSet<&str> = kinds::CUSTOM.iter().map(|c| c.kind).filter(|kind| wanted.contains(*kind)).collect();
    // Watched at once, while discovery goes on for the others; aborted when this is dropped.
    let mut watching = tokio::task::JoinSet::new();
    let mut wait = FIRST_RETRY_WAIT;
    while !pending.is_empty() {
        for (custom, found) in super::discovery::custom_kinds(&api).await {
            if !pending.contains(custom.kind) {
                continue;
            }
            match found {
                Ok(kind) => drop(watching.spawn(keep_current(api.clone(), cache.clone(), kind))),
                Err(missing) if missing.unreadable => {
                    cache.set_unavailable(custom.kind, missing.reason);
                    continue;
                }
                Err(missing) => cache.set_unavailable(custom.kind, missing.reason),
            }
            pending.remove(custom.kind);
        }
        if !pending.is_empty() {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_RETRY_WAIT);
        }
    }
    while watching.join_next().await.is_some() {}
}

/// Lists `kind` into the cache, then follows its watch, listing again whenever the watch
/// cannot go on.
async fn keep_current(api: Arc<Api>, cache: Arc<Cache>, kind: ApiKind) {
    let mut wait = FIRST_RETRY_WAIT;
    loop {
        match list_and_watch(&api, &cache, &kind, &mut wait).await {
            // The resource version expired (410 Gone): list again at once.
            Ok(()) => {}
            Err(failure) => {
                // Only a kind never listed is unavailable: a failing watch keeps the last copy,
                // which the next list refreshes.
                if cache.state(&kind.kind) != Some(State::Synced) {
                    cache.set_unavailable(&kind.kind, format!("could not be listed ({failure})"));
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_RETRY_WAIT);
            }
        }
    }
}

/// One list, then watches from its resource version for as long as the API serves them.
/// `Ok` when the version expired (list again), `Err` when a call failed. A list that succeeds
/// resets the wait before the next retry.
async fn list_and_watch(api: &Api, cache: &Cache, kind: &ApiKind, wait: &mut Duration) -> Result<(), Failure> {
    let listing = super::list::list_kind(api, kind, None, PAGE_SIZE).await;
    if let Some(gap) = listing.gaps.first() {
        return Err(gap.failure.clone());
    }
    *wait = FIRST_RETRY_WAIT;
    let mut version = listing.resource_version.clone().unwrap_or_default();
    let objects = listing.objects.into_iter().map(|object| objects::with_kind(kind, object)).collect();
    cache.replace(&kind.kind, objects);
    loop {
        let path = kind.list_path(None);
        let params = WatchParams::default().timeout(WATCH_SECONDS);
        let request = kube::core::Request::new(&path).watch(&params, &version).map_err(|e| Failure::protocol(format!("watching {path}: {e}")))?;
        let events = api.client().request_events::<Value>(request).await.map_err(|e| Failure::protocol(format!("watching {path}: {e}")))?;
        futures::pin_mut!(events);
        while let Some(event) = events.try_next().await.map_err(|e| Failure::protocol(format!("watching {path}: {e}")))? {
            match event {
                WatchEvent::Added(object) | WatchEvent::Modified(object) => {
                    version = object["metadata"]["resourceVersion"].as_str().unwrap_or(&version).to_string();
                    cache.upsert(&kind.kind, objects::with_kind(kind, object));
                }
                WatchEvent::Deleted(object) => {
                    version = object["metadata"]["resourceVersion"].as_str().unwrap_or(&version).to_string();
                    cache.remove(&kind.kind, &object);
                }
                WatchEvent::Bookmark(bookmark) => version = bookmark.metadata.resource_version,
                WatchEvent::Error(status) if status.code == 410 => return Ok(()),
                WatchEvent::Error(status) => return Err(Failure::protocol(format!("watching {path}: HTTP {}: {}", status.code, status.message))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cache() -> Cache {
        Cache::new("prod", ["NetworkPolicy".to_string(), "Namespace".to_string()], Span::new("charterguard.yaml".into(), 1, 1, 1, 1))
    }

    fn policy(namespace: &str, name: &str) -> Value {
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"namespace": namespace, "name": name}, "spec": {"podSelector": {}}})
    }

    #[test]
    fn unsynced_and_unavailable_kinds_are_unseen_never_empty() {
        let cache = cache();
        let kinds: BTreeMap<String, Option<BTreeSet<String>>> = ["NetworkPolicy", "Namespace", "ResourceQuota"].map(|k| (k.to_string(), None)).into();
        let (resources, unseen) = cache.snapshot(&kinds);
        assert!(resources.is_empty());
        let reasons: Vec<&str> = unseen.iter().map(|u| u.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "the admission server's copy of the Namespace objects is not synced yet (listing them)",
                "the admission server's copy of the NetworkPolicy objects is not synced yet (listing them)",
                "the admission server does not watch ResourceQuota objects",
            ]
        );
        assert_eq!(unseen[0].origin.id, "prod/*/Namespace/*");
        cache.set_unavailable("Namespace", "denied".into());
        assert_eq!(cache.state("NetworkPolicy"), Some(State::Syncing));
        cache.replace("NetworkPolicy", vec![policy("a", "deny"), policy("b", "deny")]);
        assert_eq!(cache.state("NetworkPolicy"), Some(State::Synced));
        let (resources, unseen) = cache.snapshot(&kinds);
        assert_eq!(resources.iter().map(|r| r.address.as_str()).collect::<Vec<_>>(), ["NetworkPolicy a/deny", "NetworkPolicy b/deny"]);
        assert_eq!(unseen.iter().map(|u| u.reason.as_str()).collect::<Vec<_>>(), ["denied", "the admission server does not watch ResourceQuota objects"]);
    }

    #[test]
    fn only_the_namespaces_asked_for_are_copied() {
        let cache = cache();
        cache.replace("NetworkPolicy", vec![policy("a", "deny"), policy("ab", "deny"), policy("b", "deny")]);
        let namespace = |name: &str| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        cache.replace("Namespace", vec![namespace("a"), namespace("b")]);
        let asked = BTreeSet::from(["a".to_string()]);
        let kinds = BTreeMap::from([("NetworkPolicy".to_string(), Some(asked.clone())), ("Namespace".to_string(), Some(asked))]);
        let (resources, unseen) = cache.snapshot(&kinds);
        assert!(unseen.is_empty());
        assert_eq!(resources.iter().map(|r| r.address.as_str()).collect::<Vec<_>>(), ["Namespace a", "NetworkPolicy a/deny"]);
    }

    #[test]
    fn events_add_replace_and_remove_by_namespace_and_name() {
        let cache = cache();
        cache.replace("NetworkPolicy", vec![policy("a", "deny")]);
        cache.upsert("NetworkPolicy", policy("a", "allow"));
        let mut changed = policy("a", "deny");
        changed["spec"]["podSelector"] = json!({"matchLabels": {"app": "x"}});
        cache.upsert("NetworkPolicy", changed);
        cache.remove("NetworkPolicy", &policy("a", "allow"));
        let (resources, _) = cache.snapshot(&BTreeMap::from([("NetworkPolicy".to_string(), None)]));
        assert_eq!(resources.len(), 1);
        assert_eq!(resources[0].attrs.path("spec.podSelector.matchLabels.app").and_then(|n| n.as_str()), Some("x"));
    }
}
