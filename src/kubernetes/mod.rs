//! Kubernetes objects (rendered YAML or JSON manifests) into the resource model.
//!
//! Each object becomes one [`Resource`] whose attributes are the whole object plus derived
//! entries the rules read without knowing where each kind keeps its pod template:
//! `pod_spec`, `containers` (every container with its `container_type`), `namespace`, `name`.

use std::sync::Arc;

use crate::model::{Diagnostic, Node, Resource, SourceKind, Span, Value};
use crate::yaml::{self, Document, Limits};

/// Why an object of rendered Helm output without a namespace has none yet.
pub const RELEASE_NAMESPACE: &str =
    "metadata.namespace is not set: helm install --namespace chooses it; render with helm template -n <namespace> and namespace: {{ .Release.Namespace }} to have it judged";

/// The kinds a source that was not rendered (a remote kustomize base, another repository an
/// Argo CD Application deploys) may hide: every kind the charter's Kubernetes rules judge, so
/// each of them reports that it could not decide.
pub const UNRENDERED_KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "Namespace",
    "ConfigMap",
    "Secret",
    "SecretProviderClass",
    "Service",
    "Ingress",
    "NetworkPolicy",
    "ResourceQuota",
    "HorizontalPodAutoscaler",
    "PrometheusRule",
    "Certificate",
    "PeerAuthentication",
    "DestinationRule",
];

/// Where a namespaced object that does not name its namespace lands.
#[derive(Clone, Copy, Debug)]
pub enum Landing<'a> {
    /// `kubectl apply -f`: the context's namespace, `default` unless `-n` says otherwise.
    Kubectl,
    /// The namespace the deployment names (`helm install -n`, Argo CD's destination).
    Namespace(&'a str),
    /// Decided at install time by something the scan does not see; the text says what and
    /// how to make it known.
    Unknown(&'a str),
}

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
/// Objects that do not name their namespace land as `landing` says.
pub fn load_documents(docs: Vec<Document>, landing: Landing) -> Vec<Resource> {
    let mut out = Vec::new();
    for doc in docs {
        collect_objects(doc.root, &doc.span, &doc.helm_source, landing, &mut out, 0);
    }
    out
}

/// Parses one YAML or JSON manifest file (JSON is YAML 1.2) and returns its resources, or the
/// diagnostic that stopped it. Rendered Helm output (documents with `# Source:` comments)
/// without a namespace has an unknown one: `helm install -n` chooses it.
pub fn load_file(file: &Arc<str>, text: &str) -> (Vec<Resource>, Vec<Diagnostic>) {
    load_rendered(file, text, Landing::Kubectl)
}

/// [`load_file`] for the output of a render whose objects without a namespace land as
/// `landing` says.
pub fn load_rendered(file: &Arc<str>, text: &str, landing: Landing) -> (Vec<Resource>, Vec<Diagnostic>) {
    match yaml::load(file, text, &Limits::default()) {
        Ok(docs) => (load_documents(docs, landing), Vec::new()),
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

/// True when some document of the text is an object of `kind`: `kind: <kind>` at the top level
/// of a YAML document, or `"kind": "<kind>"` anywhere in JSON. A textual check that spares a
/// parse, as [`looks_like_kubernetes`].
pub fn declares_kind(text: &str, kind: &str) -> bool {
    let yaml = |line: &str| {
        top_level_key(line, "kind")
            && line.split_once(':').is_some_and(|(_, value)| value.split('#').next().unwrap_or("").trim().trim_matches(|c| c == '"' || c == '\'') == kind)
    };
    let json = || text.contains(&format!("\"{kind}\"")) && text.trim_start().starts_with(['{', '[']);
    text.lines().any(yaml) || json()
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

fn collect_objects(root: Node, doc_span: &Span, template: &Option<String>, landing: Landing, out: &mut Vec<Resource>, depth: usize) {
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
                        collect_objects(item, doc_span, template, landing, out, depth + 1);
                    }
                }
            }
            return;
        }
    }
    let mut root = root;
    drop_nulls(&mut root);
    // Helm output read as a manifest (piped in) lands where `helm install -n` says.
    let landing = match landing {
        Landing::Kubectl if template.is_some() => Landing::Unknown(RELEASE_NAMESPACE),
        landing => landing,
    };
    out.push(make_resource(root, doc_span, template.clone(), landing));
}

