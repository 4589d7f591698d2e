//! A loopback Kubernetes API server for the live-audit tests: no real API server can run on
//! these machines, so this one serves real-shaped documents from manifests, the way
//! kube-apiserver stores and serves them:
//!
//! - discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/GROUP/VERSION` (with `/status`
//!   subresources);
//! - lists across all namespaces and per namespace, paged with `limit`/`continue`, items
//!   without `apiVersion`/`kind` (as real list responses), sorted by namespace and name;
//! - objects stored as the API stores an applied manifest: a namespace-less namespaced object
//!   lands in `default`, `stringData` is merged into `data` (base64), a `generateName` gets a
//!   name, every object gets a uid; served at the version asked for (an `autoscaling/v1`
//!   HorizontalPodAutoscaler listed as `autoscaling/v2` has its CPU target as a metric);
//! - `Status` documents for 403 (a forbidden kind or namespace: a forbidden namespace also
//!   forbids cluster-wide lists of namespaced kinds, as RBAC does for a user bound per
//!   namespace), 404 (a group not installed, an unknown path), and a 429 or 500 once on chosen
//!   paths.
//!
//! It binds 127.0.0.1:0, answers each connection with one response (`Connection: close`),
//! and stops when dropped; its accept loop also ends by itself after ten minutes.

#![allow(dead_code)] // each test binary uses part of it

use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A kind as the server serves it.
pub struct ApiResource {
    pub kind: &'static str,
    pub group: &'static str,
    /// Served versions, the preferred one first.
    pub versions: &'static [&'static str],
    pub plural: &'static str,
    pub namespaced: bool,
    /// Whether discovery also lists its `PLURAL/status` subresource, of the same kind, as
    /// kube-apiserver does for the kinds (and CRDs) that declare one.
    pub status: bool,
}

const fn resource(kind: &'static str, group: &'static str, versions: &'static [&'static str], plural: &'static str, namespaced: bool) -> ApiResource {
    ApiResource { kind, group, versions, plural, namespaced, status: false }
}

impl ApiResource {
    const fn with_status(self) -> ApiResource {
        ApiResource { status: true, ..self }
    }
}

/// Every kind of the fixtures, built-in and custom, and the other kinds an operator's install
/// brings (cert-manager's Issuers, CertificateRequests and ACME group), so that discovery
/// answers as on a real cluster with the operators installed.
pub const RESOURCES: &[ApiResource] = &[
    resource("Namespace", "", &["v1"], "namespaces", false).with_status(),
    resource("Pod", "", &["v1"], "pods", true).with_status(),
    resource("ReplicationController", "", &["v1"], "replicationcontrollers", true).with_status(),
    resource("ConfigMap", "", &["v1"], "configmaps", true),
    resource("Secret", "", &["v1"], "secrets", true),
    resource("ResourceQuota", "", &["v1"], "resourcequotas", true).with_status(),
    resource("Service", "", &["v1"], "services", true).with_status(),
    resource("ServiceAccount", "", &["v1"], "serviceaccounts", true),
    resource("Deployment", "apps", &["v1"], "deployments", true).with_status(),
    resource("StatefulSet", "apps", &["v1"], "statefulsets", true).with_status(),
    resource("DaemonSet", "apps", &["v1"], "daemonsets", true).with_status(),
    resource("ReplicaSet", "apps", &["v1"], "replicasets", true).with_status(),
    resource("Job", "batch", &["v1"], "jobs", true).with_status(),
    resource("CronJob", "batch", &["v1"], "cronjobs", true).with_status(),
    resource("NetworkPolicy", "networking.k8s.io", &["v1"], "networkpolicies", true),
    resource("HorizontalPodAutoscaler", "autoscaling", &["v2", "v1"], "horizontalpodautoscalers", true).with_status(),
    resource("ClusterRole", "rbac.authorization.k8s.io", &["v1"], "clusterroles", false),
    resource("ClusterRoleBinding", "rbac.authorization.k8s.io", &["v1"], "clusterrolebindings", false),
    resource("PeerAuthentication", "security.istio.io", &["v1", "v1beta1"], "peerauthentications", true).with_status(),
    resource("DestinationRule", "networking.istio.io", &["v1", "v1beta1"], "destinationrules", true).with_status(),
    resource("Certificate", "cert-manager.io", &["v1"], "certificates", true).with_status(),
    resource("ClusterIssuer", "cert-manager.io", &["v1"], "clusterissuers", false).with_status(),
    resource("Issuer", "cert-manager.io", &["v1"], "issuers", true).with_status(),
    resource("CertificateRequest", "cert-manager.io", &["v1"], "certificaterequests", true).with_status(),
    resource("Order", "acme.cert-manager.io", &["v1"], "orders", true).with_status(),
    resource("Challenge", "acme.cert-manager.io", &["v1"], "challenges", true).with_status(),
    resource("SecretProviderClass", "secrets-store.csi.x-k8s.io", &["v1"], "secretproviderclasses", true),
    resource("PrometheusRule", "monitoring.coreos.com", &["v1"], "prometheusrules", true),
];

