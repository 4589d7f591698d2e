//! The one resource model every source produces and every rule reads.
//!
//! Sources (Terraform, Kubernetes, later live AWS and live clusters) turn their input into
//! [`Resource`]s whose attributes are [`Node`]s: a value plus where it came from. Rules never
//! see file formats, only this model, so one rule judges every source.

mod lines;
mod value;

pub use lines::LineIndex;
pub use value::{Node, Value};

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
    /// For resources inside Terraform modules: the module call blocks, outermost first.
    pub call_chain: Vec<Span>,
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
}

impl Diagnostic {
    pub fn error(file: impl Into<String>, span: Option<Span>, message: impl Into<String>) -> Self {
        Diagnostic { level: DiagnosticLevel::Error, file: file.into(), span, message: message.into() }
    }
    pub fn note(file: impl Into<String>, span: Option<Span>, message: impl Into<String>) -> Self {
        Diagnostic { level: DiagnosticLevel::Note, file: file.into(), span, message: message.into() }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.span {
            Some(span) => write!(f, "{}: {}", span, self.message),
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
}

impl Model {
    pub fn extend(&mut self, other: Model) {
        self.resources.extend(other.resources);
        self.diagnostics.extend(other.diagnostics);
        self.files_scanned += other.files_scanned;
    }
}
