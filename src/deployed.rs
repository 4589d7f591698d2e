//! What the Kubernetes files of a scan deploy. Helm charts, kustomizations and Argo CD
//! Applications are rendered the way they are deployed, and what a render reads (a chart's
//! templates, a kustomization's resources and patches, an Application's directory) is judged
//! through that render, never raw.
//!
//! An Application that deploys a chart, an overlay or a directory of the repository replaces
//! that target's own render: what Argo CD applies is what counts, once per Application (so the
//! production and the staging render are judged apart).

use crate::argocd::{self, Application, Source};
use crate::config::{ChartSettings, Config};
use crate::helm::{ChartRender, Render};
use crate::kubernetes::{self, Landing};
use crate::model::{Diagnostic, LiveOrigin, Model, SourceKind, Span, Unseen};
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Where the scan's deployments are read from.
pub struct Context<'a> {
    pub config: &'a Config,
    /// The scanned paths.
    pub roots: &'a [PathBuf],
    /// Paths in reports are relative to it.
    pub base: &'a Path,
}

/// One render to run.
enum Job {
    Chart(ChartRender),
    /// A kustomization, with the edits an Argo CD Application asks for, into `namespace` (the
    /// Application's destination; `None`: the kubectl context's).
    Kustomize {
        dir: PathBuf,
        edits: crate::kustomize::Edits,
        label: String,
        namespace: Option<String>,
    },
    /// Plain manifests an Application deploys into `namespace`.
    Directory {
        files: Vec<PathBuf>,
        namespace: Option<String>,
        label: String,
    },
}

/// The renders a scan runs, and the files they consume.
#[derive(Default)]
pub struct Plan {
    jobs: Vec<Job>,
    /// Canonical paths of manifest files judged through a render.
    consumed: HashSet<PathBuf>,
    /// What planning found: located errors, notes, sources outside the repository.
    found: Model,
}

impl Plan {
    /// Whether `file` is judged through a render rather than raw.
    pub fn consumes(&self, file: &Path) -> bool {
        !self.consumed.is_empty() && canonical(file).is_some_and(|file| self.consumed.contains(&file))
    }

    /// Runs every render (in parallel) and returns their objects with what planning found.
    pub fn run(self, base: &Path) -> Vec<Model> {
        let mut models: Vec<Model> = self.jobs.par_iter().map(|job| run(job, base)).collect();
        models.push(self.found);
        models
    }
}

/// Decides what to render: every Application of `manifests` that deploys from the repository,
/// then every chart no Application deploys, with the config's value sets or its defaults, and
/// every kustomization that neither an Application nor another kustomization uses.
pub fn plan(manifests: &[PathBuf], charts: &[PathBuf], kustomizations: &[PathBuf], context: &Context) -> Plan {
    let mut plan = Plan::default();
    let survey = crate::kustomize::survey(kustomizations, context.base);
    plan.consumed.extend(survey.used.iter().cloned());
    plan.found.diagnostics.extend(survey.diagnostics.iter().cloned());
    let repository = Repository::of(context);
    let mut deployed: HashSet<PathBuf> = HashSet::new();
    for application in applications(manifests, context.base) {
        for source in &application.sources {
            plan_source(&application, source, &repository, &mut deployed, &mut plan);
        }
    }
    for chart in charts {
        if canonical(chart).is_some_and(|c| deployed.contains(&c)) {
            continue;
        }
        plan_chart(chart, context, &mut plan);
    }
    for root in &survey.roots {
        if canonical(root).is_some_and(|r| deployed.contains(&r)) {
            continue;
        }
        // Survey paths are canonical: shown relative to the canonical base.
        let base = canonical(context.base).unwrap_or_else(|| context.base.to_path_buf());
        let label = format!("kustomization {}", crate::input::display_path(root, &base));
        plan.jobs.push(Job::Kustomize { dir: root.clone(), edits: crate::kustomize::Edits::default(), label, namespace: None });
    }
    plan
}

/// The scanned repository: its root (Applications' `path` is relative to it) and the URLs it
/// is known by.
struct Repository {
    root: PathBuf,
    urls: Vec<String>,
}

impl Repository {
    /// The root is the config's `argocd.root`, else the config file's directory, else the git
    /// repository holding the first scanned path, else that path.
    fn of(context: &Context) -> Repository {
        let first = context.roots.first().cloned().unwrap_or_else(|| context.base.to_path_buf());
        let git_root = first.ancestors().find(|dir| dir.join(".git").exists()).map(Path::to_path_buf);
        let config = context.config;
        let root = match (&config.argocd.root, &config.dir) {
            (Some(root), Some(dir)) => dir.join(root),
            (Some(root), None) => root.clone(),
            (None, Some(dir)) => dir.clone(),
            (None, None) => git_root.clone().unwrap_or(first),
        };
        let remotes = git_root.iter().flat_map(|dir| argocd::git_remote_urls(dir));
        let urls = config.argocd.repo_urls.iter().cloned().chain(remotes).map(|url| argocd::normalize_repo_url(&url)).collect();
        Repository { root, urls }
    }