pub fn resource_of(kind: &str) -> &'static ApiResource {
    RESOURCES.iter().find(|r| r.kind == kind).unwrap_or_else(|| panic!("the fixture API server does not know kind {kind}: add it to RESOURCES"))
}

/// What the server serves and how it misbehaves.
#[derive(Clone, Default)]
pub struct Cluster {
    /// Objects as applied (manifests, with `apiVersion` and `kind`).
    pub objects: Vec<Value>,
    pub forbidden_namespaces: Vec<String>,
    pub forbidden_kinds: Vec<String>,
    /// API groups that are not installed (their custom resources do not exist).
    pub missing_groups: Vec<String>,
    /// (path without query, status): the first request to the path gets this error status.
    pub fail_once: Vec<(String, u16)>,
    /// RBAC: when set, only these (API group, resource) may be listed.
    pub granted: Option<Vec<(String, String)>>,
    /// Objects (manifests) each watch of their kind announces as ADDED: changes made after
    /// the list.
    pub watch_events: Vec<Value>,
}

impl Cluster {
    /// The objects of manifest files (YAML or JSON, multi-document, `kind: List`), read with
    /// charterguard's own YAML loader as `scan` reads them; documents that are not objects are
    /// skipped, as `scan` skips them.
    pub fn from_manifests(files: &[PathBuf]) -> Cluster {
        let mut objects = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let name: Arc<str> = Arc::from(file.to_string_lossy().as_ref());
            let docs = charterguard::yaml::load(&name, &text, &charterguard::yaml::Limits::default()).unwrap_or_else(|d| panic!("{d}"));
            for doc in docs {
                collect(doc.root.to_json(), &mut objects);
            }
        }
        Cluster { objects, ..Cluster::default() }
    }
}

/// The (API group, resource) pairs a ClusterRole grants `list` on.
pub fn list_grants(cluster_role: &Value) -> Vec<(String, String)> {
    let mut grants = Vec::new();
    for rule in cluster_role["rules"].as_array().into_iter().flatten() {
        if !rule["verbs"].as_array().into_iter().flatten().any(|v| v == "list" || v == "*") {
            continue;
        }
        for group in rule["apiGroups"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            for resource in rule["resources"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                grants.push((group.to_string(), resource.to_string()));
            }
        }
    }
    grants
}

fn collect(document: Value, out: &mut Vec<Value>) {
    let (Some(_), Some(kind)) = (document["apiVersion"].as_str(), document["kind"].as_str()) else { return };
    if kind.ends_with("List") {
        if let Some(items) = document["items"].as_array() {
            items.iter().cloned().for_each(|item| collect(item, out));
            return;
        }
    }
    out.push(document);
}

