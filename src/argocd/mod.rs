//! Argo CD `Application`s (argoproj.io/v1alpha1) read from the scanned manifests: what each
//! one deploys (its sources, how they are rendered, and where to), so the scan can render the
//! same thing Argo CD would and judge that.
//!
//! Only the reading is here. Which renders run, and which raw files they consume, is decided
//! with the rest of what the repository deploys (see [`crate::deployed`]).

use crate::model::{Node, Resource, Span, Value};

/// One Application, as far as the scan needs it.
#[derive(Clone, Debug)]
pub struct Application {
    /// `Application NAMESPACE/NAME`.
    pub address: String,
    pub name: String,
    /// The whole document, where findings about the Application itself point.
    pub span: Span,
    pub sources: Vec<Source>,
    /// `spec.destination.namespace`: where objects without a namespace land.
    pub namespace: Option<String>,
    /// The environment it deploys, for findings' names: its `environment` (or `env`) label,
    /// else what its values files or path spell (`values-prod.yaml`, `overlays/prod`).
    pub environment: Option<String>,
}

/// One entry of `spec.source` or `spec.sources`.
#[derive(Clone, Debug)]
pub struct Source {
    pub repo_url: String,
    /// A directory of the repository (git sources).
    pub path: Option<Located>,
    /// A chart of a Helm repository (`chart:` instead of `path:`): never in the scan.
    pub chart: Option<String>,
    /// `ref:`, which `$NAME/...` values files of other sources name.
    pub ref_name: Option<String>,
    pub helm: Option<HelmOptions>,
    /// `source.kustomize`: what Argo CD edits into the kustomization before building it.
    pub kustomize: Option<crate::kustomize::Edits>,
    pub directory: Option<DirectoryOptions>,
    pub span: Span,
}

/// A string with where it is written.
#[derive(Clone, Debug)]
pub struct Located {
    pub text: String,
    pub span: Span,
}

/// `source.helm`.
#[derive(Clone, Debug, Default)]
pub struct HelmOptions {
    pub release_name: Option<String>,
    /// Relative to the chart directory, or `$REF/path` for another source's repository.
    pub value_files: Vec<Located>,
    pub ignore_missing_value_files: bool,
    /// `values` (YAML text) or `valuesObject`, applied after the values files, as YAML text.
    pub values: Option<Located>,
    /// `valuesObject` itself, whose leaves say where each value is written.
    pub values_object: Option<Node>,
    pub parameters: Vec<Parameter>,
}

/// `source.helm.parameters[]`: a `--set` (or `--set-string` with `forceString`).
#[derive(Clone, Debug)]
pub struct Parameter {
    pub name: String,
    pub value: String,
    pub force_string: bool,
    pub span: Span,
}

/// `source.directory`.
#[derive(Clone, Debug, Default)]
pub struct DirectoryOptions {
    pub recurse: bool,
    /// Glob patterns Argo CD matches file names against (`{a.yaml,b.yaml}` alternatives).
    pub include: Option<String>,
    pub exclude: Option<String>,
}

/// True when `resource` is an Argo CD Application.
pub fn is_application(resource: &Resource) -> bool {
    resource.rtype == "Application" && resource.attrs.get("apiVersion").and_then(Node::as_str).is_some_and(|v| v.starts_with("argoproj.io/"))
}

/// Reads an Application resource.
pub fn application(resource: &Resource) -> Application {
    let spec = resource.attrs.get("spec");
    let sources: Vec<Source> = match spec.and_then(|s| s.get("sources")).map(|s| &s.value) {
        Some(Value::List(items)) => items.iter().map(|item| source(item, &resource.span)).collect(),
        _ => spec.and_then(|s| s.get("source")).map(|item| source(item, &resource.span)).into_iter().collect(),
    };
    let namespace =
        spec.and_then(|s| s.get("destination")).and_then(|d| d.get("namespace")).and_then(Node::as_str).filter(|n| !n.is_empty()).map(str::to_string);
    let name = resource.attrs.get("name").and_then(Node::as_str).unwrap_or("<unnamed>").to_string();
    let environment = environment(resource, &sources);
    Application { address: resource.address.clone(), name, span: resource.span.clone(), sources, namespace, environment }
}

fn source(node: &Node, fallback: &Span) -> Source {
    let text = |key: &str| node.get(key).and_then(Node::as_str).map(str::to_string);
    Source {
        repo_url: text("repoURL").unwrap_or_default(),
        path: node.get("path").and_then(|n| located(n, fallback)),
        chart: text("chart"),
        ref_name: text("ref"),
        helm: node.get("helm").map(|h| helm_options(h, fallback)),
        kustomize: node.get("kustomize").map(|k| kustomize_options(k, fallback)),
        directory: node.get("directory").map(directory_options),
        span: node.span.clone().unwrap_or_else(|| fallback.clone()),
    }
}

fn located(node: &Node, fallback: &Span) -> Option<Located> {
    let text = node.scalar_text()?;
    Some(Located { text, span: node.span.clone().unwrap_or_else(|| fallback.clone()) })
}

