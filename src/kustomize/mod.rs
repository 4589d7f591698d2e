//! Kustomizations, judged as they are deployed: a directory holding `kustomization.yaml`
//! (`.yml`, `Kustomization`) is rendered with `kubectl kustomize DIR` (or `kustomize build
//! DIR`) and its output is judged, never the files it uses on their own (a patch alone is not
//! a Deployment).
//!
//! [`survey`] reads the kustomization files (YAML, without running kustomize): which
//! directories to render, which files they use, which bases are remote. [`render`] runs the
//! tool (with Argo CD's [`Edits`]) and points each rendered attribute at the file and line
//! that wrote it (see `trace`): rendered line numbers are only kept in the resource's
//! `template` (`kustomize build output lines 12-40`).
//!
//! A render is all or nothing: when the tool fails, no object is judged and the failure is a
//! located error. A kustomization that uses a remote base (a URL, `github.com/...`) is never
//! rendered, because kustomize would fetch it: the rules that would judge its objects could
//! not decide (an [`Unseen`]).

mod edits;
mod survey;
mod trace;

pub use edits::Edits;
pub use survey::{survey, Survey};

use crate::kubernetes::Landing;
use crate::model::{Diagnostic, LiveOrigin, Model, SourceKind, Span, Unseen};
use crate::yaml::{self, Limits};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use survey::{canonical, Kustomization, Target};

pub use crate::input::KUSTOMIZATION_FILE_NAMES as FILE_NAMES;

/// What a kustomization needs to be rendered.
const NO_TOOL: &str = "kustomization found and not rendered: needs `kubectl` or `kustomize` on PATH";

/// `kustomization.yaml`, `kustomization.yml` or `Kustomization` in `dir`.
pub fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    FILE_NAMES.iter().map(|name| dir.join(name)).find(|path| path.is_file())
}

/// The program that renders kustomizations.
#[derive(Clone, Debug)]
struct Tool {
    program: PathBuf,
    /// `kubectl kustomize DIR` rather than `kustomize build DIR`.
    kubectl: bool,
}

impl Tool {
    /// `kubectl`, else `kustomize`, from PATH.
    fn on_path() -> Option<Tool> {
        let paths: Vec<PathBuf> = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
        let find = |name: &str| paths.iter().map(|dir| dir.join(name)).find(|p| p.is_file());
        find("kubectl").map(|program| Tool { program, kubectl: true }).or_else(|| find("kustomize").map(|program| Tool { program, kubectl: false }))
    }

    fn name(&self) -> &'static str {
        if self.kubectl {
            "kubectl kustomize"
        } else {
            "kustomize build"
        }
    }

    /// Builds `dir`, with kustomize's default load restrictions (as `kubectl apply -k`), no
    /// plugins and no Helm: the survey keeps remote bases away, so it reads only local files
    /// and ends. Its standard error, trimmed to kustomize's message, when it fails.
    fn build(&self, dir: &Path) -> Result<String, String> {
        let verb = if self.kubectl { "kustomize" } else { "build" };
        let output = Command::new(&self.program).arg(verb).arg(dir).current_dir(dir).stdin(Stdio::null()).output();
        let output = output.map_err(|error| format!("cannot run {}: {error}", self.program.display()))?;
        if !output.status.success() {
            return Err(tool_message(&String::from_utf8_lossy(&output.stderr)));
        }
        String::from_utf8(output.stdout).map_err(|_| format!("`{}` printed text that is not UTF-8", self.name()))
    }
}

/// Kustomize's message out of kubectl's log line (`E1207 ... "command failed" err="..."`) or
/// kustomize's `Error: ...`.
fn tool_message(stderr: &str) -> String {
    let stderr = stderr.trim();
    if let Some((_, quoted)) = stderr.split_once(" err=\"") {
        let quoted = quoted.trim_end().strip_suffix('"').unwrap_or(quoted);
        return quoted.replace("\\\"", "\"").replace("\\\\", "\\");
    }
    stderr.lines().find_map(|l| l.strip_prefix("Error: ")).unwrap_or(stderr).to_string()
}

/// The name of a rendered stream in reports.
fn stream_name(dir: &Path, base: &Path) -> Arc<str> {
    format!("kustomize-build:{}", crate::input::display_path(dir, base)).into()
}

