//! The one resource model every source produces and every rule reads.
//!
//! Sources (Terraform, Kubernetes, later live AWS and live clusters) turn their input into
//! [`Resource`]s whose attributes are [`Node`]s: a value plus where it came from. Rules never
//! see file formats, only this model, so one rule judges every source.

pub mod date;
mod finding;
mod lines;
pub mod pattern;
mod stored;
mod value;

pub use date::Date;
pub use finding::{BaselineState, Finding, Outcome, Severity, Suppression, SuppressionKind};
pub use lines::LineIndex;
pub use stored::{Store, StoreBuilder, Stored};
pub use value::{after_apply_reason, Node, Value, EXISTS_KEY};

use std::fmt;
use std::sync::Arc;

/// A place in a scanned file: repository-relative path, 1-based lines and columns
/// (columns count Unicode scalar values, which is what SARIF consumers display).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub file: Arc<str>,
    pub start_line: u32,
    pub start_col: u32,
    pub end_line: u32,
    pub end_col: u32,
}

impl Span {
    pub fn new(file: Arc<str>, start_line: u32, start_col: u32, end_line: u32, end_col: u32) -> Self {
        Span { file, start_line, start_col, end_line, end_col }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.start_line, self.start_col)
    }
}

/// Which kind of input a resource came from. Rules name the sources they apply to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Terraform HCL, `.tf.json` and plan JSON.
    Tf,
    /// Rendered Kubernetes / Helm YAML or JSON.
    K8s,
    /// A live AWS account.
    Aws,
    /// A live Kubernetes (EKS) cluster.
    Eks,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Tf => "tf",
            SourceKind::K8s => "k8s",
            SourceKind::Aws => "aws",
            SourceKind::Eks => "eks",
        }
    }
}

/// One resource of the model: a Terraform resource instance, or a Kubernetes object.
#[derive(Clone, Debug)]
pub struct Resource {
    pub source: SourceKind,
    /// Terraform resource type (`aws_s3_bucket`) or Kubernetes kind (`Deployment`).
    pub rtype: String,
    /// Terraform address (`module.tenant.aws_s3_bucket.bronze["dst-001"]`) or
    /// `Kind namespace/name` for Kubernetes.
    pub address: String,
    /// The whole block or document.
    pub span: Span,
    /// The attributes, always a [`Value::Map`].
    pub attrs: Node,
    /// Where a report should say the resource was authored when that differs from `span`:
    /// the chart template named by Helm's `# Source:` comment.
    pub template: Option<String>,
    /// The render that made this object, when a tool made it from files of the scan (`chart
    /// services/api with values-prod.yaml`, `kustomize overlay k8s/overlays/prod`, `Argo CD
    /// Application argocd/api-prod`). One chart or base rendered for two environments gives
    /// two objects with one address: the render tells their findings apart.
    pub render: Option<Arc<str>>,
    /// For resources inside Terraform modules: the module call blocks, outermost first.
    pub call_chain: Vec<Span>,
    /// For live resources (an AWS account, a cluster): where the resource runs.
    pub live: Option<Arc<LiveOrigin>>,
    /// Where the resource's references name other resources: its Terraform root module (or
    /// plan file), whose addresses another root module may repeat (`envs/dev` and `envs/prod`
    /// both declaring `aws_kms_key.data`). `None` for Kubernetes objects and live resources,
    /// which join across everything scanned, as one cluster or account.
    pub join_scope: Option<Arc<str>>,
}

impl Resource {
    /// Marks the resource as declared for environment `name` of the config (ENV-004,
    /// ENV-005): an attribute rules read, and a render reports name it by (the same address
    /// in two environments is two resources).
    pub fn set_environment(&mut self, name: &str) {
        self.attrs.insert(ENVIRONMENT_KEY, Node::new(Value::Str(name.to_string()), None));
        self.render = Some(format!("environment {name}").into());
    }

    /// A Terraform resource, variable, provider or backend, as the HCL and plan loaders make
    /// them; the join scope is set once the root module is known.
    pub fn terraform(rtype: String, address: String, span: Span, attrs: Node, call_chain: Vec<Span>) -> Self {
        Resource { source: SourceKind::Tf, rtype, address, span, attrs, template: None, render: None, call_chain, live: None, join_scope: None }
    }
}

/// The attribute that names a resource's environment (the config's `environments:`), for
/// the rules that compare environments (ENV-004, ENV-005).
pub const ENVIRONMENT_KEY: &str = "__environment";
/// The attribute that matches a live resource with the same resource in another
/// environment's account (ENV-004): its type, region and name with the environment's words
/// replaced; an unknown when it has no name to be matched by. Code is matched by address.
pub const MIRROR_KEY: &str = "__mirror";
/// The rule that compares an environment's resources with another's: an [`Unseen`] part of
/// the audit meant for it alone (the other environment's account was not audited) leaves
/// what it compares with unknown, as a failed read does for every rule.
pub const MIRROR_RULE: &str = "ENV-004";

/// Where a live resource runs. Live resources have no source text of their own: their `span`
/// points at the code that manages them when that is known (the Terraform resource a
/// `--tfstate` names, the chart template of a Helm release), else at the audit's
/// configuration file, so every finding has a physical location GitHub code scanning accepts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct LiveOrigin {
    /// The ARN, or `cluster/namespace/kind/name` for a cluster object.
    pub id: String,
    /// The AWS account id, or the cluster name.
    pub scope: String,
    /// The AWS region; `None` for cluster objects.
    pub region: Option<String>,
    /// The Terraform address (or Helm chart template) that manages the resource, when known.
    pub managed_by: Option<String>,
    /// The configuration's name for the account (`environments:` in charterguard.yaml), when
    /// it names one: reports show `111111111111 (production)` wherever they show the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