fn items(node: Option<&Node>) -> &[Node] {
    match node.map(|n| &n.value) {
        Some(Value::List(items)) => items,
        _ => &[],
    }
}

fn helm_options(node: &Node, fallback: &Span) -> HelmOptions {
    let values = match (node.get("valuesObject"), node.get("values")) {
        (Some(object), _) if matches!(object.value, Value::Map(_)) => {
            Some(Located { text: object.to_json().to_string(), span: object.span.clone().unwrap_or_else(|| fallback.clone()) })
        }
        (_, Some(text)) => located(text, fallback),
        _ => None,
    };
    let parameters = items(node.get("parameters"))
        .iter()
        .filter_map(|p| {
            let name = p.get("name").and_then(Node::scalar_text)?;
            let value = p.get("value").and_then(Node::scalar_text).unwrap_or_default();
            let force_string = matches!(p.get("forceString").map(|f| &f.value), Some(Value::Bool(true)));
            Some(Parameter { name, value, force_string, span: p.span.clone().unwrap_or_else(|| fallback.clone()) })
        })
        .collect();
    let values_object = node.get("valuesObject").filter(|object| matches!(object.value, Value::Map(_))).cloned();
    HelmOptions {
        values_object,
        release_name: node.get("releaseName").and_then(Node::scalar_text),
        value_files: items(node.get("valueFiles")).iter().filter_map(|f| located(f, fallback)).collect(),
        ignore_missing_value_files: matches!(node.get("ignoreMissingValueFiles").map(|f| &f.value), Some(Value::Bool(true))),
        values,
        parameters,
    }
}

fn pairs(node: Option<&Node>) -> Vec<(String, String)> {
    match node.map(|n| &n.value) {
        Some(Value::Map(entries)) => entries.iter().filter_map(|(k, v)| v.scalar_text().map(|v| (k.clone(), v))).collect(),
        _ => Vec::new(),
    }
}

fn kustomize_options(node: &Node, fallback: &Span) -> crate::kustomize::Edits {
    let text = |key: &str| node.get(key).and_then(Node::scalar_text).filter(|t| !t.is_empty());
    crate::kustomize::Edits {
        span: Some(node.span.clone().unwrap_or_else(|| fallback.clone())),
        images: items(node.get("images")).iter().filter_map(Node::scalar_text).collect(),
        name_prefix: text("namePrefix"),
        name_suffix: text("nameSuffix"),
        namespace: text("namespace"),
        common_labels: pairs(node.get("commonLabels")),
        common_annotations: pairs(node.get("commonAnnotations")),
    }
}

fn directory_options(node: &Node) -> DirectoryOptions {
    DirectoryOptions {
        recurse: matches!(node.get("recurse").map(|r| &r.value), Some(Value::Bool(true))),
        include: node.get("include").and_then(Node::scalar_text).filter(|t| !t.is_empty()),
        exclude: node.get("exclude").and_then(Node::scalar_text).filter(|t| !t.is_empty()),
    }
}

/// The environment an Application deploys: its label, else the first values file or path
/// whose name says it (`values-prod.yaml`, `envs/prod/values.yaml`, `overlays/prod`).
fn environment(resource: &Resource, sources: &[Source]) -> Option<String> {
    let labels = resource.attrs.get("metadata").and_then(|m| m.get("labels"));
    let label = ["environment", "env", "app.kubernetes.io/environment"].iter().find_map(|key| labels.and_then(|l| l.get(key)).and_then(Node::scalar_text));
    if label.is_some() {
        return label;
    }
    let value_files = sources.iter().flat_map(|s| s.helm.iter().flat_map(|h| h.value_files.iter().map(|f| f.text.as_str())));
    value_files
        .filter_map(environment_of_values_file)
        .next()
        .or_else(|| sources.iter().find_map(|s| s.path.as_ref().and_then(|p| environment_of_path(&p.text))))
}

/// `values-prod.yaml` or `prod.values.yaml` → `prod`; `envs/prod/values.yaml` → `prod`.
fn environment_of_values_file(file: &str) -> Option<String> {
    let name = file.rsplit('/').next()?;
    let stem = name.strip_suffix(".yaml").or_else(|| name.strip_suffix(".yml"))?;
    let named =
        stem.strip_prefix("values-").or_else(|| stem.strip_prefix("values_")).or_else(|| stem.strip_suffix(".values")).or_else(|| stem.strip_suffix("-values"));
    match named {
        Some(env) if !env.is_empty() => Some(env.to_string()),
        _ if stem == "values" => file.rsplit('/').nth(1).filter(|dir| !dir.is_empty() && !dir.starts_with('$')).map(str::to_string),
        _ => None,
    }
}

/// `overlays/prod` or `envs/prod` → `prod`.
fn environment_of_path(path: &str) -> Option<String> {
    let mut parts = path.trim_end_matches('/').rsplit('/');
    let last = parts.next()?;
    let parent = parts.next()?;
    ["overlays", "envs", "environments", "env"].contains(&parent).then(|| last.to_string())
}

