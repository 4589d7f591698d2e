//! `scan --helm CHART`: render a chart with the `helm` binary on PATH and point findings at
//! the chart's template files.
//!
//! The rendered text is scanned like YAML from standard input: it is one stream, named
//! [`stream_name`], whose `# Source:` comments name the templates. After loading,
//! [`map_to_chart`] moves every resource whose template is a file of the chart directory onto
//! that file, because a code-scanning alert must point at a file of the repository, and the
//! rendered stream is not one.
//!
//! Which template line produced a rendered attribute cannot be known: templates are Go
//! templates (`include`, `range`, `toYaml` of values ...). So the mapping is deliberately
//! coarse and honest: every position of the resource becomes the line of the template where
//! `kind: <Kind>` is written (the n-th such line for the n-th object of that kind rendered from
//! the template, the first when a `range` made more objects than there are such lines), or line 1
//! when the kind is not written literally. The exact lines in the rendered stream are kept in
//! the resource's `template` property (`chart/templates/x.yaml (helm template output lines
//! 12-40)`), which reports print. Resources whose template is not on disk under the chart
//! directory (a subchart from an archive) keep pointing at the rendered stream.

mod values;

pub use values::{leaves as values_leaves, set_leaf, Leaf};

use crate::kubernetes::Landing;
use crate::model::{Diagnostic, Model, Node, Resource, Span, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// One `helm template` invocation.
#[derive(Clone, Debug, Default)]
pub struct Render {
    pub chart: PathBuf,
    pub release: String,
    /// `--namespace`; helm's own default (`default`) when `None`.
    pub namespace: Option<String>,
    /// `-f` files, in order (later files win, as in helm).
    pub values_files: Vec<PathBuf>,
    /// Values as YAML text (Argo CD's `values`/`valuesObject`), after the values files.
    pub inline_values: Option<String>,
    /// `--set k=v` expressions, applied after the values files.
    pub sets: Vec<String>,
    /// `--set-string k=v` expressions (Argo CD's `forceString` parameters).
    pub set_strings: Vec<String>,
}

/// The `helm template` command line for `render`, without the program name; `inline` is the
/// file holding `render.inline_values`.
pub fn arguments(render: &Render, inline: Option<&Path>) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = vec!["template".into(), render.release.clone().into(), render.chart.clone().into_os_string()];
    if let Some(namespace) = &render.namespace {
        args.push("--namespace".into());
        args.push(namespace.into());
    }
    for file in &render.values_files {
        args.push("-f".into());
        args.push(file.clone().into_os_string());
    }
    if let Some(file) = inline {
        args.push("-f".into());
        args.push(file.as_os_str().to_owned());
    }
    for (flag, expressions) in [("--set", &render.sets), ("--set-string", &render.set_strings)] {
        for expression in expressions {
            args.push(flag.into());
            args.push(expression.into());
        }
    }
    args
}

/// Why `helm template` did not run.
#[derive(Debug)]
pub enum Failure {
    /// No `helm` on PATH.
    NoHelm,
    /// A values file does not exist.
    MissingValues(PathBuf),
    /// helm could not be run, or failed (its standard error is in the text).
    Failed(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::NoHelm => f.write_str("the helm binary is not on PATH"),
            Failure::MissingValues(path) => write!(f, "values file {} does not exist", path.display()),
            Failure::Failed(text) => f.write_str(text),
        }
    }
}

/// Runs `helm template` and returns its output.
pub fn render(render: &Render) -> Result<String, Failure> {
    if let Some(missing) = render.values_files.iter().find(|file| !file.is_file()) {
        return Err(Failure::MissingValues(missing.clone()));
    }
    let inline =
        render.inline_values.as_deref().map(inline_values_file).transpose().map_err(|e| Failure::Failed(format!("cannot write the inline values: {e}")))?;
    let output = match Command::new("helm").args(arguments(render, inline.as_ref().map(|file| file.path()))).output() {
        Ok(output) => output,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(Failure::NoHelm),
        Err(error) => return Err(Failure::Failed(format!("cannot run helm: {error}"))),
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let status = output.status.code().map_or_else(|| "killed by a signal".to_string(), |c| format!("exit status {c}"));
        return Err(Failure::Failed(format!("`helm template` failed for chart {} ({status}):\n{}", render.chart.display(), stderr.trim_end())));
    }
    String::from_utf8(output.stdout).map_err(|_| Failure::Failed("`helm template` printed text that is not UTF-8".into()))
}