/// The objects as the API stores them, and whether storing changed any of them.
pub struct Store {
    pub objects: Vec<Value>,
    /// `Kind namespace/name` (as the API stores it) of every object whose stored form differs
    /// from its manifest in more than the uid and bookkeeping metadata.
    pub normalised: BTreeSet<String>,
}

impl Store {
    pub fn new(applied: &[Value]) -> Store {
        let mut store = Store { objects: Vec::new(), normalised: BTreeSet::new() };
        for (index, object) in applied.iter().enumerate() {
            let (stored, changed) = stored(object, index);
            let key = |o: &Value| (o["kind"].clone(), o["metadata"]["namespace"].clone(), o["metadata"]["name"].clone());
            // A later manifest of the same object replaces it, as `kubectl apply` does.
            if let Some(at) = store.objects.iter().position(|o| key(o) == key(&stored)) {
                store.normalised.insert(address(&stored));
                store.objects.remove(at);
            }
            if changed {
                store.normalised.insert(address(&stored));
            }
            store.objects.push(stored);
        }
        store
            .objects
            .sort_by_key(|o| (o["metadata"]["namespace"].as_str().unwrap_or("").to_string(), o["metadata"]["name"].as_str().unwrap_or("").to_string()));
        store
    }

    /// Every object as a list at the preferred version serves it, `apiVersion` and `kind`
    /// included: what a live audit reads.
    pub fn served_objects(&self) -> Vec<Value> {
        self.objects
            .iter()
            .map(|o| {
                let resource = resource_of(o["kind"].as_str().unwrap());
                served(o, resource, resource.versions[0])
            })
            .collect()
    }
}

pub fn address(object: &Value) -> String {
    let kind = object["kind"].as_str().unwrap_or_default();
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    match object["metadata"]["namespace"].as_str() {
        Some(namespace) => format!("{kind} {namespace}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// An applied manifest as the API stores it; `true` when that changed what rules can read.
fn stored(applied: &Value, index: usize) -> (Value, bool) {
    let mut object = applied.clone();
    let resource = resource_of(object["kind"].as_str().unwrap());
    let mut changed = false;
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
        changed = true;
    }
    let metadata = object["metadata"].as_object_mut().unwrap();
    if resource.namespaced && metadata.get("namespace").and_then(Value::as_str).is_none_or(str::is_empty) {
        metadata.insert("namespace".into(), json!("default"));
        changed = true;
    }
    if !resource.namespaced && metadata.remove("namespace").is_some() {
        changed = true;
    }
    if metadata.get("name").and_then(Value::as_str).is_none() {
        let prefix = metadata.get("generateName").and_then(Value::as_str).unwrap_or("object-").to_string();
        metadata.insert("name".into(), json!(format!("{prefix}{index:05}")));
        changed = true;
    }
    let name = metadata["name"].as_str().unwrap().to_string();
    metadata.entry("uid").or_insert_with(|| json!(format!("{:08x}-0000-4000-8000-{index:012}", index * 7919)));
    metadata.insert("resourceVersion".into(), json!(format!("{}", 1000 + index)));
    metadata.insert("creationTimestamp".into(), json!("2026-01-01T00:00:00Z"));
    if object["kind"] == "Secret" {
        changed |= merge_string_data(&mut object);
    }
    // Listed at the preferred autoscaling/v2, its CPU target becomes a metric (see `served`).
    changed |= object["kind"] == "HorizontalPodAutoscaler" && object["apiVersion"] == "autoscaling/v1";
    debug_assert!(!name.is_empty());
    (object, changed)
}

/// `stringData` is write-only: the API merges it into `data`, base64-encoded.
fn merge_string_data(secret: &mut Value) -> bool {
    let Some(Value::Object(string_data)) = secret.as_object_mut().and_then(|s| s.remove("stringData")) else { return false };
    let data = secret.as_object_mut().unwrap().entry("data").or_insert_with(|| json!({}));
    if !data.is_object() {
        *data = json!({});
    }
    for (key, value) in string_data {
        let text = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        data[key.as_str()] = json!(base64(text.as_bytes()));
    }
    true
}

/// An object as a list at `version` serves it (with `apiVersion` and `kind`).
fn served(object: &Value, resource: &ApiResource, version: &str) -> Value {
    let mut served = object.clone();
    let api_version = if resource.group.is_empty() { version.to_string() } else { format!("{}/{version}", resource.group) };
    if resource.kind == "HorizontalPodAutoscaler" && object["apiVersion"] == "autoscaling/v1" && version == "v2" {
        hpa_v1_to_v2(&mut served);
    }
    served["apiVersion"] = json!(api_version);
    served
}

/// autoscaling/v1 keeps one CPU target; v2 says it as a Resource metric.
fn hpa_v1_to_v2(hpa: &mut Value) {
    let Some(spec) = hpa["spec"].as_object_mut() else { return };
    if let Some(target) = spec.remove("targetCPUUtilizationPercentage") {
        spec.insert(
            "metrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}}]),
        );
    }
}

pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char } else { '=' });
        }
    }
    out
}

