//! The latency of `charterguard admission` (issue 18's benchmark, not a test): the server of
//! `charterguard::admission`, its cache synced with the example platform's objects, answers
//! 1,000 reviews of the platform's Deployment sent one after another over one kept-alive TLS
//! connection, as the API server sends them; then the same 1,000 from two connections at once.
//! Prints p50, p99 and the slowest, in milliseconds, per round trip as the client sees it.
//! `NAMESPACES=N` adds N namespaces (with a policy and a quota each) to the cluster;
//! `KIND=Namespace` reviews the platform's first Namespace instead of its Deployment.
//!
//! `cargo run --release --features admission --example admission_latency`
//! (openssl makes the certificate; run from the repository root).

#[path = "../tests/it/https.rs"]
mod https;

use charterguard::admission::{Judge, Mode};
use charterguard::k8s_live::cache::Cache;
use charterguard::model::{Severity, Span};
use https::Connection;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const REVIEWS: usize = 1000;

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let certificates = https::certificates(dir.path());
    let mut objects = platform_objects(Path::new("fixtures/platform/k8s"));
    // `NAMESPACES=N`: N more namespaces, each with a default-deny policy and a quota, as a
    // platform with a namespace per distributor has.
    let extra: usize = std::env::var("NAMESPACES").ok().and_then(|n| n.parse().ok()).unwrap_or(0);
    objects.extend((0..extra).flat_map(distributor_namespace));
    // `KIND=Namespace`: review the platform's first object of that kind instead.
    let kind = std::env::var("KIND").unwrap_or_else(|_| "Deployment".to_string());
    let deployment = objects.iter().find(|o| o["kind"] == kind.as_str()).expect("the platform has an object of that kind").clone();
    let (rules, diagnostics) = charterguard::engine::load_rules(&[]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let cache = Arc::new(Cache::new("prod", Judge::looked_up(&rules), Span::new("charterguard.yaml".into(), 1, 1, 1, 1)));
    for (kind, _) in cache.states() {
        cache.replace(&kind, objects.iter().filter(|o| o["kind"] == kind.as_str()).cloned().collect());
    }
    let judge = Judge::new(rules, charterguard::config::Config::default(), cache, Mode::Enforce, Some(Severity::Error), true);
    let server = https::InProcess::start(judge, &certificates);
    let address = server.address;

    let body = serde_json::to_vec(&review(&deployment)).expect("a review serialises");
    let ca = &certificates.ca;
    times(address, ca, &body, 50);
    report("1 connection, one review at a time", times(address, ca, &body, REVIEWS));
    let two: Vec<Duration> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..2).map(|_| scope.spawn(|| times(address, ca, &body, REVIEWS / 2))).collect();
        clients.into_iter().flat_map(|c| c.join().expect("a client thread")).collect()
    });
    report("2 connections at once", two);
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1].as_secs_f64() * 1000.0;
    println!("{what}: {} reviews, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms", times.len(), at(0.50), at(0.99), at(1.0));
}

/// The round-trip times of `n` reviews sent one after another over one connection.
fn times(address: SocketAddr, ca: &Path, body: &[u8], n: usize) -> Vec<Duration> {
    let mut connection = Connection::open(address, ca);
    (0..n)
        .map(|_| {
            let started = Instant::now();
            let answer = connection.send("POST", "/validate", body);
            let elapsed = started.elapsed();
            assert!(answer.status == 200 && answer.text().contains("\"allowed\":"), "{}", answer.text());
            elapsed
        })
        .collect()
}

/// A distributor's namespace with its default-deny policy and quota.
fn distributor_namespace(i: usize) -> [Value; 3] {
    let name = format!("dist-{i:05}");
    [
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "default-deny", "namespace": name}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}),
        json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "quota", "namespace": name}, "spec": {"hard": {"cpu": "2", "memory": "4Gi"}}}),
    ]
}

fn review(object: &Value) -> Value {
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
           "request": {"uid": "bench", "operation": "UPDATE", "namespace": object["metadata"]["namespace"], "object": object}})
}

/// The platform's objects, as `kubectl apply` would send them.
fn platform_objects(dir: &Path) -> Vec<Value> {
    let base = std::env::current_dir().expect("the current directory");
    let inputs = charterguard::input::discover(&[dir.to_path_buf()], &base, &charterguard::input::Walk::default());
    let mut objects = Vec::new();
    for file in &inputs.manifests {
        let text = std::fs::read_to_string(file).expect("a manifest");
        let name: Arc<str> = Arc::from(file.to_string_lossy().as_ref());
        for document in charterguard::yaml::load(&name, &text, &charterguard::yaml::Limits::default()).expect("valid YAML") {
            let object = document.root.to_json();
            if object["kind"].is_string() {
                objects.push(object);
            }
        }
    }
    objects
}