/// Inline values written to a temporary file for `-f` (removed when dropped).
fn inline_values_file(text: &str) -> std::io::Result<tempfile::NamedTempFile> {
    use std::io::Write as _;
    let mut file = tempfile::Builder::new().prefix("charterguard-values-").suffix(".yaml").tempfile()?;
    file.write_all(text.as_bytes())?;
    Ok(file)
}

/// One render of a chart found in the scanned files: what to render, the name findings give
/// it, and where an error about it points (the chart's `Chart.yaml`, or the config entry or
/// Argo CD Application that asks for the render).
pub struct ChartRender {
    pub render: Render,
    /// How findings name the render; `None` for `scan --helm`, the one render asked for.
    pub label: Option<String>,
    pub at: Span,
    /// Values the render adds besides its values files (an Argo CD Application's inline values
    /// and parameters), in the order they apply, with where each is written.
    pub added: Vec<Leaf>,
}

/// The release namespace a chart is rendered with when none is given: helm's own default
/// (`default`) would be indistinguishable from a chart that writes `namespace: default`.
const UNKNOWN_NAMESPACE: &str = "charterguard-release-namespace";

/// Why an object of a chart rendered without a release namespace has no namespace.
const NO_RELEASE_NAMESPACE: &str = "the object is in the release namespace, which helm install -n chooses: give the chart its namespace in charterguard.yaml (`helm: {charts: [{path: CHART, namespace: NS}]}`) to have it judged";

/// Renders a chart and loads its objects onto the chart's templates (see [`map_to_chart`]),
/// each named by the render's label. A render that fails loads nothing and is a located error:
/// nothing is judged from half a render.
pub fn load(chart_render: &ChartRender, base: &Path) -> Model {
    let ChartRender { render: request, label, at, added } = chart_render;
    let placeholder = Render { namespace: Some(UNKNOWN_NAMESPACE.into()), ..request.clone() };
    let text = match render(if request.namespace.is_some() { request } else { &placeholder }) {
        Ok(text) => text,
        Err(failure) => {
            let fix = match (&failure, label) {
                (Failure::NoHelm, Some(_)) => ": install helm, or set `helm: skip` in charterguard.yaml to leave charts unjudged",
                (Failure::NoHelm, None) => ": install helm, or pipe `helm template` output into `charterguard scan -`",
                _ => "",
            };
            let chart = crate::input::display_path(&request.chart, base);
            let message = format!("Helm chart {chart} not rendered: {failure}{fix}");
            return Model { diagnostics: vec![Diagnostic::error(at.file.to_string(), Some(at.clone()), message)], ..Model::default() };
        }
    };
    let stream: Arc<str> = stream_name(&request.chart, base).into();
    let landing = request.namespace.as_deref().map_or(Landing::Unknown(NO_RELEASE_NAMESPACE), Landing::Namespace);
    let (mut resources, diagnostics) = crate::kubernetes::load_rendered(&stream, &text, landing);
    map_to_chart(&mut resources, &stream, &request.chart, base);
    let mut leaves: Vec<Leaf> = request.values_files.iter().flat_map(|file| values::file_leaves(file, crate::input::display_path(file, base))).collect();
    leaves.extend(added.iter().cloned());
    for resource in &mut resources {
        forget_placeholder_namespace(resource);
        values::attribute(resource, &leaves);
    }
    let label: Option<Arc<str>> = label.as_deref().map(Arc::from);
    for resource in &mut resources {
        resource.render = label.clone();
    }
    Model { resources, diagnostics, files_scanned: 1, ..Model::default() }
}

/// Where errors about a chart point: its `Chart.yaml`.
pub fn chart_file_span(chart: &Path, base: &Path) -> Span {
    Span::new(crate::input::display_path(&chart.join("Chart.yaml"), base), 1, 1, 1, 1)
}

/// The name of the rendered stream in reports (the `file` of findings that cannot be mapped to
/// a template file).
pub fn stream_name(chart: &Path, base: &Path) -> String {
    format!("helm-template:{}", crate::input::display_path(chart, base))
}