struct State {
    cluster: Cluster,
    store: Store,
    failures: Mutex<Vec<(String, u16)>>,
    log: Mutex<Vec<String>>,
    address: SocketAddr,
}

/// The running server. Dropping it stops it.
pub struct Server {
    state: Arc<State>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start(cluster: Cluster) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let store = Store::new(&cluster.objects);
        let failures = Mutex::new(cluster.fail_once.clone());
        let state = Arc::new(State { cluster, store, failures, log: Mutex::new(Vec::new()), address });
        let stop = Arc::new(AtomicBool::new(false));
        let (state_for_loop, stop_for_loop) = (state.clone(), stop.clone());
        let accept = std::thread::spawn(move || accept_loop(listener, state_for_loop, stop_for_loop));
        Server { state, stop, accept: Some(accept) }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.state.address)
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Every request so far, `GET /path?query`, in arrival order.
    pub fn requests(&self) -> Vec<String> {
        self.state.log.lock().unwrap().clone()
    }

    /// Writes a kubeconfig whose current context points at the server.
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fixture-cluster\n  cluster:\n    server: {}\nusers:\n- name: auditor\n  user:\n    token: not-a-secret\ncontexts:\n- name: fixture\n  context:\n    cluster: fixture-cluster\n    user: auditor\ncurrent-context: fixture\n",
            self.url()
        );
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn accept_loop(listener: TcpListener, state: Arc<State>, stop: Arc<AtomicBool>) {
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                let state = state.clone();
                workers.push(std::thread::spawn(move || serve_connection(stream, &state)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => break,
        }
        workers.retain(|w| !w.is_finished());
    }
    for worker in workers {
        let _ = worker.join();
    }
}

fn serve_connection(mut stream: TcpStream, state: &State) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let Some(head) = read_head(&mut stream) else { return };
    let mut words = head.lines().next().unwrap_or_default().split_whitespace();
    let (method, target) = (words.next().unwrap_or_default().to_string(), words.next().unwrap_or_default().to_string());
    state.log.lock().unwrap().push(format!("{method} {target}"));
    if method == "GET" && target.split_once('?').is_some_and(|(_, query)| query.split('&').any(|p| p == "watch=true" || p == "watch=1")) {
        return state.watch(&mut stream, &target);
    }
    let (status, body) = if method == "GET" { state.answer(&target) } else { status_document(405, "MethodNotAllowed", format!("{method} is not served")) };
    let body = serde_json::to_vec(&body).unwrap();
    let reason = match status {
        200 => "OK",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Error",
    };
    let head = format!("HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(&body)).and_then(|_| stream.flush());
}

/// The request line and headers (at most 64 KiB); GET requests have no body.
fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 || head.len() > 65536 {
            return None;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    String::from_utf8(head).ok()
}

fn status_document(code: u16, reason: &str, message: String) -> (u16, Value) {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code});
    (code, body)
}