/// `key:` with no value (`env:` in a template whose list came out empty) is what the API
/// server stores as absent, and what rules must read as absent.
fn drop_nulls(node: &mut Node) {
    match &mut node.value {
        Value::Map(entries) => {
            entries.retain(|(_, value)| !matches!(value.value, Value::Null));
            entries.iter_mut().for_each(|(_, value)| drop_nulls(value));
        }
        Value::List(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// One object as a resource, built as for a manifest: for objects read from a live cluster.
/// `span` is where the resource's findings point, since the object's values carry no span.
pub fn object_resource(object: Node, span: &Span) -> Resource {
    make_resource(object, span, None, Landing::Kubectl)
}

/// Where each workload kind keeps its pod spec.
pub fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Pod" => Some(&["spec"]),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController" | "Job" => Some(&["spec", "template", "spec"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

fn make_resource(mut object: Node, doc_span: &Span, template: Option<String>, landing: Landing) -> Resource {
    let kind = string_field(&object, "kind").unwrap_or_default().to_string();
    let cluster_scoped = CLUSTER_SCOPED.contains(&kind.as_str());
    let metadata = object.get("metadata").filter(|m| matches!(m.value, Value::Map(_)));

    let name_node = metadata.and_then(|m| m.get("name"));
    let name_text = name_node.and_then(Node::scalar_text);
    let name = name_text.clone().or_else(|| metadata.and_then(|m| string_field(m, "generateName")).map(|g| format!("{g}*")));
    let name_attr = match (&name_text, name_node) {
        (Some(text), Some(node)) => Node::new(Value::Str(text.clone()), node.span.clone()),
        _ => Node::new(Value::Null, None),
    };

    let (namespace, namespace_attr) = if cluster_scoped {
        (None, Node::new(Value::Null, None))
    } else {
        match metadata.and_then(|m| m.get("namespace")).and_then(|n| n.scalar_text().map(|t| (t, n.span.clone()))) {
            Some((ns, span)) if !ns.is_empty() => (Some(ns.clone()), Node::new(Value::Str(ns), span)),
            _ => match landing {
                Landing::Kubectl => (Some("default".to_string()), Node::new(Value::Str("default".into()), None)),
                Landing::Namespace(ns) => (Some(ns.to_string()), Node::new(Value::Str(ns.into()), None)),
                // Addressed as `default`, which is where an unset namespace most often lands.
                Landing::Unknown(why) => (Some("default".to_string()), Node::new(Value::Unknown(why.into()), None)),
            },
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

    Resource {
        source: SourceKind::K8s,
        rtype: kind,
        address,
        span,
        attrs: object,
        template,
        render: None,
        call_chain: Vec::new(),
        live: None,
        join_scope: None,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DiagnosticLevel;
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    fn load(text: &str) -> Vec<Resource> {
        let (resources, diagnostics) = load_file(&Arc::from("m.yaml"), text);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        resources
    }

    fn list(node: &Node) -> &[Node] {
        match &node.value {
            Value::List(items) => items,
            other => panic!("not a list: {other:?}"),
        }
    }

    const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: busybox
      containers:
      - name: app
        image: nginx
        securityContext:
          runAsNonRoot: true
      ephemeralContainers:
      - name: debug
        image: alpine
";

    #[test]
    fn deployment_containers_of_every_type() {
        let resources = load(DEPLOYMENT);
        assert_eq!(resources.len(), 1);
        let r = &resources[0];
        assert_eq!(r.source, SourceKind::K8s);
        assert_eq!(r.rtype, "Deployment");
        assert_eq!(r.address, "Deployment shop/web");
        assert_eq!((r.span.start_line, r.span.end_line), (1, 19));
        assert!(r.template.is_none() && r.call_chain.is_empty());
        let containers = list(r.attrs.get("containers").unwrap());
        let summary: Vec<(&str, &str, u32)> = containers
            .iter()
            .map(|c| {
                let name = c.get("name").and_then(Node::as_str).unwrap();
                let kind = c.get("container_type").and_then(Node::as_str).unwrap();
                (name, kind, c.get("name").unwrap().span.as_ref().unwrap().start_line)
            })
            .collect();
        assert_eq!(summary, [("app", "container", 13), ("init", "initContainer", 10), ("debug", "ephemeralContainer", 18)]);
        assert!(containers[0].get("container_type").unwrap().span.is_none());
        let run_as = containers[0].path("securityContext.runAsNonRoot").unwrap();
        assert_eq!(run_as.value, Value::Bool(true));
        assert_eq!(run_as.span.as_ref().unwrap().start_line, 16);
        let pod_spec = r.attrs.get("pod_spec").unwrap();
        // The pod spec starts at its `spec:` key.
        assert_eq!(pod_spec.span.as_ref().unwrap().start_line, 8);
        assert!(pod_spec.get("containers").is_some());
        assert_eq!(r.attrs.get("namespace").and_then(Node::as_str), Some("shop"));
        assert_eq!(r.attrs.get("namespace").unwrap().span.as_ref().unwrap().start_line, 5);
        assert_eq!(r.attrs.get("name").and_then(Node::as_str), Some("web"));
        // The object itself is all there.
        assert_eq!(r.attrs.get("apiVersion").and_then(Node::as_str), Some("apps/v1"));
    }

    #[test]
    fn declared_kinds_are_found_at_the_top_level_only() {
        assert!(declares_kind("a: 1\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application # app\n", "Application"));
        assert!(declares_kind("kind: 'Application'\n", "Application"));
        assert!(!declares_kind("kind: CustomResourceDefinition\nspec:\n  names:\n    kind: Application\n", "Application"));
        assert!(!declares_kind("kind: ApplicationSet\n", "Application"));
        assert!(declares_kind("{\"kind\": \"Application\"}", "Application"));
    }

    #[test]
    fn keys_without_a_value_are_absent() {
        let r = &load("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\nspec:\n  containers:\n    - name: c\n      env:\n      image: x\n")[0];
        let container = &list(r.attrs.get("containers").unwrap())[0];
        assert!(container.get("env").is_none(), "{container:?}");
        assert!(container.get("image").is_some());
    }

    #[test]
    fn cronjob_and_pod_spec_paths() {
        let resources = load(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\nspec:\n  schedule: '0 0 * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: job\n            image: x\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: y}]\n",
        );
        assert_eq!(resources.len(), 2);
        let cron = &resources[0];
        assert_eq!(cron.address, "CronJob default/nightly");
        let containers = list(cron.attrs.get("containers").unwrap());
        assert_eq!(containers.len(), 1);
        assert_eq!(containers[0].get("name").unwrap().span.as_ref().unwrap().start_line, 12);
        assert_eq!(cron.attrs.get("pod_spec").unwrap().span.as_ref().unwrap().start_line, 10);
        assert_eq!(cron.attrs.get("namespace").and_then(Node::as_str), Some("default"));
        assert!(cron.attrs.get("namespace").unwrap().span.is_none());
        let pod = &resources[1];
        assert_eq!(pod.address, "Pod default/p");
        assert_eq!(list(pod.attrs.get("containers").unwrap())[0].get("image").and_then(Node::as_str), Some("y"));
        assert_eq!(pod.span.start_line, 15);
    }

    #[test]
    fn list_kinds_expand() {
        let resources = load(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: b\n    namespace: n\n",
        );
        let addresses: Vec<&str> = resources.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(addresses, ["ConfigMap default/a", "Service n/b"]);
        assert_eq!(resources[1].span.start_line, 8);
        let pods = load("apiVersion: v1\nkind: PodList\nitems: []\n");
        assert!(pods.is_empty());
    }

    #[test]
    fn helm_source_becomes_template() {
        let text = "---\n# Source: mychart/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: release-mychart\n";
        let resources = load(text);
        assert_eq!(resources[0].template.as_deref(), Some("mychart/templates/deployment.yaml"));
        assert_eq!(resources[0].span.start_line, 3);
    }

    #[test]
    fn cluster_scoped_address() {
        let resources = load("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\n  namespace: ignored\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n");
        assert_eq!(resources[0].address, "ClusterRole reader");
        assert_eq!(resources[0].attrs.get("namespace").unwrap().value, Value::Null);
        assert_eq!(resources[1].address, "Namespace shop");
        assert!(resources[0].attrs.get("containers").is_none());
    }

    #[test]
    fn non_kubernetes_yaml_is_skipped_not_an_error() {
        assert!(load("replicaCount: 2\nimage:\n  repository: nginx\n").is_empty());
        assert!(load("apiVersion: v1\nentries: {}\n").is_empty()); // a Helm repo index
        assert!(load("- a\n- b\n").is_empty());
        assert!(load("").is_empty());
    }

    #[test]
    fn broken_shapes_do_not_panic() {
        let resources = load("apiVersion: v1\nkind: Pod\nmetadata: [1, 2]\nspec: nope\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  generateName: web-\nspec:\n  template:\n    spec:\n      containers: [1, {name: ok}]\n");
        assert_eq!(resources.len(), 2);
        assert_eq!(resources[0].address, "Pod default/<unnamed>");
        assert!(resources[0].attrs.get("containers").is_none());
        assert_eq!(resources[1].address, "Deployment default/web-*");
        assert_eq!(list(resources[1].attrs.get("containers").unwrap()).len(), 1);
        let (resources, diagnostics) = load_file(&Arc::from("bad.yaml"), "apiVersion: v1\nkind: [\n");
        assert!(resources.is_empty());
        assert_eq!(diagnostics[0].level, DiagnosticLevel::Error);
        assert_eq!(diagnostics[0].span.as_ref().unwrap().file.as_ref(), "bad.yaml");
    }

    #[test]
    fn json_manifest() {
        let text = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\"name\": \"j\", \"labels\": {\"app\": \"j\"}},\n  \"spec\": {\n    \"containers\": [\n      {\"name\": \"c\", \"image\": \"i\", \"ports\": [{\"containerPort\": 80}]}\n    ]\n  }\n}\n";
        let resources = load(text);
        assert_eq!(resources.len(), 1);
        assert_eq!(resources[0].address, "Pod default/j");
        let container = &list(resources[0].attrs.get("containers").unwrap())[0];
        assert_eq!(container.path("ports.containerPort").unwrap().value, Value::Int(80));
        assert_eq!(container.get("image").unwrap().span.as_ref().unwrap().start_line, 7);
        assert!(looks_like_kubernetes(text));
    }

    #[test]
    fn content_detection() {
        assert!(looks_like_kubernetes(DEPLOYMENT));
        assert!(looks_like_kubernetes("# c\nfoo: 1\n---\n\"apiVersion\": v1\nkind: ConfigMap\n"));
        assert!(!looks_like_kubernetes("apiVersion: v1\n---\nkind: ConfigMap\n"));
        assert!(!looks_like_kubernetes("spec:\n  apiVersion: v1\n  kind: x\n"));
        assert!(!looks_like_kubernetes("{\"format_version\": \"1.2\", \"kind\": \"x\"}"));
        assert!(looks_like_kubernetes("[{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}]"));
        assert!(!looks_like_kubernetes("replicaCount: 1\n"));
    }

    /// Every YAML file and every JSON object/array file of the shared corpus loads without an
    /// error, except Helm chart templates (Go templates, not YAML).
    #[test]
    fn corpus_loads_without_errors() {
        let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus"));
        if !root.is_dir() {
            println!("corpus not found at {}: skipped", root.display());
            return;
        }
        let mut files = Vec::new();
        collect_corpus(root, &mut files, false);
        files.sort();
        let started = Instant::now();
        let (mut loaded, mut bytes, mut resources, mut failures) = (0usize, 0usize, 0usize, Vec::new());
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else { continue };
            if path.extension().is_some_and(|e| e == "json")
                && !matches!(serde_json::from_str::<serde_json::Value>(&text), Ok(serde_json::Value::Object(_) | serde_json::Value::Array(_)))
            {
                continue;
            }
            let name: Arc<str> = Arc::from(path.strip_prefix(root).unwrap_or(path).to_string_lossy().as_ref());
            let (found, diagnostics) = load_file(&name, &text);
            loaded += 1;
            bytes += text.len();
            resources += found.len();
            failures.extend(diagnostics.into_iter().filter(|d| d.level == DiagnosticLevel::Error).map(|d| d.to_string()));
        }
        println!("corpus: {loaded} files, {bytes} bytes, {resources} resources in {:?}", started.elapsed());
        assert!(loaded > 100, "only {loaded} corpus files found");
        assert!(failures.is_empty(), "{} files failed:\n{}", failures.len(), failures.join("\n"));
    }

    /// Skips `templates/` of Helm charts, and other files of a chart that are Go templates
    /// too (istio's `files/injection-template.yaml` is rendered with `tpl`).
    fn collect_corpus(dir: &Path, out: &mut Vec<PathBuf>, in_chart: bool) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let is_chart = dir.join("Chart.yaml").is_file();
        let in_chart = in_chart || is_chart;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                if !(is_chart && entry.file_name() == "templates") {
                    collect_corpus(&path, out, in_chart);
                }
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json") {
                let go_template = in_chart && std::fs::read_to_string(&path).is_ok_and(|t| t.contains("{{"));
                if !go_template {
                    out.push(path);
                }
            }
        }
    }
}