/// Renders `dir` (with `edits` applied) and returns its objects as resources, each carrying
/// `render: label` and pointing at the file and line that wrote it, plus diagnostics. Never
/// judges half a render: when the kustomization (or something it uses) cannot be read, includes
/// itself, or the tool fails, there are no resources and a located error. A remote base gives
/// no resources and one [`Unseen`] instead.
pub fn render(dir: &Path, edits: &Edits, label: &str, landing: Landing, base: &Path) -> Model {
    render_with(Tool::on_path().as_ref(), dir, edits, label, landing, base)
}

fn render_with(tool: Option<&Tool>, dir: &Path, edits: &Edits, label: &str, landing: Landing, base: &Path) -> Model {
    let base = canonical(base);
    let survey = survey(&[dir.to_path_buf()], &base);
    let Some(root) = survey.kustomizations.get(&canonical(dir)).cloned() else {
        let display = crate::input::display_path(dir, &base);
        return failed(Diagnostic::error(display.to_string(), None, "no kustomization.yaml, kustomization.yml or Kustomization here"));
    };
    if let Some(diagnostic) = unreadable(&survey, &root) {
        return failed(diagnostic);
    }
    if let Some(unseen) = not_in_scan(&survey, &root, label) {
        return Model { unseen: vec![unseen], ..Model::default() };
    }
    let Some(tool) = tool else {
        return failed(Diagnostic::error(root.display.to_string(), Some(root.start()), NO_TOOL));
    };
    let temp = match edits.is_empty() {
        true => None,
        false => match tempfile::tempdir().and_then(|temp| edits.write(&root, temp.path()).map(|()| temp)) {
            Ok(temp) => Some(temp),
            Err(error) => {
                return failed(Diagnostic::error(root.display.to_string(), Some(root.start()), format!("cannot write the edited kustomization: {error}")))
            }
        },
    };
    let rendered_in = temp.as_ref().map_or_else(|| root.dir.clone(), |t| canonical(t.path()));
    let output = match tool.build(&rendered_in) {
        Ok(output) => output,
        Err(message) => return failed(located_failure(&survey, &root, tool, &message)),
    };
    let stream = stream_name(&root.dir, &base);
    let docs = match yaml::load(&stream, &output, &Limits::default()) {
        Ok(docs) => docs,
        Err(diagnostic) => return failed(diagnostic),
    };
    let sources = trace::Sources::new(&survey, &root, edits, &rendered_in, &base);
    let render: Arc<str> = label.into();
    let mut model = Model { files_scanned: 1, ..Model::default() };
    for mut doc in docs {
        let lines = format!("kustomize build output lines {}-{}", doc.span.start_line, doc.span.end_line);
        sources.retarget(&mut doc.root);
        doc.span = doc.root.span.clone().unwrap_or(doc.span);
        for mut resource in crate::kubernetes::load_documents(vec![doc], landing) {
            resource.template = Some(lines.clone());
            resource.render = Some(render.clone());
            model.resources.push(resource);
        }
    }
    model
}

fn failed(diagnostic: Diagnostic) -> Model {
    Model { diagnostics: vec![diagnostic], ..Model::default() }
}

/// The first kustomization of the render that cannot be read or parsed, or a cycle.
fn unreadable(survey: &Survey, root: &Kustomization) -> Option<Diagnostic> {
    let dirs = survey::closure(&survey.kustomizations, &root.dir);
    dirs.iter().filter_map(|d| survey.kustomizations.get(d)).find_map(|k| k.error.clone()).or_else(|| survey::cycle(&survey.kustomizations, &root.dir))
}