impl State {
    fn answer(&self, target: &str) -> (u16, Value) {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        if let Some(status) = self.take_failure(path) {
            return match status {
                429 => {
                    let (code, mut body) =
                        status_document(429, "TooManyRequests", "the server has received too many requests and has asked us to try again later".into());
                    body["details"] = json!({"retryAfterSeconds": 1});
                    (code, body)
                }
                code => status_document(code, "InternalError", "Internal error occurred: etcdserver: request timed out".into()),
            };
        }
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match segments.as_slice() {
            ["version"] => (
                200,
                json!({"major": "1", "minor": "33", "gitVersion": "v1.33.1", "gitCommit": "0000000", "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24", "compiler": "gc", "platform": "linux/amd64"}),
            ),
            ["api"] => (
                200,
                json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": self.address.to_string()}]}),
            ),
            ["apis"] => (200, self.groups()),
            ["api", "v1"] => self.resources("", "v1"),
            ["apis", group, version] => self.resources(group, version),
            ["api", "v1", plural] => self.list("", "v1", plural, None, query),
            ["api", "v1", "namespaces", namespace, plural] => self.list("", "v1", plural, Some(namespace), query),
            ["apis", group, version, plural] => self.list(group, version, plural, None, query),
            ["apis", group, version, "namespaces", namespace, plural] => self.list(group, version, plural, Some(namespace), query),
            _ => status_document(404, "NotFound", format!("the server could not find the requested resource ({path})")),
        }
    }

    /// A watch (`?watch=true`), answered as kube-apiserver streams one: the `watch_events` of
    /// the kind as ADDED events, one JSON document per line, then nothing until the watch's
    /// `timeoutSeconds` (here at most two seconds) ends it.
    fn watch(&self, stream: &mut TcpStream, target: &str) {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (group, version) = match segments.as_slice() {
            ["api", version, ..] => ("", *version),
            ["apis", group, version, ..] => (*group, *version),
            _ => return,
        };
        let plural = segments.last().copied().unwrap_or_default();
        let Some(resource) = RESOURCES.iter().find(|r| r.group == group && r.plural == plural) else { return };
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n");
        for (index, object) in self.cluster.watch_events.iter().enumerate().filter(|(_, o)| o["kind"] == resource.kind) {
            let event = json!({"type": "ADDED", "object": served(&stored(object, 9000 + index).0, resource, version)});
            let _ = stream.write_all(format!("{event}\n").as_bytes()).and_then(|_| stream.flush());
        }
        let asked = query.split('&').find_map(|p| p.strip_prefix("timeoutSeconds=")).and_then(|t| t.parse::<u64>().ok()).unwrap_or(2);
        std::thread::sleep(Duration::from_secs(asked.min(2)));
    }

    fn take_failure(&self, path: &str) -> Option<u16> {
        let mut failures = self.failures.lock().unwrap();
        let at = failures.iter().position(|(p, _)| p == path)?;
        Some(failures.remove(at).1)
    }

    fn installed(&self, group: &str) -> bool {
        !self.cluster.missing_groups.iter().any(|g| g == group)
    }

