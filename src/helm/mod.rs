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

use crate::model::{Node, Resource, Span, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// One `helm template` invocation.
#[derive(Clone, Debug)]
pub struct Render {
    pub chart: PathBuf,
    pub release: String,
    pub namespace: String,
    /// `-f` files, in order (later files win, as in helm).
    pub values_files: Vec<PathBuf>,
    /// `--set k=v` expressions, applied after the values files.
    pub sets: Vec<String>,
}

/// The `helm template` command line for `render`, without the program name.
pub fn arguments(render: &Render) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> =
        vec!["template".into(), render.release.clone().into(), render.chart.clone().into_os_string(), "--namespace".into(), render.namespace.clone().into()];
    for file in &render.values_files {
        args.push("-f".into());
        args.push(file.clone().into_os_string());
    }
    for set in &render.sets {
        args.push("--set".into());
        args.push(set.into());
    }
    args
}

/// Runs `helm template` and returns its output. Errors: helm is not on PATH, or helm failed
/// (its standard error is in the message).
pub fn render(render: &Render) -> anyhow::Result<String> {
    let output = match Command::new("helm").args(arguments(render)).output() {
        Ok(output) => output,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!("--helm needs the helm binary on PATH; or pipe `helm template` output into `charterguard scan -`")
        }
        Err(error) => anyhow::bail!("cannot run helm: {error}"),
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let status = output.status.code().map_or_else(|| "killed by a signal".to_string(), |c| format!("exit status {c}"));
        anyhow::bail!("`helm template` failed for chart {} ({status}):\n{}", render.chart.display(), stderr.trim_end());
    }
    String::from_utf8(output.stdout).map_err(|_| anyhow::anyhow!("`helm template` printed text that is not UTF-8"))
}

/// The name of the rendered stream in reports (the `file` of findings that cannot be mapped to
/// a template file).
pub fn stream_name(chart: &Path, base: &Path) -> String {
    format!("helm-template:{}", crate::terraform::display_path(chart, base))
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
        let span = Span::new(crate::terraform::display_path(&path, base), line, start_col, line, end_col);
        resource.span = span.clone();
        retarget(&mut resource.attrs, stream, &span);
        resource.template = Some(format!("{source} (helm template output lines {}-{})", rendered.0, rendered.1));
    }
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
            namespace: "ns".into(),
            values_files: vec!["a.yaml".into(), "b.yaml".into()],
            sets: vec!["x=1".into()],
        };
        let args: Vec<String> = arguments(&render).into_iter().map(|a| a.into_string().unwrap()).collect();
        assert_eq!(args, ["template", "r", "c", "--namespace", "ns", "-f", "a.yaml", "-f", "b.yaml", "--set", "x=1"]);
    }
}