impl LiveOrigin {
    /// A cluster object, or (with `*` for the namespace or name) a part of a cluster: its id is
    /// `cluster/namespace/kind/name`, the namespace empty for cluster-scoped objects.
    pub fn cluster_object(cluster: &str, namespace: &str, kind: &str, name: &str, managed_by: Option<String>) -> Self {
        LiveOrigin { id: format!("{cluster}/{namespace}/{kind}/{name}"), scope: cluster.to_string(), region: None, managed_by, environment: None }
    }

    /// The account or cluster as reports name it: its id, and the environment the
    /// configuration gives it (`111111111111 (production)`).
    pub fn scope_label(&self) -> String {
        match &self.environment {
            Some(environment) => format!("{} ({environment})", self.scope),
            None => self.scope.clone(),
        }
    }

    /// The namespace, kind and name of a cluster object's id. Read from the right: a cluster
    /// name may hold slashes (an EKS cluster ARN), namespaces, kinds and names cannot.
    pub fn cluster_path(&self) -> Option<(&str, &str, &str)> {
        let mut parts = self.id.rsplitn(4, '/');
        let (name, kind, namespace) = (parts.next()?, parts.next()?, parts.next()?);
        parts.next().map(|_| (namespace, kind, name))
    }
}

/// Part of a live source that could not be read (an API call denied, throttled past its
/// retries, a region that did not answer): the resources of `resource_types` there are
/// unknown, so every rule that judges them could not decide. Never a pass.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unseen {
    /// The live source (`aws`, `eks`): only rules that judge it are affected.
    pub source: SourceKind,
    /// What could not be seen, named like the resources it hides
    /// (`arn:aws:rds:ap-south-1:123456789012:db:*`), with its account and region.
    pub origin: LiveOrigin,
    /// The resource types the failed call would have produced.
    pub resource_types: Vec<String>,
    /// Only this rule could not decide (e.g. ENV-003 without a state file); `None`: every
    /// rule that judges `resource_types`.
    pub rule: Option<String>,
    /// Why, e.g. `rds:DescribeDBInstances failed: AccessDenied: ...`.
    pub reason: String,
    /// Where findings about it point (the audit's configuration file).
    pub span: Span,
}

/// Something that stopped part of the input from being read completely. It is reported
/// (and makes the exit code 2 when it is an error); the rest of the scan goes on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub level: DiagnosticLevel,
    /// `file:line:col` is in `span` when known, else just the file in `file`.
    pub file: String,
    pub span: Option<Span>,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiagnosticLevel {
    /// Input could not be read or parsed: the exit code says so.
    Error,
    /// Input deliberately not evaluated (binary file, too large, remote module).
    Note,
    /// A live source could not read part of what it audits (an API call denied, a region
    /// that did not answer): the rules it feeds could not decide. Reported as an error; the
    /// exit code is 2 unless the audit runs with `--allow-partial`.
    #[serde(rename = "error")]
    Incomplete,
}

impl Diagnostic {
    pub fn error(file: impl Into<String>, span: Option<Span>, message: impl Into<String>) -> Self {
        Diagnostic { level: DiagnosticLevel::Error, file: file.into(), span, message: message.into() }
    }
    pub fn note(file: impl Into<String>, span: Option<Span>, message: impl Into<String>) -> Self {
        Diagnostic { level: DiagnosticLevel::Note, file: file.into(), span, message: message.into() }
    }
    pub fn incomplete(file: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic { level: DiagnosticLevel::Incomplete, file: file.into(), span: None, message: message.into() }
    }
    /// Errors and incomplete live reads are both reported as errors.
    pub fn is_error(&self) -> bool {
        matches!(self.level, DiagnosticLevel::Error | DiagnosticLevel::Incomplete)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.span {
            Some(span) => write!(f, "{}: {}", span, self.message),
            // A live source's diagnostics concern no file (their message names what they concern).
            None if self.file.is_empty() => f.write_str(&self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Everything the sources loaded: resources plus what could not be loaded.
#[derive(Default, Debug)]
pub struct Model {
    pub resources: Vec<Resource>,
    pub diagnostics: Vec<Diagnostic>,
    /// Files read (for the summary line).
    pub files_scanned: usize,
    /// What live sources could not see.
    pub unseen: Vec<Unseen>,
}

impl Model {
    /// The parts one after the other.
    pub fn concat(parts: impl IntoIterator<Item = Model>) -> Model {
        let mut model = Model::default();
        parts.into_iter().for_each(|part| model.extend(part));
        model
    }

    pub fn extend(&mut self, other: Model) {
        self.resources.extend(other.resources);
        self.diagnostics.extend(other.diagnostics);
        self.files_scanned += other.files_scanned;
        self.unseen.extend(other.unseen);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_paths_are_read_from_the_right() {
        let origin = LiveOrigin::cluster_object("arn:aws:eks:ap-south-1:123456789012:cluster/prod", "altscore-api", "Deployment", "web", None);
        assert_eq!(origin.id, "arn:aws:eks:ap-south-1:123456789012:cluster/prod/altscore-api/Deployment/web");
        assert_eq!(origin.cluster_path(), Some(("altscore-api", "Deployment", "web")));
        assert_eq!(LiveOrigin::cluster_object("prod", "", "Namespace", "a", None).cluster_path(), Some(("", "Namespace", "a")));
        let arn = LiveOrigin { id: "arn:aws:s3:::bucket".into(), scope: "1".into(), region: None, managed_by: None, environment: None };
        assert_eq!(arn.cluster_path(), None);
    }
}
