//! What kustomizations use, read from their files (YAML-parsed, never by running kustomize):
//! which directories are roots to render, which files are never judged raw, which bases are
//! remote, and which kustomizations include themselves.

use super::kustomization_file;
use crate::model::{Diagnostic, Node, Span, Value};
use crate::yaml::{self, Limits};
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// What the kustomizations among the scanned directories use.
#[derive(Debug, Default)]
pub struct Survey {
    /// Kustomization directories no other scanned kustomization uses: each is rendered.
    pub roots: Vec<PathBuf>,
    /// Every file a kustomization uses (directly or through a base or component directory),
    /// the kustomization files included: never judged raw. Paths are canonical (symlinks
    /// resolved; lexically normalized absolute paths for files that do not exist), as
    /// [`Survey::uses`] compares them.
    pub used: HashSet<PathBuf>,
    /// Located errors no render reports: kustomizations that only include one another (a
    /// cycle no root reaches). Errors inside what a root uses are reported by its render.
    pub diagnostics: Vec<Diagnostic>,
    /// Every kustomization read, by canonical directory.
    pub(super) kustomizations: HashMap<PathBuf, Arc<Kustomization>>,
    /// The canonical directory report paths are relative to.
    pub(super) base: PathBuf,
}

impl Survey {
    /// Whether a kustomization uses `file` (so it is judged through the render, not raw).
    pub fn uses(&self, file: &Path) -> bool {
        self.used.contains(&canonical(file))
    }
}

/// One kustomization file, parsed.
#[derive(Debug)]
pub(super) struct Kustomization {
    /// The canonical directory.
    pub dir: PathBuf,
    /// The canonical kustomization file.
    pub file: PathBuf,
    /// The file as reports name it.
    pub display: Arc<str>,
    /// The parsed file (an empty map when it does not parse).
    pub root: Node,
    /// The file's text, for inline patches' columns.
    pub text: String,
    /// Why the file could not be read or parsed.
    pub error: Option<Diagnostic>,
}

/// What a path-valued entry of a kustomization names.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Target {
    /// A directory (a base, a component, a transformer directory): canonical.
    Dir(PathBuf),
    /// A file (possibly missing): canonical.
    File(PathBuf),
    /// A URL kustomize would fetch.
    Remote(String),
}

/// A path-valued entry of a kustomization: the field, what it names, where it is written.
#[derive(Clone, Debug)]
pub(super) struct Reference {
    pub field: &'static str,
    pub text: String,
    pub target: Target,
    pub span: Option<Span>,
}

impl Kustomization {
    fn read(dir: &Path, file: &Path, base: &Path) -> Kustomization {
        let display = crate::input::display_path(file, base);
        let (text, root, error) = match std::fs::read_to_string(file) {
            Err(error) => (String::new(), None, Some(Diagnostic::error(display.to_string(), None, format!("cannot read kustomization: {error}")))),
            Ok(text) => match yaml::load(&display, &text, &Limits::default()) {
                Ok(mut docs) if docs.len() <= 1 => {
                    let root = docs.pop().map(|d| d.root).filter(|r| matches!(r.value, Value::Map(_)));
                    let error = root.is_none().then(|| Diagnostic::error(display.to_string(), Some(start_of(&display)), "kustomization is not a YAML mapping"));
                    (text, root, error)
                }
                Ok(_) => {
                    (text, None, Some(Diagnostic::error(display.to_string(), Some(start_of(&display)), "kustomization holds more than one YAML document")))
                }
                Err(diagnostic) => (text, None, Some(diagnostic)),
            },
        };
        let root = root.unwrap_or_else(|| Node::map(Vec::new(), None));
        Kustomization { dir: dir.to_path_buf(), file: file.to_path_buf(), display, root, text, error }
    }

    /// `kind: Component` (kustomize.config.k8s.io/v1alpha1).
    pub fn is_component(&self) -> bool {
        self.root.get("kind").and_then(Node::as_str) == Some("Component")
    }