    fn groups(&self) -> Value {
        let mut names: Vec<&str> = RESOURCES.iter().map(|r| r.group).filter(|g| !g.is_empty() && self.installed(g)).collect();
        names.dedup();
        let groups: Vec<Value> = names
            .iter()
            .map(|name| {
                let versions = RESOURCES.iter().find(|r| r.group == *name).unwrap().versions;
                let entries: Vec<Value> = versions.iter().map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v})).collect();
                json!({"name": name, "versions": entries, "preferredVersion": entries[0]})
            })
            .collect();
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    fn resources(&self, group: &str, version: &str) -> (u16, Value) {
        let served: Vec<Value> = RESOURCES
            .iter()
            .filter(|r| r.group == group && r.versions.contains(&version) && self.installed(group))
            .flat_map(|r| {
                let resource = json!({"name": r.plural, "singularName": r.kind.to_lowercase(), "namespaced": r.namespaced, "kind": r.kind, "verbs": ["get", "list", "watch"]});
                let status = json!({"name": format!("{}/status", r.plural), "singularName": "", "namespaced": r.namespaced, "kind": r.kind, "verbs": ["get", "patch", "update"]});
                std::iter::once(resource).chain(r.status.then_some(status))
            })
            .collect();
        if served.is_empty() {
            return status_document(404, "NotFound", format!("the server could not find the requested resource (group {group} version {version})"));
        }
        let group_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
        (200, json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": served}))
    }

    fn list(&self, group: &str, version: &str, plural: &str, namespace: Option<&str>, query: &str) -> (u16, Value) {
        let Some(resource) = RESOURCES.iter().find(|r| r.group == group && r.plural == plural && r.versions.contains(&version) && self.installed(group)) else {
            return status_document(404, "NotFound", format!("the server could not find the requested resource ({plural})"));
        };
        if let Some(message) = self.forbidden(resource, namespace) {
            return status_document(403, "Forbidden", message);
        }
        let matching: Vec<Value> = self
            .store
            .objects
            .iter()
            .filter(|o| o["kind"] == resource.kind && namespace.is_none_or(|ns| o["metadata"]["namespace"] == ns))
            .map(|o| {
                let mut item = served(o, resource, version);
                let map = item.as_object_mut().unwrap();
                map.remove("apiVersion");
                map.remove("kind");
                item
            })
            .collect();
        let parameter = |name: &str| query.split('&').find_map(|p| p.strip_prefix(name).and_then(|v| v.strip_prefix('=')));
        let limit = parameter("limit").and_then(|l| l.parse::<usize>().ok()).filter(|&l| l > 0).unwrap_or(usize::MAX);
        let start = parameter("continue").and_then(|c| c.strip_prefix('c')).and_then(|c| c.parse::<usize>().ok()).unwrap_or(0);
        let end = start.saturating_add(limit).min(matching.len());
        let mut metadata = Map::new();
        metadata.insert("resourceVersion".into(), json!("5000"));
        if end < matching.len() {
            metadata.insert("continue".into(), json!(format!("c{end}")));
            metadata.insert("remainingItemCount".into(), json!(matching.len() - end));
        }
        let api_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
        let items: Vec<Value> = matching.get(start.min(end)..end).unwrap_or_default().to_vec();
        (200, json!({"kind": format!("{}List", resource.kind), "apiVersion": api_version, "metadata": metadata, "items": items}))
    }

    /// The 403 message kube-apiserver gives, when the auditor may not list this.
    fn forbidden(&self, resource: &ApiResource, namespace: Option<&str>) -> Option<String> {
        let user = "system:serviceaccount:altscore-monitoring:charterguard-audit";
        let not_granted = self.cluster.granted.as_ref().is_some_and(|g| !g.iter().any(|(group, plural)| group == resource.group && plural == resource.plural));
        let denied_kind = not_granted || self.cluster.forbidden_kinds.iter().any(|k| k == resource.kind);
        let denied_namespace = resource.namespaced
            && match namespace {
                Some(ns) => self.cluster.forbidden_namespaces.iter().any(|f| f == ns),
                None => !self.cluster.forbidden_namespaces.is_empty(),
            };
        if !(denied_kind || denied_namespace) {
            return None;
        }
        let scope = match namespace {
            Some(ns) => format!(" in the namespace \"{ns}\""),
            None => " at the cluster scope".to_string(),
        };
        Some(format!(
            "{} is forbidden: User \"{user}\" cannot list resource \"{}\" in API group \"{}\"{scope}",
            resource.plural, resource.plural, resource.group
        ))
    }
}

#[test]
fn base64_matches_the_standard_alphabet() {
    assert_eq!(base64(b"supersecret"), "c3VwZXJzZWNyZXQ=");
    assert_eq!(base64(b"ab"), "YWI=");
    assert_eq!(base64(b"abc"), "YWJj");
    assert_eq!(base64(b""), "");
}