    fn holds(&self, repo_url: &str) -> bool {
        self.urls.contains(&argocd::normalize_repo_url(repo_url))
    }
}

/// The Applications among the manifests (files that mention `argoproj.io` are parsed here
/// too; their other objects are judged as usual).
fn applications(manifests: &[PathBuf], base: &Path) -> Vec<Application> {
    // Only files that declare one are parsed twice: Argo CD's own install manifests name the
    // kind in its CustomResourceDefinition, indented.
    let declares = |text: &String| text.contains("argoproj.io") && kubernetes::declares_kind(text, "Application");
    let found: Vec<Vec<Application>> = manifests
        .par_iter()
        .filter_map(|path| std::fs::read_to_string(path).ok().filter(declares).map(|text| (path, text)))
        .map(|(path, text)| {
            // A parse error is reported when the file is loaded as a manifest.
            let (resources, _) = kubernetes::load_file(&crate::input::display_path(path, base), &text);
            resources.iter().filter(|r| argocd::is_application(r)).map(argocd::application).collect()
        })
        .collect();
    found.into_iter().flatten().collect()
}

fn plan_source(application: &Application, source: &Source, repository: &Repository, deployed: &mut HashSet<PathBuf>, plan: &mut Plan) {
    let mut label = match &application.environment {
        Some(environment) => format!("Argo CD {} ({environment})", application.address),
        None => format!("Argo CD {}", application.address),
    };
    // What it deploys from the repository: the overlay, chart or directory.
    if let Some(path) = &source.path {
        label = format!("{label}: {}", path.text);
    }
    // A source that only lends its files to another one's `$ref` values deploys nothing.
    if source.ref_name.is_some() && source.path.is_none() && source.chart.is_none() {
        return;
    }
    if source.chart.is_some() || !repository.holds(&source.repo_url) {
        let what = source.chart.as_ref().map_or_else(|| source.repo_url.clone(), |chart| format!("chart {chart} of {}", source.repo_url));
        let reason = format!(
            "it deploys {what}, which is not in the scanned repository: render it and scan the output, or add its repoURL to argocd.repo_urls in charterguard.yaml if it is this repository"
        );
        plan.found.unseen.push(unseen(application, &source.span, reason));
        return;
    }
    let Some(path) = &source.path else { return };
    let Some(dir) = inside(&repository.root, &path.text) else {
        let message = format!("{}: path {} is not a directory of the repository ({})", application.address, path.text, repository.root.display());
        plan.found.diagnostics.push(Diagnostic::error(path.span.file.to_string(), Some(path.span.clone()), message));
        return;
    };
    deployed.extend(canonical(&dir));
    if dir.join("Chart.yaml").is_file() {
        plan_application_chart(application, source, &dir, repository, label, plan);
    } else if crate::kustomize::kustomization_file(&dir).is_some() {
        let edits = source.kustomize.clone().unwrap_or_default();
        plan.jobs.push(Job::Kustomize { dir, edits, label, namespace: application.namespace.clone() });
    } else {
        let options = source.directory.clone().unwrap_or_default();
        let files = directory_files(&dir, &options);
        plan.consumed.extend(files.iter().filter_map(|f| canonical(f)));
        plan.jobs.push(Job::Directory { files, namespace: application.namespace.clone(), label });
    }
}

/// `root/path` when it is a directory that does not leave `root`.
fn inside(root: &Path, path: &str) -> Option<PathBuf> {
    let relative = Path::new(path.trim_start_matches("./"));
    if relative.components().any(|c| matches!(c, Component::ParentDir | Component::RootDir | Component::Prefix(_))) {
        return None;
    }
    let dir = if path == "." || path.is_empty() { root.to_path_buf() } else { root.join(relative) };
    dir.is_dir().then_some(dir)
}

fn unseen(application: &Application, span: &Span, reason: String) -> Unseen {
    Unseen {
        source: SourceKind::K8s,
        origin: LiveOrigin { id: application.address.clone(), scope: String::new(), region: None, managed_by: None, environment: None },
        resource_types: kubernetes::UNRENDERED_KINDS.iter().map(|k| k.to_string()).collect(),
        rule: None,
        reason,
        span: span.clone(),
    }
}