/// A `repoURL` reduced to what identifies the repository: host and path, lower case, without
/// scheme, user, `.git` or trailing slash (`git@github.com:org/repo.git` and
/// `https://github.com/Org/repo` are one repository).
pub fn normalize_repo_url(url: &str) -> String {
    let url = url.trim();
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host_path)| host_path);
    // scp-like `host:org/repo`, unless the colon starts a port.
    let rest = match rest.split_once(':') {
        Some((host, path)) if !path.starts_with(|c: char| c.is_ascii_digit()) && !host.contains('/') => format!("{host}/{path}"),
        _ => rest.to_string(),
    };
    let rest = rest.trim_end_matches('/');
    rest.strip_suffix(".git").unwrap_or(rest).to_lowercase()
}

/// The remote URLs of the git repository at `root` (`url = ...` lines of `.git/config`).
pub fn git_remote_urls(root: &std::path::Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(root.join(".git/config")) else { return Vec::new() };
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("url"))
        .filter_map(|rest| rest.trim_start().strip_prefix('='))
        .map(|url| url.trim().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const APPLICATION: &str = "\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: api-prod
  namespace: argocd
spec:
  project: altscore
  source:
    repoURL: git@github.com:AltScore/services.git
    targetRevision: main
    path: charts/api
    helm:
      releaseName: api
      valueFiles:
        - values-prod.yaml
      valuesObject:
        replicaCount: 3
      parameters:
        - name: image.tag
          value: \"1.4.2\"
          forceString: true
  destination:
    server: https://kubernetes.default.svc
    namespace: altscore-api
";

    fn load(text: &str) -> Vec<Application> {
        let (resources, diagnostics) = crate::kubernetes::load_file(&Arc::from("app.yaml"), text);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        resources.iter().filter(|r| is_application(r)).map(application).collect()
    }

    #[test]
    fn an_application_says_what_it_renders_and_where() {
        let apps = load(APPLICATION);
        assert_eq!(apps.len(), 1);
        let app = &apps[0];
        assert_eq!(app.address, "Application argocd/api-prod");
        assert_eq!(app.namespace.as_deref(), Some("altscore-api"));
        assert_eq!(app.environment.as_deref(), Some("prod"));
        let source = &app.sources[0];
        assert_eq!(source.path.as_ref().map(|p| (p.text.as_str(), p.span.start_line)), Some(("charts/api", 11)));
        let helm = source.helm.as_ref().unwrap();
        assert_eq!(helm.release_name.as_deref(), Some("api"));
        assert_eq!(helm.value_files[0].text, "values-prod.yaml");
        assert_eq!(helm.value_files[0].span.start_line, 15);
        assert_eq!(helm.values.as_ref().map(|v| v.text.as_str()), Some("{\"replicaCount\":3}"));
        let parameter = &helm.parameters[0];
        assert_eq!((parameter.name.as_str(), parameter.value.as_str(), parameter.force_string), ("image.tag", "1.4.2", true));
    }

    #[test]
    fn multiple_sources_and_labels() {
        let text = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\n  labels: {environment: staging}\nspec:\n  sources:\n    - repoURL: https://charts.example.com\n      chart: web\n      helm: {valueFiles: [$values/envs/x.yaml]}\n    - repoURL: https://github.com/altscore/k8s-config\n      ref: values\n";
        let app = &load(text)[0];
        assert_eq!(app.environment.as_deref(), Some("staging"));
        assert_eq!(app.sources.len(), 2);
        assert_eq!(app.sources[0].chart.as_deref(), Some("web"));
        assert_eq!(app.sources[1].ref_name.as_deref(), Some("values"));
        assert_eq!(app.namespace, None);
    }

    #[test]
    fn other_kinds_named_application_are_not_argo_cd() {
        assert!(load("apiVersion: app.k8s.io/v1beta1\nkind: Application\nmetadata: {name: x}\n").is_empty());
    }

    #[test]
    fn environments_from_file_and_path_names() {
        assert_eq!(environment_of_values_file("values-prod.yaml").as_deref(), Some("prod"));
        assert_eq!(environment_of_values_file("envs/dev/values.yaml").as_deref(), Some("dev"));
        assert_eq!(environment_of_values_file("staging.values.yml").as_deref(), Some("staging"));
        assert_eq!(environment_of_values_file("values.yaml"), None);
        assert_eq!(environment_of_path("k8s/overlays/prod/").as_deref(), Some("prod"));
        assert_eq!(environment_of_path("charts/api"), None);
    }

    #[test]
    fn repository_urls_compare_by_host_and_path() {
        let same = [
            "git@github.com:AltScore/services.git",
            "https://github.com/altscore/services",
            "ssh://git@github.com/AltScore/services.git/",
            "https://user@github.com/AltScore/services.git",
        ];
        for url in same {
            assert_eq!(normalize_repo_url(url), "github.com/altscore/services", "{url}");
        }
        assert_eq!(normalize_repo_url("https://git.example.com:8443/a/b.git"), "git.example.com:8443/a/b");
        assert_ne!(normalize_repo_url("https://github.com/altscore/services-old"), normalize_repo_url("https://github.com/altscore/services"));
    }
}