    /// Every path-valued entry, in the order kustomize reads them.
    pub fn references(&self) -> Vec<Reference> {
        let mut out = Vec::new();
        for field in ["resources", "bases", "components"] {
            for node in self.list(field) {
                let Some(text) = node.as_str() else { continue };
                let target = if looks_remote(text) && !self.dir.join(text).exists() { Target::Remote(text.to_string()) } else { self.local(text) };
                out.push(Reference { field, text: text.to_string(), target, span: node.span.clone() });
            }
        }
        // Entries that hold YAML instead of a path (an inline patch, an inline transformer
        // configuration) span lines; paths do not.
        for field in ["crds", "patchesStrategicMerge", "transformers", "generators", "validators"] {
            self.push_paths(&mut out, field, self.list(field).iter().copied());
        }
        for field in ["patches", "patchesJson6902", "replacements"] {
            self.push_paths(&mut out, field, self.list(field).iter().filter_map(|entry| entry.get("path")));
        }
        for field in ["configMapGenerator", "secretGenerator"] {
            for generator in self.list(field) {
                let files = list_items(generator.get("files")).into_iter().map(|node| (node, node.as_str().map(|t| t.rsplit('=').next().unwrap_or(t))));
                let envs = list_items(generator.get("envs")).into_iter().chain(generator.get("env")).map(|node| (node, node.as_str()));
                for (node, text) in files.chain(envs) {
                    if let Some(text) = text {
                        out.push(Reference { field, text: text.to_string(), target: self.local(text), span: node.span.clone() });
                    }
                }
            }
        }
        let helm_values =
            self.list("helmCharts").into_iter().flat_map(|chart| chart.get("valuesFile").into_iter().chain(list_items(chart.get("additionalValuesFiles"))));
        self.push_paths(&mut out, "helmCharts", helm_values);
        self.push_paths(&mut out, "openapi", self.root.get("openapi").and_then(|o| o.get("path")));
        out
    }

    fn push_paths<'n>(&self, out: &mut Vec<Reference>, field: &'static str, nodes: impl IntoIterator<Item = &'n Node>) {
        for node in nodes {
            if let Some(text) = node.as_str().filter(|t| !t.contains('\n')) {
                out.push(Reference { field, text: text.to_string(), target: self.local(text), span: node.span.clone() });
            }
        }
    }

    fn local(&self, text: &str) -> Target {
        let path = canonical(&self.dir.join(text));
        if path.is_dir() {
            Target::Dir(path)
        } else {
            Target::File(path)
        }
    }

    /// The items of a list-valued field (none when absent or not a list).
    pub fn list(&self, field: &str) -> Vec<&Node> {
        list_items(self.root.get(field))
    }

    /// A string-valued field.
    pub fn string(&self, field: &str) -> Option<&Node> {
        self.root.get(field).filter(|n| n.as_str().is_some())
    }

    /// The directories this kustomization builds on (bases, components, directory resources).
    pub fn dirs(&self) -> Vec<(Reference, PathBuf)> {
        self.references()
            .into_iter()
            .filter(|r| matches!(r.field, "resources" | "bases" | "components"))
            .filter_map(|r| match &r.target {
                Target::Dir(dir) => Some((r.clone(), dir.clone())),
                _ => None,
            })
            .collect()
    }

    /// The values `secretGenerator` entries put in Secrets (literals, and the lines and values
    /// of the files they read), for keeping them out of kustomize's error messages, which
    /// quote a malformed literal whole.
    pub fn secret_texts(&self) -> Vec<String> {
        let mut out = Vec::new();
        for generator in self.list("secretGenerator") {
            for literal in list_items(generator.get("literals")).into_iter().filter_map(Node::as_str) {
                out.push(literal.to_string());
                out.extend(literal.split_once('=').map(|(_, value)| value.to_string()));
            }
            let files = list_items(generator.get("files")).into_iter().chain(list_items(generator.get("envs"))).chain(generator.get("env"));
            for file in files.filter_map(Node::as_str) {
                let path = self.dir.join(file.rsplit('=').next().unwrap_or(file));
                let text = std::fs::read_to_string(path).unwrap_or_default();
                for line in text.lines().map(str::trim) {
                    out.push(line.to_string());
                    out.extend(line.split_once('=').map(|(_, value)| value.to_string()));
                }
            }
        }
        out
    }

    /// Where a diagnostic about the whole file points.
    pub fn start(&self) -> Span {
        start_of(&self.display)
    }
}

fn start_of(display: &Arc<str>) -> Span {
    Span::new(display.clone(), 1, 1, 1, 1)
}