fn plan_application_chart(application: &Application, source: &Source, chart: &Path, repository: &Repository, label: String, plan: &mut Plan) {
    let helm = source.helm.clone().unwrap_or_default();
    let mut values_files = Vec::new();
    for file in &helm.value_files {
        let path = match file.text.strip_prefix('$').and_then(|rest| rest.split_once('/')) {
            // `$ref/path`: a file of the source whose `ref:` is `ref`, from its repository root.
            Some((reference, rest)) => match application.sources.iter().find(|s| s.ref_name.as_deref() == Some(reference)) {
                Some(other) if repository.holds(&other.repo_url) => repository.root.join(rest),
                Some(other) => {
                    let reason = format!("values file {} comes from {}, which is not in the scanned repository", file.text, other.repo_url);
                    plan.found.unseen.push(unseen(application, &file.span, reason));
                    return;
                }
                None => {
                    let message =
                        format!("{}: values file {} names a source `ref: {reference}` that the Application does not have", application.address, file.text);
                    plan.found.diagnostics.push(Diagnostic::error(file.span.file.to_string(), Some(file.span.clone()), message));
                    return;
                }
            },
            None => chart.join(&file.text),
        };
        if !path.is_file() {
            if helm.ignore_missing_value_files {
                continue;
            }
            let message = format!("{}: values file {} does not exist ({})", application.address, file.text, path.display());
            plan.found.diagnostics.push(Diagnostic::error(file.span.file.to_string(), Some(file.span.clone()), message));
            return;
        }
        values_files.push(path);
    }
    let mut sets = Vec::new();
    let mut set_strings = Vec::new();
    let mut added = inline_leaves(&helm);
    for parameter in &helm.parameters {
        added.push(crate::helm::set_leaf(&parameter.name, &parameter.value, parameter.span.clone()));
        let expression = format!("{}={}", parameter.name, parameter.value);
        if parameter.force_string {
            set_strings.push(expression);
        } else {
            sets.push(expression);
        }
    }
    let render = Render {
        chart: chart.to_path_buf(),
        release: helm.release_name.clone().unwrap_or_else(|| application.name.clone()),
        namespace: application.namespace.clone(),
        values_files,
        inline_values: helm.values.as_ref().map(|v| v.text.clone()),
        sets,
        set_strings,
    };
    plan.jobs.push(Job::Chart(ChartRender { render, label: Some(label), at: application.span.clone(), added }));
}

/// Where an Application's inline values are written: each leaf of `valuesObject`, or the
/// `values` text as a whole (its lines are inside a string).
fn inline_leaves(helm: &argocd::HelmOptions) -> Vec<crate::helm::Leaf> {
    if let Some(object) = &helm.values_object {
        return crate::helm::values_leaves(object);
    }
    let Some(values) = &helm.values else { return Vec::new() };
    let Ok(documents) = crate::yaml::load(&values.span.file, &values.text, &crate::yaml::Limits::default()) else { return Vec::new() };
    let leaves = documents.iter().flat_map(|d| crate::helm::values_leaves(&d.root));
    leaves.map(|leaf| crate::helm::Leaf { span: values.span.clone(), ..leaf }).collect()
}

/// The chart's renders from the config (one per `renders` entry), else one with its defaults.
fn plan_chart(chart: &Path, context: &Context, plan: &mut Plan) {
    let shown = crate::input::display_path(chart, context.base);
    let chart_file = crate::helm::chart_file_span(chart, context.base);
    if context.config.helm.skip {
        plan.found.diagnostics.push(Diagnostic::note(
            chart_file.file.to_string(),
            None,
            format!("Helm chart {shown} not rendered: the config says `helm: skip`"),
        ));
        return;
    }
    let settings = context.config.helm.charts.iter().find(|c| same_dir(&context.config.relative(&c.path), chart));
    let Some(settings) = settings else {
        let render = Render { chart: chart.to_path_buf(), release: "release".into(), namespace: None, ..Render::default() };
        plan.jobs.push(Job::Chart(ChartRender { render, label: Some(format!("chart {shown} (default values)")), at: chart_file, added: Vec::new() }));
        return;
    };
    let at = settings.span.clone().unwrap_or(chart_file);
    let base_render = chart_render(chart, settings);
    if settings.renders.is_empty() {
        plan.jobs.push(Job::Chart(ChartRender { render: base_render, label: Some(format!("chart {shown}")), at, added: Vec::new() }));
        return;
    }
    for named in &settings.renders {
        let mut render = base_render.clone();
        render.release = named.release.clone().unwrap_or(render.release);
        render.namespace = named.namespace.clone().or(render.namespace);
        render.values_files.extend(named.values.iter().map(|v| chart.join(v)));
        render.sets.extend(named.set.iter().cloned());
        let at = named.span.clone().unwrap_or_else(|| at.clone());
        plan.jobs.push(Job::Chart(ChartRender { render, label: Some(format!("chart {shown} ({})", named.name)), at, added: Vec::new() }));
    }
}