/// Something the render needs that the scanned files do not hold, anywhere under `root`: a
/// remote base (never fetched), or a file that is not there (generator inputs are often made
/// when deploying, or kept out of git like a Secret's `.env`; a partial checkout lacks others).
/// The one marker that stands for the render: what it would deploy could not be decided.
fn not_in_scan(survey: &Survey, root: &Kustomization, label: &str) -> Option<Unseen> {
    let dirs = survey::closure(&survey.kustomizations, &root.dir);
    let missing = |r: &survey::Reference| match &r.target {
        Target::Remote(_) => true,
        Target::File(file) => !file.exists(),
        Target::Dir(_) => false,
    };
    let (k, reference) = dirs.iter().filter_map(|d| survey.kustomizations.get(d)).find_map(|k| k.references().into_iter().find(missing).map(|r| (k, r)))?;
    let reason = match reference.target {
        Target::Remote(_) => {
            format!("remote base {} is not fetched: render it and scan the output (`kubectl kustomize DIR | charterguard scan -`)", reference.text)
        }
        _ => {
            let hint =
                if matches!(reference.field, "configMapGenerator" | "secretGenerator") { " (generator inputs are often made when deploying)" } else { "" };
            format!(
                "{} entry {} is not in the scanned files{hint}: add it, or render where it exists and scan the output (`kubectl kustomize DIR | charterguard scan -`)",
                reference.field, reference.text
            )
        }
    };
    Some(Unseen {
        source: SourceKind::K8s,
        // Named like the render; its findings point at the remote entry.
        origin: LiveOrigin { id: label.to_string(), scope: String::new(), region: None, managed_by: None, environment: None },
        resource_types: crate::kubernetes::UNRENDERED_KINDS.iter().map(|k| k.to_string()).collect(),
        rule: None,
        reason,
        span: reference.span.unwrap_or_else(|| k.start()),
    })
}

/// The tool's failure, located at what it names: the patch whose target does not exist, the
/// entry naming a missing file, else the root kustomization.
fn located_failure(survey: &Survey, root: &Kustomization, tool: &Tool, message: &str) -> Diagnostic {
    let dirs = survey::closure(&survey.kustomizations, &root.dir);
    let kustomizations: Vec<&Arc<Kustomization>> = dirs.iter().filter_map(|d| survey.kustomizations.get(d)).collect();
    let span = patch_target(message).and_then(|(kind, name)| kustomizations.iter().find_map(|k| patch_naming(k, &kind, &name, &survey.base))).or_else(|| {
        // Kustomize quotes what it could not load, inside other quotes: any quoted piece.
        let pieces: Vec<&str> = message.split('\'').collect();
        kustomizations.iter().flat_map(|k| k.references()).find(|r| pieces.contains(&r.text.as_str())).and_then(|r| r.span)
    });
    let span = span.unwrap_or_else(|| root.start());
    let message = without_secrets(message, kustomizations.iter().flat_map(|k| k.secret_texts()).collect());
    Diagnostic::error(span.file.to_string(), Some(span), format!("`{}` failed: {message}", tool.name()))
}

/// `message` with every secret text replaced, longest first (a literal before its value).
/// Texts under four characters are left: they would blot out ordinary words, and are no
/// secrets worth the name.
fn without_secrets(message: &str, mut secrets: Vec<String>) -> String {
    secrets.retain(|s| s.chars().count() >= 4);
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.iter().fold(message.to_string(), |message, secret| message.replace(secret.as_str(), crate::redact::REDACTED))
}

/// The kind and name of `no resource matches strategic merge patch "Deployment.v1.apps/api.[noNs]"`.
fn patch_target(message: &str) -> Option<(String, String)> {
    let (_, rest) = message.split_once("patch \"")?;
    let id = rest.split('"').next()?;
    let (kind_version, name_ns) = id.split_once('/')?;
    let kind = kind_version.split('.').next()?;
    let name = name_ns.rsplit_once(".[").map_or(name_ns, |(name, _)| name);
    Some((kind.to_string(), name.to_string()))
}

