//! Where findings on objects of a Helm release point: the chart template that writes the
//! object's kind, when the chart is in the repository (`--chart [RELEASE=]DIR`). Helm marks
//! what it installs with the `meta.helm.sh/release-name` annotation and, in charts made with
//! `helm create`, the `helm.sh/chart: NAME-VERSION` label. A live object carries no `# Source:`
//! comment, so the template is found by kind, at the line writing `kind: <Kind>` (the first
//! such template and line, see [`crate::helm`]).

use crate::model::{Node, Span};
use anyhow::{bail, Context as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const RELEASE_ANNOTATION: &str = "meta.helm.sh/release-name";
pub const CHART_LABEL: &str = "helm.sh/chart";

/// `--chart [RELEASE=]DIR`: a chart directory, for the release named, else for every release
/// of the chart (by the `helm.sh/chart` label).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartSource {
    pub release: Option<String>,
    pub dir: PathBuf,
}

impl ChartSource {
    pub fn parse(text: &str) -> Result<ChartSource, String> {
        let (release, dir) = match text.split_once('=') {
            Some((release, dir)) if !release.is_empty() && !dir.is_empty() => (Some(release.to_string()), dir),
            Some(_) => return Err(format!("`{text}`: write DIR or RELEASE=DIR")),
            None => (None, text),
        };
        Ok(ChartSource { release, dir: PathBuf::from(dir) })
    }
}

/// The charts of the repository, loaded once.
#[derive(Default)]
pub struct Charts {
    charts: Vec<Chart>,
}

struct Chart {
    release: Option<String>,
    /// `name` of Chart.yaml.
    name: String,
    /// Template files (name as reports show it, text), sorted by name.
    templates: Vec<(Arc<str>, String)>,
}

impl Charts {
    /// Reads the charts; a directory that is not a chart is an error (a typo would otherwise
    /// silently point every finding at the configuration file).
    pub fn load(sources: &[ChartSource], base: &Path) -> anyhow::Result<Charts> {
        let mut charts = Vec::new();
        for source in sources {
            let dir = base.join(&source.dir);
            let manifest = dir.join("Chart.yaml");
            let text = std::fs::read_to_string(&manifest).with_context(|| format!("--chart {}: cannot read {}", source.dir.display(), manifest.display()))?;
            let Some(name) = chart_name(&text) else { bail!("--chart {}: Chart.yaml has no name", source.dir.display()) };
            let mut files = Vec::new();
            template_files(&dir.join("templates"), &mut files);
            files.sort();
            let templates = files.iter().filter_map(|f| Some((crate::input::display_path(f, base), std::fs::read_to_string(f).ok()?))).collect();
            charts.push(Chart { release: source.release.clone(), name, templates });
        }
        Ok(Charts { charts })
    }

    /// The template line that writes `object`'s kind, for an object a Helm release installed
    /// from one of the charts.
    pub fn template_of(&self, object: &Node) -> Option<Span> {
        let metadata = object.get("metadata")?;
        let release = metadata.get("annotations").and_then(|a| a.get(RELEASE_ANNOTATION)).and_then(Node::as_str)?;
        let label = metadata.get("labels").and_then(|l| l.get(CHART_LABEL)).and_then(Node::as_str);
        let chart = self
            .charts
            .iter()
            .find(|c| c.release.as_deref() == Some(release))
            .or_else(|| self.charts.iter().find(|c| c.release.is_none() && label.is_some_and(|l| names_chart(l, &c.name))))?;
        let kind = object.get("kind").and_then(Node::as_str)?;
        chart.templates.iter().find_map(|(file, text)| {
            let (line, start_col, end_col) = crate::helm::kind_line(text, kind, 0)?;
            Some(Span::new(file.clone(), line, start_col, line, end_col))
        })
    }
}

/// `helm.sh/chart: web-1.2.3` names chart `web` (the version starts with a digit).
fn names_chart(label: &str, name: &str) -> bool {
    label.strip_prefix(name).and_then(|rest| rest.strip_prefix('-')).is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit() || c == 'v'))
}

fn chart_name(chart_yaml: &str) -> Option<String> {
    let docs = crate::yaml::load(&Arc::from("Chart.yaml"), chart_yaml, &crate::yaml::Limits::default()).ok()?;
    docs.first()?.root.get("name").and_then(Node::as_str).map(str::to_string)
}

/// The YAML files under a chart's `templates/` (helpers and NOTES.txt are not objects).
fn template_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() {
            template_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: &str, release: Option<&str>, chart: Option<&str>) -> Node {
        let annotations = release.map(|r| serde_json::json!({ RELEASE_ANNOTATION: r }));
        let labels = chart.map(|c| serde_json::json!({ CHART_LABEL: c }));
        Node::from_json(serde_json::json!({"kind": kind, "metadata": {"name": "x", "annotations": annotations, "labels": labels}}))
    }

    #[test]
    fn objects_map_to_the_template_writing_their_kind() {
        let base = tempfile::tempdir().unwrap();
        let chart = base.path().join("charts/web");
        std::fs::create_dir_all(chart.join("templates/extra")).unwrap();
        std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: web\nversion: 1.2.3\n").unwrap();
        std::fs::write(chart.join("templates/deployment.yaml"), "apiVersion: apps/v1\n{{- /* c */}}\nkind: Deployment\n").unwrap();
        std::fs::write(chart.join("templates/extra/hpa.yml"), "  kind: HorizontalPodAutoscaler\n").unwrap();
        std::fs::write(chart.join("templates/_helpers.tpl"), "kind: Service\n").unwrap();
        let by_label = Charts::load(&[ChartSource::parse("charts/web").unwrap()], base.path()).unwrap();
        let span = by_label.template_of(&object("Deployment", Some("prod-web"), Some("web-1.2.3"))).unwrap();
        assert_eq!((&*span.file, span.start_line, span.start_col, span.end_col), ("charts/web/templates/deployment.yaml", 3, 1, 17));
        assert_eq!(by_label.template_of(&object("HorizontalPodAutoscaler", Some("prod-web"), Some("web-1.2.3"))).unwrap().start_col, 3);
        assert!(by_label.template_of(&object("Service", Some("prod-web"), Some("web-1.2.3"))).is_none(), "helpers are not templates of objects");
        assert!(by_label.template_of(&object("Deployment", None, Some("web-1.2.3"))).is_none(), "not installed by Helm");
        assert!(by_label.template_of(&object("Deployment", Some("prod-web"), Some("webhook-1.0.0"))).is_none());
        let by_release = Charts::load(&[ChartSource::parse("prod-web=charts/web").unwrap()], base.path()).unwrap();
        assert!(by_release.template_of(&object("Deployment", Some("prod-web"), None)).is_some());
        assert!(by_release.template_of(&object("Deployment", Some("other"), Some("web-1.2.3"))).is_none());
        assert!(Charts::load(&[ChartSource::parse("charts").unwrap()], base.path()).is_err(), "no Chart.yaml");
    }

    #[test]
    fn chart_sources_parse() {
        assert_eq!(ChartSource::parse("a=b/c"), Ok(ChartSource { release: Some("a".into()), dir: "b/c".into() }));
        assert_eq!(ChartSource::parse("b"), Ok(ChartSource { release: None, dir: "b".into() }));
        assert!(ChartSource::parse("=b").is_err());
        assert!(names_chart("web-v2", "web") && !names_chart("web-ui-1.0", "web") && !names_chart("web", "web"));
    }
}