fn chart_render(chart: &Path, settings: &ChartSettings) -> Render {
    Render {
        chart: chart.to_path_buf(),
        release: settings.release.clone().unwrap_or_else(|| "release".into()),
        namespace: settings.namespace.clone(),
        values_files: settings.values.iter().map(|v| chart.join(v)).collect(),
        sets: settings.set.clone(),
        ..Render::default()
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (canonical(a), canonical(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

fn canonical(path: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok()
}

/// The manifest files of a plain directory source, as Argo CD picks them: `.yaml`, `.yml` and
/// `.json` files, in subdirectories only with `recurse`, filtered by `include`/`exclude`.
fn directory_files(dir: &Path, options: &argocd::DirectoryOptions) -> Vec<PathBuf> {
    let glob = |pattern: &Option<String>| {
        pattern.as_deref().and_then(|p| globset::GlobBuilder::new(p).literal_separator(false).build().ok()).map(|g| g.compile_matcher())
    };
    let (include, exclude) = (glob(&options.include), glob(&options.exclude));
    let walker = ignore::WalkBuilder::new(dir)
        .hidden(false)
        .git_ignore(false)
        .max_depth(if options.recurse { None } else { Some(1) })
        .sort_by_file_name(|a, b| a.cmp(b))
        .build();
    walker
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_some_and(|t| t.is_file()))
        .map(|entry| entry.into_path())
        .filter(|path| {
            let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            let relative = path.strip_prefix(dir).unwrap_or(path);
            let manifest = [".yaml", ".yml", ".json"].iter().any(|ext| name.ends_with(ext));
            manifest && include.as_ref().is_none_or(|g| g.is_match(relative)) && !exclude.as_ref().is_some_and(|g| g.is_match(relative))
        })
        .collect()
}

fn run(job: &Job, base: &Path) -> Model {
    match job {
        Job::Chart(render) => crate::helm::load(render, base),
        Job::Kustomize { dir, edits, label, namespace } => {
            let landing = namespace.as_deref().map_or(Landing::Kubectl, Landing::Namespace);
            crate::kustomize::render(dir, edits, label, landing, base)
        }
        Job::Directory { files, namespace, label } => {
            let landing = namespace.as_deref().map_or(Landing::Kubectl, Landing::Namespace);
            let label: Arc<str> = label.as_str().into();
            let mut model = Model::default();
            for file in files {
                let shown = crate::input::display_path(file, base);
                let text = match crate::input::read_text(file, &shown, "YAML and JSON") {
                    Ok(text) => text,
                    Err(diagnostic) => {
                        model.diagnostics.push(diagnostic);
                        continue;
                    }
                };
                let (mut resources, diagnostics) = kubernetes::load_rendered(&shown, &text, landing);
                resources.iter_mut().for_each(|r| r.render = Some(label.clone()));
                model.resources.extend(resources);
                model.diagnostics.extend(diagnostics);
                model.files_scanned += 1;
            }
            model
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_sources_pick_files_as_argo_cd_does() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        for file in ["a.yaml", "b.yml", "c.json", "notes.md", "skip.yaml", "sub/d.yaml"] {
            std::fs::write(root.join(file), "kind: ConfigMap\n").unwrap();
        }
        let names = |options: &argocd::DirectoryOptions| -> Vec<String> {
            directory_files(root, options).iter().map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned()).collect()
        };
        assert_eq!(names(&argocd::DirectoryOptions::default()), ["a.yaml", "b.yml", "c.json", "skip.yaml"]);
        let recurse = argocd::DirectoryOptions { recurse: true, ..Default::default() };
        assert_eq!(names(&recurse), ["a.yaml", "b.yml", "c.json", "skip.yaml", "sub/d.yaml"]);
        let filtered = argocd::DirectoryOptions { recurse: true, include: Some("{*.yaml,*.yml}".into()), exclude: Some("skip.yaml".into()) };
        assert_eq!(names(&filtered), ["a.yaml", "b.yml", "sub/d.yaml"]);
    }

    #[test]
    fn application_paths_stay_inside_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("apps/web")).unwrap();
        assert_eq!(inside(dir.path(), "apps/web"), Some(dir.path().join("apps/web")));
        assert_eq!(inside(dir.path(), "./apps/web"), Some(dir.path().join("apps/web")));
        assert_eq!(inside(dir.path(), "."), Some(dir.path().to_path_buf()));
        assert_eq!(inside(dir.path(), "../outside"), None);
        assert_eq!(inside(dir.path(), "/etc"), None);
        assert_eq!(inside(dir.path(), "apps/missing"), None);
    }
}
