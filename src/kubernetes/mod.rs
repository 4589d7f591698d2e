//! Kubernetes objects (rendered YAML or JSON manifests) into the resource model.
//!
//! Each object becomes one [`Resource`] whose attributes are the whole object plus derived
//! entries the rules read without knowing where each kind keeps its pod template:
//! `pod_spec`, `containers` (every container with its `container_type`), `namespace`, `name`.

use std::sync::Arc;

use crate::model::{Diagnostic, Node, Resource, SourceKind, Span, Value};
use crate::yaml::{self, Document, Limits};

/// Kinds that are not namespaced: their address is `Kind name`.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "APIService",
    "IngressClass",
    "RuntimeClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "CertificateSigningRequest",
    "PodSecurityPolicy",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "ClusterIssuer",
];

/// Turns parsed documents into resources. Documents that are not Kubernetes objects (no
/// string `apiVersion` and `kind`, e.g. a values file or a config) are skipped, not errors.
/// `kind: List` (and any `*List` kind with `items`) expands into its items.
pub fn load_documents(file: &Arc<str>, docs: Vec<Document>) -> Vec<Resource> {
    let _ = file; // every node carries its file in its span
    let mut out = Vec::new();
    for doc in docs {
        collect_objects(doc.root, &doc.span, &doc.helm_source, &mut out, 0);
    }
    out
}

/// Parses one YAML or JSON file (JSON is YAML 1.2) and returns its resources, or the
/// diagnostic that stopped it.
pub fn load_file(file: &Arc<str>, text: &str) -> (Vec<Resource>, Vec<Diagnostic>) {
    match yaml::load(file, text, &Limits::default()) {
        Ok(docs) => (load_documents(file, docs), Vec::new()),
        Err(diagnostic) => (Vec::new(), vec![diagnostic]),
    }
}

/// True when the text looks like Kubernetes YAML or JSON: some document has `apiVersion:` and
/// `kind:` at its top level. A cheap textual check for content detection, not a parse (a JSON
/// text is parsed, since JSON has no line structure to rely on).
pub fn looks_like_kubernetes(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if !(text.contains("\"apiVersion\"") && text.contains("\"kind\"")) {
            return false;
        }
        let is_object = |v: &serde_json::Value| v.get("apiVersion").is_some_and(|a| a.is_string()) && v.get("kind").is_some_and(|k| k.is_string());
        return match serde_json::from_str::<serde_json::Value>(trimmed) {
            Ok(serde_json::Value::Array(items)) => items.iter().any(is_object),
            Ok(value) => is_object(&value),
            // Not strict JSON (e.g. YAML flow style): fall through to the line check.
            Err(_) => false,
        };
    }
    let (mut api_version, mut kind) = (false, false);
    for line in text.lines() {
        if line.starts_with("---") {
            api_version = false;
            kind = false;
            continue;
        }
        api_version |= top_level_key(line, "apiVersion");
        kind |= top_level_key(line, "kind");
        if api_version && kind {
            return true;
        }
    }
    false
}

/// `key: value` (value non-empty) at column 0, key plain or quoted.
fn top_level_key(line: &str, key: &str) -> bool {
    let rest = line
        .strip_prefix(key)
        .or_else(|| line.strip_prefix('"').and_then(|l| l.strip_prefix(key)).and_then(|l| l.strip_prefix('"')))
        .or_else(|| line.strip_prefix('\'').and_then(|l| l.strip_prefix(key)).and_then(|l| l.strip_prefix('\'')));
    match rest.and_then(|r| r.trim_start().strip_prefix(':')) {
        Some(value) => {
            let value = value.trim();
            !value.is_empty() && !value.starts_with('#')
        }
        None => false,
    }
}

fn string_field<'n>(node: &'n Node, key: &str) -> Option<&'n str> {
    node.get(key).and_then(Node::as_str)
}