/// Where a patch file of `k` names the object `kind`/`name` (its `metadata.name`).
fn patch_naming(k: &Kustomization, kind: &str, name: &str, base: &Path) -> Option<Span> {
    let files = k.references().into_iter().filter(|r| matches!(r.field, "patches" | "patchesStrategicMerge")).filter_map(|r| match r.target {
        Target::File(file) => Some(file),
        _ => None,
    });
    files.into_iter().find_map(|file| {
        let text = std::fs::read_to_string(&file).ok()?;
        let docs = yaml::load(&crate::input::display_path(&file, base), &text, &Limits::default()).ok()?;
        let named = |d: &&yaml::Document| {
            d.root.get("kind").and_then(|n| n.as_str()) == Some(kind) && d.root.path("metadata.name").and_then(|n| n.as_str()) == Some(name)
        };
        docs.iter().find(named).and_then(|d| d.root.path("metadata.name")).and_then(|n| n.span.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Node, Resource, Value};

    /// kubectl through tests/it/peers/kubectl.sh, which installs it when missing: a test that
    /// needs it fails without it.
    fn kubectl() -> Tool {
        let script = repository().join("tests/it/peers/kubectl.sh");
        let output = Command::new("sh").arg(&script).output().expect("running tests/it/peers/kubectl.sh");
        assert!(output.status.success(), "kubectl is needed: {}", String::from_utf8_lossy(&output.stderr));
        Tool { program: PathBuf::from(String::from_utf8(output.stdout).unwrap().trim()), kubectl: true }
    }

    fn repository() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    fn fixture(dir: &str) -> PathBuf {
        repository().join("fixtures/kustomize").join(dir)
    }

    fn rendered(dir: &str, edits: &Edits) -> Model {
        render_with(Some(&kubectl()), &fixture(dir), edits, &format!("kustomize overlay {dir}"), Landing::Kubectl, &repository())
    }

    fn resource<'m>(model: &'m Model, address: &str) -> &'m Resource {
        let addresses: Vec<&str> = model.resources.iter().map(|r| r.address.as_str()).collect();
        model.resources.iter().find(|r| r.address == address).unwrap_or_else(|| panic!("no {address} in {addresses:?} ({:?})", model.diagnostics))
    }

    /// The attribute at a dotted path, list items by index.
    fn attribute<'r>(resource: &'r Resource, path: &str) -> &'r Node {
        let mut node = &resource.attrs;
        for segment in path.split('.') {
            node = match (&node.value, segment.parse::<usize>()) {
                (Value::List(items), Ok(index)) => &items[index],
                _ => node.get(segment).unwrap_or_else(|| panic!("no {segment} of {path} in {}", resource.address)),
            };
        }
        node
    }

    /// Where the attribute at a dotted path points: `file:line:col`.
    fn at(resource: &Resource, path: &str) -> String {
        attribute(resource, path).span.as_ref().map_or_else(|| "-".to_string(), |s| s.to_string())
    }

    fn text<'r>(resource: &'r Resource, path: &str) -> Option<&'r str> {
        attribute(resource, path).as_str()
    }

    const PROD_WEB: &str = "Deployment altscore-api/web-prod";

    #[test]
    fn kustomize_attributes_point_at_the_patch_the_images_entry_or_the_base() {
        let model = rendered("overlays/prod", &Edits::default());
        assert!(model.diagnostics.is_empty() && model.unseen.is_empty(), "{:?}", model.diagnostics);
        let web = resource(&model, PROD_WEB);
        assert_eq!(web.span.to_string(), "fixtures/kustomize/base/deployment.yaml:3:1");
        assert_eq!(web.template.as_deref(), Some("kustomize build output lines 30-54"));
        assert_eq!(web.render.as_deref(), Some("kustomize overlay overlays/prod"));
        let container = "spec.template.spec.containers.0";
        assert_eq!(text(web, &format!("{container}.image")), Some("registry.example.com/web:latest"));
        // The strategic-merge patch set it; the patch's `name: app` only says which container.
        assert_eq!(at(web, &format!("{container}.securityContext.runAsNonRoot")), "fixtures/kustomize/overlays/prod/run-as-root.yaml:12:27");
        assert_eq!(at(web, &format!("{container}.name")), "fixtures/kustomize/base/deployment.yaml:20:17");
        assert_eq!(at(web, &format!("{container}.securityContext.allowPrivilegeEscalation")), "fixtures/kustomize/base/deployment.yaml:24:39");
        // `images:` changed the tag: its `newTag` line.
        assert_eq!(at(web, &format!("{container}.image")), "fixtures/kustomize/overlays/prod/kustomization.yaml:7:13");
        assert_eq!(at(web, "spec.template.spec.containers.1.image"), "fixtures/kustomize/base/deployment.yaml:26:18");
        // The derived attributes the rules read point where the object's do.
        assert_eq!(at(web, "containers.0.securityContext.runAsNonRoot"), "fixtures/kustomize/overlays/prod/run-as-root.yaml:12:27");
        assert_eq!(at(web, "pod_spec"), "fixtures/kustomize/base/deployment.yaml:18:5");
        assert_eq!(at(web, "metadata.namespace"), "fixtures/kustomize/overlays/prod/kustomization.yaml:1:12");
        assert_eq!(at(web, "metadata.name"), "fixtures/kustomize/base/deployment.yaml:6:9");
        assert_eq!(at(web, "apiVersion"), "fixtures/kustomize/base/deployment.yaml:3:13");
        let service = resource(&model, "Service altscore-api/web-prod");
        assert_eq!(at(service, "spec.ports.0.port"), "fixtures/kustomize/base/service.yaml:9:13");
        assert_eq!(service.span.start_line, 1);
    }

    #[test]
    fn kustomize_generated_objects_point_at_their_generator() {
        let model = rendered("overlays/prod", &Edits::default());
        let config = resource(&model, "ConfigMap altscore-api/web-settings-prod-hf678c7m2b");
        assert_eq!(config.span.to_string(), "fixtures/kustomize/overlays/prod/kustomization.yaml:11:5");
        assert_eq!(at(config, "data.LOG_LEVEL"), "fixtures/kustomize/overlays/prod/kustomization.yaml:13:9");
        let secret = resource(&model, "Secret altscore-api/web-credentials-prod-f5df7tmm87");
        assert_eq!(at(secret, "metadata.name"), "fixtures/kustomize/overlays/prod/kustomization.yaml:15:5");
        assert_eq!(at(secret, "data.DB_PASSWORD"), "fixtures/kustomize/overlays/prod/kustomization.yaml:17:9");
    }

    #[test]
    fn kustomize_component_json_patches_point_into_the_kustomization() {
        let model = rendered("overlays/dev", &Edits::default());
        let web = resource(&model, "Deployment altscore-dev/dev-web");
        let security = "spec.template.spec.containers.0.securityContext";
        assert_eq!(at(web, &format!("{security}.readOnlyRootFilesystem")), "fixtures/kustomize/components/hardening/kustomization.yaml:10:16");
        assert_eq!(at(web, &format!("{security}.runAsNonRoot")), "fixtures/kustomize/base/deployment.yaml:23:27");
        assert_eq!(at(web, "spec.template.spec.containers.0.image"), "fixtures/kustomize/base/deployment.yaml:21:18");
        assert_eq!(at(web, "metadata.namespace"), "fixtures/kustomize/overlays/dev/kustomization.yaml:2:12");
    }

    #[test]
    fn kustomize_origin_annotations_trace_and_are_dropped() {
        let model = rendered("overlays/traced", &Edits::default());
        assert_eq!(model.resources.len(), 3, "{:?}", model.diagnostics);
        for r in &model.resources {
            assert!(r.attrs.path("metadata.annotations").is_none(), "{} keeps its annotations", r.address);
        }
        // Two Services of one name, told apart by their namespace and origin.
        assert_eq!(resource(&model, "Service other/traced-web").span.to_string(), "fixtures/kustomize/overlays/traced/extra.yaml:1:1");
        assert_eq!(at(resource(&model, "Service other/traced-web"), "spec.ports.0.port"), "fixtures/kustomize/overlays/traced/extra.yaml:8:13");
        assert_eq!(at(resource(&model, "Service default/traced-web"), "spec.ports.0.port"), "fixtures/kustomize/base/service.yaml:9:13");
        let web = resource(&model, "Deployment default/traced-web");
        assert_eq!(at(web, "spec.replicas"), "fixtures/kustomize/base/deployment.yaml:10:13");
    }

    #[test]
    fn kustomize_remote_bases_are_undecided_not_fetched() {
        let model = rendered("overlays/remote", &Edits::default());
        assert!(model.resources.is_empty() && model.diagnostics.is_empty(), "{:?}", model.diagnostics);
        let [unseen] = model.unseen.as_slice() else { panic!("{:?}", model.unseen) };
        assert_eq!(unseen.span.to_string(), "fixtures/kustomize/overlays/remote/kustomization.yaml:3:5");
        assert_eq!(
            unseen.reason,
            "remote base https://github.com/example/platform//k8s/redis?ref=v1.2.0 is not fetched: render it and scan the output (`kubectl kustomize DIR | charterguard scan -`)"
        );
        assert_eq!(unseen.source, SourceKind::K8s);
        assert!(unseen.resource_types.iter().any(|k| k == "Deployment"));
        assert_eq!(unseen.origin.id, "kustomize overlay overlays/remote", "named like the render");
    }

    #[test]
    fn kustomize_files_not_in_the_scan_are_undecided() {
        for (dir, at, reason) in [
            ("broken/generated-env", "7:9", "secretGenerator entry api.env is not in the scanned files (generator inputs are often made when deploying): "),
            ("broken/missing-file", "3:5", "resources entry ingress.yaml is not in the scanned files: add it"),
        ] {
            let model = rendered(dir, &Edits::default());
            assert!(model.resources.is_empty() && model.diagnostics.is_empty(), "{:?}", model.diagnostics);
            let [unseen] = model.unseen.as_slice() else { panic!("{:?}", model.unseen) };
            assert_eq!(unseen.span.to_string(), format!("fixtures/kustomize/{dir}/kustomization.yaml:{at}"));
            assert!(unseen.reason.starts_with(reason), "{}", unseen.reason);
        }
    }

    #[test]
    fn kustomize_components_are_never_rendered_alone() {
        let survey = survey(&[fixture("components/hardening")], &repository());
        assert!(survey.roots.is_empty(), "{:?}", survey.roots);
        let [note] = survey.diagnostics.as_slice() else { panic!("{:?}", survey.diagnostics) };
        assert_eq!(note.level, crate::model::DiagnosticLevel::Note);
        assert!(note.message.contains("Component used by no scanned kustomization"), "{note}");
    }

    /// The built-in rules' findings on a model: `(rule, outcome, file:line:col)`, and messages.
    fn judged(model: Model) -> Vec<(String, crate::model::Outcome, String, String)> {
        let (rules, problems) = crate::engine::load_rules(&[]);
        assert!(problems.is_empty(), "{problems:?}");
        let findings = crate::engine::evaluate(&model.into(), &rules, &crate::config::Config::default()).unwrap();
        findings.into_iter().map(|f| (f.rule_id.clone(), f.outcome, f.span.to_string(), f.message.clone())).collect()
    }

    #[test]
    fn kustomize_findings_point_where_the_offending_value_was_written() {
        let findings = judged(rendered("overlays/prod", &Edits::default()));
        let at = |rule: &str| findings.iter().filter(|f| f.0 == rule && f.1 == crate::model::Outcome::Violation).map(|f| f.2.as_str()).collect::<Vec<_>>();
        // The patched container where the patch wrote `false`; the sidecar, which says nothing,
        // at its item of the base.
        assert_eq!(at("POD-001"), ["fixtures/kustomize/base/deployment.yaml:25:11", "fixtures/kustomize/overlays/prod/run-as-root.yaml:12:27"]);
        assert_eq!(at("IMG-002"), ["fixtures/kustomize/overlays/prod/kustomization.yaml:7:13"]);
    }

    #[test]
    fn kustomize_remote_bases_make_the_rules_undecided() {
        let findings = judged(rendered("overlays/remote", &Edits::default()));
        let pod = findings.iter().find(|f| f.0 == "POD-001").expect("POD-001 could not decide");
        assert_eq!(pod.1, crate::model::Outcome::Undecided);
        assert_eq!(pod.2, "fixtures/kustomize/overlays/remote/kustomization.yaml:3:5");
        assert!(
            pod.3.starts_with("kustomize overlay overlays/remote: remote base https://github.com/example/platform//k8s/redis?ref=v1.2.0 is not fetched"),
            "{}",
            pod.3
        );
        assert!(findings.iter().all(|f| f.1 == crate::model::Outcome::Undecided));
    }

    /// The render's one diagnostic, as `file:line:col: message`.
    fn failure(model: &Model) -> String {
        assert!(model.resources.is_empty(), "half a render was judged");
        let [diagnostic] = model.diagnostics.as_slice() else { panic!("{:?}", model.diagnostics) };
        assert!(diagnostic.is_error());
        diagnostic.to_string()
    }

    #[test]
    fn kustomize_failures_are_located_errors() {
        let target = failure(&rendered("broken/missing-target", &Edits::default()));
        assert!(target.starts_with("fixtures/kustomize/broken/missing-target/scale-api.yaml:4:9: `kubectl kustomize` failed: no resource matches"), "{target}");
        let selfish = failure(&rendered("broken/self", &Edits::default()));
        assert_eq!(
            selfish,
            "fixtures/kustomize/broken/self/kustomization.yaml:2:5: kustomization includes itself: fixtures/kustomize/broken/self/kustomization.yaml -> fixtures/kustomize/broken/self/kustomization.yaml"
        );
        let secret = failure(&rendered("broken/bad-secret", &Edits::default()));
        assert!(secret.starts_with("fixtures/kustomize/broken/bad-secret/kustomization.yaml:1:1: `kubectl kustomize` failed: "), "{secret}");
        assert!(secret.contains("invalid literal source <redacted>") && !secret.contains("hunter2"), "{secret}");
        let untooled = render_with(None, &fixture("overlays/prod"), &Edits::default(), "prod", Landing::Kubectl, &repository());
        assert_eq!(failure(&untooled), format!("fixtures/kustomize/overlays/prod/kustomization.yaml:1:1: {NO_TOOL}"));
    }

    #[test]
    fn kustomize_survey_finds_roots_used_files_and_cycles() {
        let dirs: Vec<PathBuf> = [
            "base",
            "components/hardening",
            "overlays/dev",
            "overlays/prod",
            "overlays/traced",
            "overlays/remote",
            "broken/self",
            "broken/loop-a",
            "broken/loop-b",
        ]
        .iter()
        .map(|d| fixture(d))
        .collect();
        let survey = survey(&dirs, &repository());
        let roots: Vec<String> = survey.roots.iter().map(|r| crate::input::display_path(r, &canonical(&repository())).to_string()).collect();
        let expected = ["broken/self", "overlays/dev", "overlays/prod", "overlays/remote", "overlays/traced"].map(|d| format!("fixtures/kustomize/{d}"));
        assert_eq!(roots, expected);
        for used in [
            "overlays/prod/run-as-root.yaml",
            "base/deployment.yaml",
            "base/kustomization.yaml",
            "components/hardening/kustomization.yaml",
            "overlays/traced/extra.yaml",
        ] {
            assert!(survey.uses(&fixture(used)), "{used}");
        }
        assert!(survey.uses(Path::new("fixtures/kustomize/overlays/dev/../prod/run-as-root.yaml")));
        assert!(!survey.uses(&fixture("broken/missing-target/scale-api.yaml")));
        // Only the loop no root reaches is the survey's to report.
        let [cycle] = survey.diagnostics.as_slice() else { panic!("{:?}", survey.diagnostics) };
        assert_eq!(
            cycle.to_string(),
            "fixtures/kustomize/broken/loop-b/kustomization.yaml:2:5: kustomization includes itself: fixtures/kustomize/broken/loop-a/kustomization.yaml -> fixtures/kustomize/broken/loop-b/kustomization.yaml -> fixtures/kustomize/broken/loop-a/kustomization.yaml"
        );
    }

    #[test]
    fn kustomize_edits_replace_what_the_directory_says() {
        let span = Span::new("argocd/web-dev.yaml".into(), 14, 7, 14, 20);
        let edits = Edits {
            name_prefix: Some("argo-".into()),
            namespace: Some("altscore-api".into()),
            images: vec!["registry.example.com/web=registry.example.com/web-fips:2.0".into()],
            common_labels: vec![("team".into(), "scoring".into())],
            span: Some(span.clone()),
            ..Edits::default()
        };
        let model = rendered("overlays/dev", &edits);
        // `namePrefix: dev-` is replaced, not wrapped (`argo-dev-web`).
        let web = resource(&model, "Deployment altscore-api/argo-web");
        assert_eq!(text(web, "spec.template.spec.containers.0.image"), Some("registry.example.com/web-fips:2.0"));
        assert_eq!(at(web, "spec.template.spec.containers.0.image"), span.to_string());
        assert_eq!(at(web, "metadata.namespace"), span.to_string());
        assert_eq!(text(web, "metadata.labels.team"), Some("scoring"));
        assert_eq!(
            at(web, "spec.template.spec.containers.0.securityContext.readOnlyRootFilesystem"),
            "fixtures/kustomize/components/hardening/kustomization.yaml:10:16"
        );
        assert_eq!(web.span.to_string(), "fixtures/kustomize/base/deployment.yaml:3:1");
    }

    #[test]
    fn kustomize_image_edits_merge_with_the_directory_images() {
        let edits = Edits { images: vec!["registry.example.com/web:1.5.0".into()], ..Edits::default() };
        let model = rendered("overlays/prod", &edits);
        let web = resource(&model, PROD_WEB);
        // The directory's own patch file was copied beside the edited kustomization, yet points home.
        assert_eq!(at(web, "spec.template.spec.containers.0.securityContext.runAsNonRoot"), "fixtures/kustomize/overlays/prod/run-as-root.yaml:12:27");
        assert_eq!(text(web, "spec.template.spec.containers.0.image"), Some("registry.example.com/web:1.5.0"));
        assert_eq!(resource(&model, "Secret altscore-api/web-credentials-prod-f5df7tmm87").span.start_line, 15);
    }

    /// `dir` of the fixtures copied to a temporary tree, its kustomization replaced by
    /// `kustomization`, and rendered there.
    fn rendered_in_place(dir: &str, kustomization: &str) -> String {
        let temp = tempfile::tempdir().unwrap();
        let copy = |from: &Path, to: &Path| Command::new("cp").arg("-r").arg(from).arg(to).status().unwrap().success();
        assert!(copy(&fixture(""), temp.path()));
        let copied = temp.path().join("kustomize").join(dir);
        std::fs::write(copied.join("kustomization.yaml"), kustomization).unwrap();
        kubectl().build(&copied).unwrap()
    }

    /// What `kustomize edit set nameprefix argo-`, `set namespace altscore-api`, `set image
    /// registry.example.com/web:1.5.0` and `add label --force team:scoring` leave in the
    /// directory (its `namePrefix: dev-` replaced) renders as the edits do from their
    /// temporary copy.
    #[test]
    fn kustomize_edits_render_as_editing_in_place_would() {
        let edits = Edits {
            name_prefix: Some("argo-".into()),
            namespace: Some("altscore-api".into()),
            images: vec!["registry.example.com/web:1.5.0".into()],
            common_labels: vec![("team".into(), "scoring".into())],
            ..Edits::default()
        };
        let temp = tempfile::tempdir().unwrap();
        let survey = survey(&[fixture("overlays/dev")], &repository());
        edits.write(&survey.kustomizations[&canonical(&fixture("overlays/dev"))], temp.path()).unwrap();
        let edited = kubectl().build(temp.path()).unwrap();
        let in_place = rendered_in_place(
            "overlays/dev",
            "namePrefix: argo-\nnamespace: altscore-api\ncommonLabels:\n  team: scoring\nresources:\n- ../../base\ncomponents:\n- ../../components/hardening\nimages:\n- name: registry.example.com/web\n  newTag: 1.5.0\n",
        );
        assert_eq!(edited, in_place);
        assert!(edited.contains("name: argo-web\n") && edited.contains("image: registry.example.com/web:1.5.0"), "{edited}");
    }

    #[test]
    fn kustomization_files_by_kustomize_names() {
        let temp = tempfile::tempdir().unwrap();
        assert_eq!(kustomization_file(temp.path()), None);
        std::fs::write(temp.path().join("Kustomization"), "resources: []\n").unwrap();
        assert_eq!(kustomization_file(temp.path()), Some(temp.path().join("Kustomization")));
        std::fs::write(temp.path().join("kustomization.yml"), "resources: []\n").unwrap();
        assert_eq!(kustomization_file(temp.path()), Some(temp.path().join("kustomization.yml")));
    }

    #[test]
    fn kustomize_messages_are_read_out_of_the_tools_logs() {
        let kubectl = "E1207 07:04:56.654674   32634 run.go:72] \"command failed\" err=\"no resource matches strategic merge patch \\\"Deployment.v1.apps/api.[noNs]\\\": no matches\"\n";
        let message = tool_message(kubectl);
        assert_eq!(message, "no resource matches strategic merge patch \"Deployment.v1.apps/api.[noNs]\": no matches");
        assert_eq!(patch_target(&message), Some(("Deployment".into(), "api".into())));
        assert_eq!(tool_message("Error: accumulating resources: x\n"), "accumulating resources: x");
    }

    #[test]
    fn kustomize_remote_entries_are_recognized() {
        for remote in ["https://github.com/a/b//c?ref=v1", "github.com/a/b/c?ref=main", "git@github.com:a/b.git", "git::https://x/y", "ssh://git@host/r"] {
            assert!(survey::looks_remote(remote), "{remote}");
        }
        for local in ["../../base", "deployment.yaml", "./base", ".hidden/x"] {
            assert!(!survey::looks_remote(local), "{local}");
        }
    }
}