/// Moves the resources loaded from the rendered stream `stream` onto their template files in
/// `chart` (see the module documentation for which line).
pub fn map_to_chart(resources: &mut [Resource], stream: &str, chart: &Path, base: &Path) {
    let mut texts: HashMap<PathBuf, Option<Arc<str>>> = HashMap::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for resource in resources.iter_mut() {
        if &*resource.span.file != stream {
            continue;
        }
        let Some(source) = resource.template.clone() else { continue };
        let Some(path) = template_file(chart, &source) else { continue };
        let text = texts.entry(path.clone()).or_insert_with(|| std::fs::read_to_string(&path).ok().map(Arc::from)).clone();
        let Some(text) = text else { continue };
        let occurrence = seen.entry((source.clone(), resource.rtype.clone())).or_insert(0);
        let (line, start_col, end_col) = kind_line(&text, &resource.rtype, *occurrence).unwrap_or((1, 1, 1));
        *occurrence += 1;
        let rendered = (resource.span.start_line, resource.span.end_line);
        let span = Span::new(crate::input::display_path(&path, base), line, start_col, line, end_col);
        resource.span = span.clone();
        retarget(&mut resource.attrs, stream, &span);
        resource.template = Some(format!("{source} (helm template output lines {}-{})", rendered.0, rendered.1));
    }
}

/// An object in [`UNKNOWN_NAMESPACE`] (the chart writes `{{ .Release.Namespace }}`) is in an
/// unknown namespace, addressed as `default` like any object whose namespace is unknown.
fn forget_placeholder_namespace(resource: &mut Resource) {
    if resource.attrs.get("namespace").and_then(Node::as_str) != Some(UNKNOWN_NAMESPACE) {
        return;
    }
    let span = resource.attrs.get("namespace").and_then(|n| n.span.clone());
    resource.attrs.insert("namespace", Node::new(Value::Unknown(NO_RELEASE_NAMESPACE.into()), span));
    resource.address = resource.address.replacen(&format!(" {UNKNOWN_NAMESPACE}/"), " default/", 1);
}

/// `<chart name>/templates/x.yaml` → `CHART/templates/x.yaml` when that file exists. The first
/// component is the chart's name from Chart.yaml, which need not be the directory's name.
fn template_file(chart: &Path, source: &str) -> Option<PathBuf> {
    let (_, rest) = source.split_once('/')?;
    if rest.split('/').any(|c| c == ".." || c.is_empty()) {
        return None;
    }
    let path = chart.join(rest);
    path.is_file().then_some(path)
}

/// The 1-based line and columns of the `occurrence`-th line `kind: <kind>` in a template (the
/// first one when there are fewer).
pub(crate) fn kind_line(text: &str, kind: &str, occurrence: usize) -> Option<(u32, u32, u32)> {
    let matches: Vec<(u32, u32, u32)> = text
        .lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let trimmed = line.trim_start();
            let value = trimmed.strip_prefix("kind:")?.trim();
            let value = value.split(" #").next().unwrap_or(value).trim().trim_matches(|c| c == '"' || c == '\'');
            (value == kind).then(|| {
                let indent = line.chars().count() - trimmed.chars().count();
                (index as u32 + 1, indent as u32 + 1, line.trim_end().chars().count() as u32 + 1)
            })
        })
        .collect();
    matches.get(occurrence).or(matches.first()).copied()
}

fn retarget(node: &mut Node, stream: &str, span: &Span) {
    if node.span.as_ref().is_some_and(|s| &*s.file == stream) {
        node.span = Some(span.clone());
    }
    match &mut node.value {
        Value::List(items) => items.iter_mut().for_each(|item| retarget(item, stream, span)),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, item)| retarget(item, stream, span)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_lines_are_found_in_order_and_fall_back_to_the_first() {
        let text = "{{- if .Values.a }}\napiVersion: v1\nkind: Service\n---\n  kind: \"Deployment\"\n---\nkind: Deployment # again\n";
        assert_eq!(kind_line(text, "Service", 0), Some((3, 1, 14)));
        assert_eq!(kind_line(text, "Deployment", 0), Some((5, 3, 21)));
        assert_eq!(kind_line(text, "Deployment", 1), Some((7, 1, 25)));
        assert_eq!(kind_line(text, "Deployment", 5), Some((5, 3, 21)));
        assert_eq!(kind_line(text, "Pod", 0), None);
    }

    #[test]
    fn arguments_keep_values_files_in_order() {
        let render = Render {
            chart: "c".into(),
            release: "r".into(),
            namespace: Some("ns".into()),
            values_files: vec!["a.yaml".into(), "b.yaml".into()],
            sets: vec!["x=1".into()],
            set_strings: vec!["y=2".into()],
            ..Render::default()
        };
        let args: Vec<String> = arguments(&render, Some(Path::new("inline.yaml"))).into_iter().map(|a| a.into_string().unwrap()).collect();
        assert_eq!(
            args,
            ["template", "r", "c", "--namespace", "ns", "-f", "a.yaml", "-f", "b.yaml", "-f", "inline.yaml", "--set", "x=1", "--set-string", "y=2"]
        );
    }
}