fn collect_objects(root: Node, doc_span: &Span, template: &Option<String>, out: &mut Vec<Resource>, depth: usize) {
    let (Some(_), Some(kind)) = (string_field(&root, "apiVersion"), string_field(&root, "kind")) else {
        return;
    };
    if kind.ends_with("List") && depth < 8 {
        if let Some(Value::List(_)) = root.get("items").map(|n| &n.value) {
            let Value::Map(entries) = root.value else { return };
            for (key, items) in entries {
                if key != "items" {
                    continue;
                }
                if let Value::List(items) = items.value {
                    for item in items {
                        collect_objects(item, doc_span, template, out, depth + 1);
                    }
                }
            }
            return;
        }
    }
    out.push(make_resource(root, doc_span, template.clone()));
}

/// Where each workload kind keeps its pod spec.
fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Pod" => Some(&["spec"]),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController" | "Job" => Some(&["spec", "template", "spec"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

fn make_resource(mut object: Node, doc_span: &Span, template: Option<String>) -> Resource {
    let kind = string_field(&object, "kind").unwrap_or_default().to_string();
    let cluster_scoped = CLUSTER_SCOPED.contains(&kind.as_str());
    let metadata = object.get("metadata").filter(|m| matches!(m.value, Value::Map(_)));

    let name_node = metadata.and_then(|m| m.get("name"));
    let name_text = name_node.and_then(scalar_text);
    let name = name_text.clone().or_else(|| metadata.and_then(|m| string_field(m, "generateName")).map(|g| format!("{g}*")));
    let name_attr = match (&name_text, name_node) {
        (Some(text), Some(node)) => Node::new(Value::Str(text.clone()), node.span.clone()),
        _ => Node::new(Value::Null, None),
    };

    let (namespace, namespace_attr) = if cluster_scoped {
        (None, Node::new(Value::Null, None))
    } else {
        match metadata.and_then(|m| m.get("namespace")).and_then(|n| scalar_text(n).map(|t| (t, n.span.clone()))) {
            Some((ns, span)) if !ns.is_empty() => (Some(ns.clone()), Node::new(Value::Str(ns), span)),
            _ => (Some("default".to_string()), Node::new(Value::Str("default".into()), None)),
        }
    };

    let name = name.unwrap_or_else(|| "<unnamed>".to_string());
    let address = match &namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    };

    let pod_spec = pod_spec_path(&kind).and_then(|path| {
        let mut node = &object;
        for segment in path {
            node = node.get(segment)?;
        }
        matches!(node.value, Value::Map(_)).then(|| node.clone())
    });

    if !matches!(object.value, Value::Map(_)) {
        object = Node::map(Vec::new(), object.span);
    }
    let span = object.span.clone().unwrap_or_else(|| doc_span.clone());
    if let Some(pod_spec) = pod_spec {
        let containers = containers_of(&pod_spec);
        object.insert("pod_spec", pod_spec);
        object.insert("containers", Node::new(Value::List(containers), None));
    }
    object.insert("namespace", namespace_attr);
    object.insert("name", name_attr);

    Resource { source: SourceKind::K8s, rtype: kind, address, span, attrs: object, template, call_chain: Vec::new() }
}

/// Every container of a pod spec, regular ones first, each with its `container_type`.
fn containers_of(pod_spec: &Node) -> Vec<Node> {
    let mut out = Vec::new();
    for (field, container_type) in [("containers", "container"), ("initContainers", "initContainer"), ("ephemeralContainers", "ephemeralContainer")] {
        let Some(Value::List(items)) = pod_spec.get(field).map(|n| &n.value) else { continue };
        for item in items.iter().filter(|item| matches!(item.value, Value::Map(_))) {
            let mut container = item.clone();
            container.insert("container_type", Node::new(Value::Str(container_type.into()), None));
            out.push(container);
        }
    }
    out
}

/// The text of a scalar name or namespace (`name: 123` is still a name).
fn scalar_text(node: &Node) -> Option<String> {
    match &node.value {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