fn list_items(node: Option<&Node>) -> Vec<&Node> {
    match node.map(|n| &n.value) {
        Some(Value::List(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}

/// Whether a `resources` entry names something kustomize fetches: a URL, an scp-like git
/// address, or a `host.tld/org/repo` path as kustomize's remote loader reads them.
pub(super) fn looks_remote(text: &str) -> bool {
    text.contains("://")
        || text.starts_with("git@")
        || text.starts_with("git::")
        || text.contains("?ref=")
        || text.contains("?version=")
        || text.split('/').next().is_some_and(|host| host.contains('.') && !host.starts_with('.') && text.contains('/'))
}

/// `path` with symlinks resolved, or (when it does not exist) absolute and lexically normalized.
pub(super) fn canonical(path: &Path) -> PathBuf {
    if let Ok(path) = std::fs::canonicalize(path) {
        return path;
    }
    let absolute = if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(path) };
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Reads the kustomizations of `kustomization_dirs` and everything they build on. `base` is
/// the directory report paths are relative to.
pub fn survey(kustomization_dirs: &[PathBuf], base: &Path) -> Survey {
    let base = canonical(base);
    let mut survey = Survey { base: base.clone(), ..Survey::default() };
    let scanned: Vec<PathBuf> = kustomization_dirs.iter().map(|d| canonical(d)).collect();
    let mut pending = scanned.clone();
    while let Some(dir) = pending.pop() {
        if survey.kustomizations.contains_key(&dir) {
            continue;
        }
        let Some(file) = kustomization_file(&dir) else { continue };
        let kustomization = Kustomization::read(&dir, &canonical(&file), &base);
        survey.used.insert(kustomization.file.clone());
        for reference in kustomization.references() {
            match reference.target {
                Target::Dir(dir) => pending.push(dir),
                Target::File(file) => {
                    survey.used.insert(file);
                }
                Target::Remote(_) => {}
            }
        }
        survey.kustomizations.insert(dir, Arc::new(kustomization));
    }
    // A kustomization that includes only itself is still a root: its render reports the cycle.
    let used_dirs: HashSet<PathBuf> = survey.kustomizations.values().flat_map(|k| k.dirs().into_iter().map(|(_, d)| d).filter(move |d| d != &k.dir)).collect();
    let mut roots: Vec<PathBuf> = scanned.iter().filter(|d| survey.kustomizations.contains_key(*d) && !used_dirs.contains(*d)).cloned().collect();
    roots.sort();
    roots.dedup();
    // A component changes the kustomization that lists it and is built only through one: alone
    // it has nothing to patch.
    let (components, roots): (Vec<PathBuf>, Vec<PathBuf>) = roots.into_iter().partition(|dir| survey.kustomizations[dir].is_component());
    for dir in components {
        let display = &survey.kustomizations[&dir].display;
        survey.diagnostics.push(Diagnostic::note(
            display.to_string(),
            None,
            "kustomize Component used by no scanned kustomization: judged only through the kustomizations that list it",
        ));
    }
    let reached: HashSet<PathBuf> = roots.iter().flat_map(|root| closure(&survey.kustomizations, root)).collect();
    let mut unreached: Vec<&PathBuf> = survey.kustomizations.keys().filter(|d| !reached.contains(*d)).collect();
    unreached.sort();
    // One error per cycle, from the first of its kustomizations.
    let mut reported: HashSet<PathBuf> = HashSet::new();
    for dir in unreached {
        if let Some((diagnostic, members)) = find_cycle(&survey.kustomizations, dir, &mut Vec::new(), &mut HashSet::new()).filter(|_| !reported.contains(dir)) {
            survey.diagnostics.push(diagnostic);
            reported.extend(members);
        }
    }
    survey.roots = roots;
    survey
}

/// Every kustomization directory `root` builds on, itself included.
pub(super) fn closure(kustomizations: &HashMap<PathBuf, Arc<Kustomization>>, root: &Path) -> Vec<PathBuf> {
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        if seen.contains(&dir) {
            continue;
        }
        if let Some(k) = kustomizations.get(&dir) {
            pending.extend(k.dirs().into_iter().map(|(_, d)| d));
        }
        seen.push(dir);
    }
    seen
}

/// The first cycle reachable from `root`, as an error at the entry that closes it: kustomize
/// would fail on it too, but its message names no line.
pub(super) fn cycle(kustomizations: &HashMap<PathBuf, Arc<Kustomization>>, root: &Path) -> Option<Diagnostic> {
    find_cycle(kustomizations, root, &mut Vec::new(), &mut HashSet::new()).map(|(diagnostic, _)| diagnostic)
}

/// Depth first from `dir`: the error and the cycle's directories.
fn find_cycle(
    kustomizations: &HashMap<PathBuf, Arc<Kustomization>>,
    dir: &Path,
    stack: &mut Vec<PathBuf>,
    done: &mut HashSet<PathBuf>,
) -> Option<(Diagnostic, Vec<PathBuf>)> {
    let k = kustomizations.get(dir)?;
    if done.contains(dir) {
        return None;
    }
    stack.push(dir.to_path_buf());
    for (reference, next) in k.dirs() {
        if let Some(start) = stack.iter().position(|d| d == &next) {
            let chain: Vec<&str> = stack[start..].iter().filter_map(|d| kustomizations.get(d)).map(|k| &*k.display).collect();
            let message = format!("kustomization includes itself: {} -> {}", chain.join(" -> "), kustomizations[&next].display);
            let diagnostic = Diagnostic::error(k.display.to_string(), reference.span.or_else(|| Some(k.start())), message);
            return Some((diagnostic, stack[start..].to_vec()));
        }
        if let Some(found) = find_cycle(kustomizations, &next, stack, done) {
            return Some(found);
        }
    }
    stack.pop();
    done.insert(dir.to_path_buf());
    None
}
